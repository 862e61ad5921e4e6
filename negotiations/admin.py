"""The Django admin, where editors curate everything.

A round is edited on one page: its hosts, sources, delegations, outcomes, positions and
statements are inlines. Django's admin does not nest inlines, so a delegation's members
and a claim's sources are edited one click away (the inline's "change" link) and shown
read-only on the round's page. Every page has a History button (django-simple-history).
"""

from django.contrib import admin, messages
from django.db.models import Count
from django.utils.html import format_html_join
from simple_history.admin import SimpleHistoryAdmin

from . import derived, models


def _relations(model) -> list[str]:
    """The names of a model's foreign keys."""
    return [field.name for field in model._meta.fields if field.is_relation]


class HistoryAdmin(SimpleHistoryAdmin):
    """SimpleHistoryAdmin, minus its `select_related()` without arguments for models
    without foreign keys (deprecated in Django 6.1)."""

    def get_history_queryset(self, request, history_manager, pk_name, object_id):
        related = _relations(self.model)
        records = history_manager.filter(**{pk_name: object_id}).select_related("history_user")
        return records.select_related(*related) if related else records


def _sources(obj) -> str:
    if not obj.pk:
        return "—"
    keys = [source.key for source in obj.sources.all()]
    return ", ".join(keys) or "— none yet —"


_sources.short_description = "sources"


class RoundHostInline(admin.TabularInline):
    model = models.RoundHost
    autocomplete_fields = ["party"]
    extra = 0
    verbose_name = "host"


class RoundCitationInline(admin.TabularInline):
    model = models.RoundCitation
    autocomplete_fields = ["source"]
    extra = 0
    verbose_name = "source"


class DelegationInline(admin.TabularInline):
    model = models.Delegation
    autocomplete_fields = ["party"]
    readonly_fields = ["member_list"]
    show_change_link = True
    extra = 0

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("members__person")

    @admin.display(description="members (edit through “change”)")
    def member_list(self, obj) -> str:
        if not obj.pk:
            return "—"
        return (
            format_html_join(
                ", ",
                "{}{}",
                (
                    (member.person.name, " (head)" if member.is_head else "")
                    for member in obj.members.all()
                ),
            )
            or "— none yet —"
        )


class CitingInline:
    """An inline whose rows show their sources: fetched in one query for all rows."""

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("sources")


class OutcomeInline(CitingInline, admin.TabularInline):
    model = models.Outcome
    autocomplete_fields = ["issue"]
    readonly_fields = [_sources]
    show_change_link = True
    extra = 0


class PositionInline(CitingInline, admin.StackedInline):
    model = models.Position
    autocomplete_fields = ["party", "issue", "responds_to"]
    readonly_fields = [_sources]
    show_change_link = True
    extra = 0


class StatementInline(CitingInline, admin.StackedInline):
    model = models.Statement
    autocomplete_fields = ["person"]
    readonly_fields = [_sources]
    show_change_link = True
    extra = 0


@admin.register(models.Negotiation)
class NegotiationAdmin(HistoryAdmin):
    list_display = ["title", "slug", "status", "started_on", "ended_on", "round_count"]
    list_filter = ["status"]
    search_fields = ["title", "slug", "summary"]
    prepopulated_fields = {"slug": ["title"]}

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(round_count=Count("rounds"))

    @admin.display(description="rounds", ordering="round_count")
    def round_count(self, obj) -> int:
        return obj.round_count


@admin.register(models.Party)
class PartyAdmin(HistoryAdmin):
    list_display = ["name", "slug", "kind"]
    list_filter = ["kind"]
    search_fields = ["name", "slug", "aliases"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(models.Person)
class PersonAdmin(HistoryAdmin):
    list_display = ["name", "slug", "party", "title"]
    list_filter = ["party"]
    list_select_related = ["party"]
    search_fields = ["name", "slug", "aliases", "title"]
    autocomplete_fields = ["party"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(models.Issue)
class IssueAdmin(HistoryAdmin):
    list_display = ["title", "slug", "negotiation", "order"]
    list_filter = ["negotiation"]
    list_select_related = ["negotiation"]
    search_fields = ["title", "slug", "description"]
    autocomplete_fields = ["negotiation"]
    ordering = ["negotiation", "order"]


@admin.register(models.Source)
class SourceAdmin(HistoryAdmin):
    list_display = ["key", "title", "publisher", "published_on", "negotiation"]
    list_filter = ["negotiation", "publisher"]
    list_select_related = ["negotiation"]
    search_fields = ["key", "title", "publisher", "author", "url"]
    autocomplete_fields = ["negotiation"]
    date_hierarchy = "published_on"


@admin.register(models.Round)
class RoundAdmin(HistoryAdmin):
    list_display = ["number", "title", "negotiation", "start_date", "status", "format", "published"]
    list_display_links = ["number", "title"]
    list_filter = ["negotiation", "status", "published", "format"]
    list_select_related = ["negotiation"]
    search_fields = ["title", "summary", "location"]
    date_hierarchy = "start_date"
    ordering = ["negotiation", "-number"]
    autocomplete_fields = ["negotiation"]
    show_full_result_count = False
    actions = ["publish", "unpublish"]
    inlines = [
        RoundHostInline,
        RoundCitationInline,
        DelegationInline,
        OutcomeInline,
        PositionInline,
        StatementInline,
    ]
    fieldsets = [
        (None, {"fields": ["negotiation", "number", "title", "status", "published"]}),
        ("When and where", {"fields": ["start_date", "end_date", "location", "format"]}),
        (None, {"fields": ["summary"]}),
    ]

    def save_related(self, request, form, formsets, change) -> None:
        # Each issue's changes and chains are worked out once, after all the inline rows.
        with derived.deferred(form.instance.negotiation):
            super().save_related(request, form, formsets, change)

    def has_publish_permission(self, request) -> bool:
        return request.user.has_perm("negotiations.publish_round")

    @admin.action(description="Publish the selected rounds", permissions=["publish"])
    def publish(self, request, queryset):
        self._set_published(request, queryset, True)

    @admin.action(description="Unpublish the selected rounds", permissions=["publish"])
    def unpublish(self, request, queryset):
        self._set_published(request, queryset, False)

    def _set_published(self, request, queryset, published: bool) -> None:
        # One save per round, so that each change is in the round's history.
        changed = 0
        for round_ in queryset.exclude(published=published):
            round_.published = published
            round_._change_reason = "Published" if published else "Unpublished"
            round_.save(update_fields=["published", "updated_at"])
            changed += 1
        verb = "published" if published else "unpublished"
        self.message_user(request, f"{changed} round(s) {verb}.", messages.SUCCESS)


class MemberInline(admin.TabularInline):
    model = models.DelegationMember
    autocomplete_fields = ["person"]
    extra = 1


@admin.register(models.Delegation)
class DelegationAdmin(HistoryAdmin):
    list_display = ["__str__", "party", "round"]
    list_filter = ["round__negotiation", "party"]
    list_select_related = ["party", "round", "round__negotiation"]
    search_fields = ["party__name", "round__title"]
    autocomplete_fields = ["round", "party"]
    inlines = [MemberInline]


@admin.register(models.DelegationMember)
class DelegationMemberAdmin(HistoryAdmin):
    list_display = ["person", "role", "is_head", "delegation"]
    list_filter = ["is_head", "delegation__party"]
    list_select_related = ["person", "delegation__party", "delegation__round"]
    search_fields = ["person__name", "role"]
    autocomplete_fields = ["delegation", "person"]


class OutcomeCitationInline(admin.TabularInline):
    model = models.OutcomeCitation
    autocomplete_fields = ["source"]
    extra = 1
    verbose_name = "source"


class PositionCitationInline(OutcomeCitationInline):
    model = models.PositionCitation


class StatementCitationInline(OutcomeCitationInline):
    model = models.StatementCitation


@admin.register(models.Outcome)
class OutcomeAdmin(HistoryAdmin):
    list_display = ["issue", "status", "round"]
    list_filter = ["status", "round__negotiation", "issue"]
    list_select_related = ["issue", "round", "round__negotiation"]
    search_fields = ["text", "issue__title"]
    autocomplete_fields = ["round", "issue"]
    inlines = [OutcomeCitationInline]


@admin.register(models.Position)
class PositionAdmin(HistoryAdmin):
    list_display = ["__str__", "stance", "party", "issue", "round", "key"]
    list_filter = ["stance", "round__negotiation", "party", "issue"]
    list_select_related = ["party", "issue", "round", "round__negotiation"]
    search_fields = ["text", "key", "party__name", "issue__title"]
    autocomplete_fields = ["round", "party", "issue", "responds_to"]
    inlines = [PositionCitationInline]


@admin.register(models.Statement)
class StatementAdmin(HistoryAdmin):
    list_display = ["__str__", "person", "said_on", "round"]
    list_filter = ["round__negotiation", "language"]
    list_select_related = ["person", "round", "round__negotiation"]
    search_fields = ["text", "original", "person__name"]
    autocomplete_fields = ["round", "person"]
    date_hierarchy = "said_on"
    inlines = [StatementCitationInline]


@admin.register(
    models.RoundHost,
    models.RoundCitation,
    models.OutcomeCitation,
    models.PositionCitation,
    models.StatementCitation,
)
class LinkAdmin(HistoryAdmin):
    """The link tables, registered so that their history can be browsed too."""

    def get_list_select_related(self, request):
        return _relations(self.model)

    def get_autocomplete_fields(self, request):
        return _relations(self.model)
