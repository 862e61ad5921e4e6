"""Parley's domain: negotiations, their rounds, and what was said and agreed in them.

The vocabularies (nested ``TextChoices``) are those of the parley/1 interchange format;
the invariants of that format are database constraints, each with a name.
"""

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator, URLValidator
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from simple_history.models import HistoricalRecords

SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
validate_parley_slug = RegexValidator(
    SLUG_PATTERN,
    "Use lowercase ASCII letters, digits and single hyphens (e.g. “security-guarantees”).",
)


def SlugField(**kwargs) -> models.CharField:  # noqa: N802 - reads like a field class
    """A parley/1 identifier: lowercase ASCII, digits and single hyphens."""
    kwargs.setdefault("max_length", 100)
    return models.CharField(validators=[validate_parley_slug], **kwargs)


# Links readers can follow: http(s) only, never javascript: or data: (the importer
# enforces the same rule).
WEB_ONLY = URLValidator(schemes=["http", "https"])


class Negotiation(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        PAUSED = "paused", "Paused"
        CONCLUDED = "concluded", "Concluded"

    slug = SlugField(unique=True, help_text="Permanent identifier used in URLs and files.")
    title = models.CharField(max_length=300)
    summary = models.TextField(blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.ACTIVE)
    started_on = models.DateField(null=True, blank=True)
    ended_on = models.DateField(null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["title"]
        permissions = [("import_negotiation", "Can import parley/1 files")]
        constraints = [
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True)
                | Q(started_on__isnull=True)
                | Q(ended_on__gte=F("started_on")),
                name="negotiation_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("negotiation", args=[self.slug])


class Party(models.Model):
    class Kind(models.TextChoices):
        STATE = "state", "State"
        ORGANISATION = "organisation", "Organisation"
        ARMED_GROUP = "armed-group", "Armed group"
        MEDIATOR = "mediator", "Mediator"
        OTHER = "other", "Other"

    slug = SlugField(unique=True)
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.STATE)
    aliases = models.JSONField(
        default=list, blank=True, help_text="Other names, e.g. “Russian Federation”."
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "parties"

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("party", args=[self.slug])


class Person(models.Model):
    slug = SlugField(unique=True)
    name = models.CharField(max_length=200)
    aliases = models.JSONField(
        default=list,
        blank=True,
        help_text="Other spellings and transliterations, e.g. “Mykhailo Podoliyak”.",
    )
    party = models.ForeignKey(
        Party,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="people",
        help_text="The party this person speaks for.",
    )
    title = models.CharField(max_length=300, blank=True, help_text="Office or function.")
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "people"

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("person", args=[self.slug])


class Issue(models.Model):
    negotiation = models.ForeignKey(Negotiation, on_delete=models.CASCADE, related_name="issues")
    slug = SlugField()
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    order = models.PositiveIntegerField(default=0, help_text="Place on the agenda, first is 0.")
    history = HistoricalRecords()

    class Meta:
        ordering = ["negotiation", "order", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["negotiation", "slug"], name="issue_slug_unique_per_negotiation"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("issue", args=[self.negotiation.slug, self.slug])


class Source(models.Model):
    negotiation = models.ForeignKey(Negotiation, on_delete=models.CASCADE, related_name="sources")
    key = SlugField(help_text="Short identifier, unique within the negotiation.")
    url = models.URLField(max_length=1000, blank=True, validators=[WEB_ONLY])
    title = models.CharField(max_length=500, blank=True)
    publisher = models.CharField(max_length=200, blank=True)
    author = models.CharField(max_length=200, blank=True)
    published_on = models.DateField(null=True, blank=True)
    # null, not "": parley/1 tells "no archived copy" (null) apart from an empty text.
    archived_url = models.URLField(  # noqa: DJ001
        max_length=1000,
        null=True,
        blank=True,
        validators=[WEB_ONLY],
        help_text="A durable copy (web archive).",
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["negotiation", "key"]
        constraints = [
            models.UniqueConstraint(
                fields=["negotiation", "key"], name="source_key_unique_per_negotiation"
            ),
        ]

    def __str__(self) -> str:
        return self.title or self.url or self.key


class RoundQuerySet(models.QuerySet):
    def published(self):
        return self.filter(published=True)

    def newest_first(self):
        return self.order_by(F("start_date").desc(nulls_first=True), "-number")

    def held(self):
        return self.filter(status=Round.Status.HELD)

    def chronological(self):
        return self.order_by(F("start_date").asc(nulls_last=True), "number")

    def for_timeline(self):
        """Rounds carrying everything their timeline entry shows (see `TimelineIterable`,
        which takes the place of the model iterable, as `values()` puts its own)."""
        rounds = self.all()
        rounds._iterable_class = TimelineIterable
        return rounds


class TimelineIterable(models.query.ModelIterable):
    """Rounds with what a timeline entry shows, as plain values read for all of them at
    once: `host_list` (party names), `outcome_list` ((status, label, issue title), in
    agenda order) and `delegation_list` ((party name, [head names])).

    Four queries however many rounds, and no model instance but the rounds': a page of
    25 entries holds about 400 hosts, outcomes, delegations and heads, and building
    each as a model (or through `prefetch_related`) cost more than the rest of the page."""

    def __iter__(self):
        rounds = list(super().__iter__())
        by_id = {round_.pk: round_ for round_ in rounds}
        for round_ in rounds:
            round_.host_list, round_.outcome_list, round_.delegation_list = [], [], []
        if not rounds:
            return iter(rounds)
        hosts = RoundHost.objects.filter(round__in=by_id).order_by("id")
        for round_id, name in hosts.values_list("round_id", "party__name"):
            by_id[round_id].host_list.append(name)
        outcomes = Outcome.objects.filter(round__in=by_id).order_by("issue__order", "issue_id")
        for round_id, status, title in outcomes.values_list("round_id", "status", "issue__title"):
            by_id[round_id].outcome_list.append((status, Outcome.Status(status).label, title))
        heads = {}
        delegations = Delegation.objects.filter(round__in=by_id).order_by("id")
        for round_id, pk, party in delegations.values_list("round_id", "pk", "party__name"):
            heads[pk] = []
            by_id[round_id].delegation_list.append((party, heads[pk]))
        members = DelegationMember.objects.filter(delegation__in=heads, is_head=True)
        for delegation_id, name in members.order_by("id").values_list(
            "delegation_id", "person__name"
        ):
            heads[delegation_id].append(name)
        return iter(rounds)


class Round(models.Model):
    class Status(models.TextChoices):
        HELD = "held", "Held"
        SCHEDULED = "scheduled", "Scheduled"
        POSTPONED = "postponed", "Postponed"
        CANCELLED = "cancelled", "Cancelled"

    class Format(models.TextChoices):
        IN_PERSON = "in-person", "In person"
        VIDEO = "video", "Video"
        MIXED = "mixed", "Mixed"

    negotiation = models.ForeignKey(Negotiation, on_delete=models.CASCADE, related_name="rounds")
    number = models.PositiveIntegerField(help_text="Unique within the negotiation.")
    title = models.CharField(max_length=300, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.HELD)
    published = models.BooleanField(default=False, help_text="Readers see published rounds only.")
    start_date = models.DateField(null=True, blank=True)
    end_date = models.DateField(null=True, blank=True)
    location = models.CharField(max_length=300, blank=True)
    format = models.CharField(  # noqa: DJ001 - null means "not reported", as in parley/1
        max_length=20, choices=Format.choices, null=True, blank=True
    )
    hosts = models.ManyToManyField(
        Party, through="RoundHost", blank=True, related_name="hosted_rounds"
    )
    summary = models.TextField(blank=True)
    sources = models.ManyToManyField(
        Source, through="RoundCitation", blank=True, related_name="rounds"
    )
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(
        default=1, editable=False, help_text="Goes up by one with every save (optimistic locking)."
    )
    history = HistoricalRecords(excluded_fields=["updated_at"])

    objects = RoundQuerySet.as_manager()

    class Meta:
        ordering = ["negotiation", "number"]
        permissions = [
            ("publish_round", "Can publish and unpublish rounds"),
            ("restore_round", "Can restore an earlier version of a round"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["negotiation", "number"], name="round_number_unique_per_negotiation"
            ),
            models.CheckConstraint(condition=Q(number__gte=1), name="round_number_positive"),
            models.CheckConstraint(
                condition=Q(end_date__isnull=True)
                | Q(start_date__isnull=True)
                | Q(end_date__gte=F("start_date")),
                name="round_ends_after_start",
            ),
        ]
        indexes = [
            models.Index(
                fields=["negotiation", "published", "start_date", "number"],
                name="round_timeline_idx",
            ),
            # The API's Last-Modified and `updated_since`: the latest save, read off the end.
            models.Index(fields=["negotiation", "updated_at"], name="round_saved_idx"),
        ]

    def __str__(self) -> str:
        return self.title or f"Round {self.number}"

    def save(self, *args, **kwargs) -> None:
        # Every save of an existing round makes a new version, so that an edit begun on an
        # older one can be recognised as a conflict (see views/analyst.py).
        if not self._state.adding:
            self.version += 1
        saved = getattr(self, "_saved", {})
        super().save(*args, **kwargs)
        now = self._copied()
        changed = {name for name, value in saved.items() if now.get(name, value) != value}
        if changed & {"negotiation_id", "published"}:
            # Its parts carry both (see InRound).
            for model in IN_ROUND:
                model.objects.filter(round=self).update(
                    negotiation=self.negotiation_id, published=self.published
                )
        if changed & {"published", "start_date", "number"}:
            DelegationMember.objects.filter(delegation__round=self).update(
                published=self.published, **self.dates_copy()
            )
        if changed & {"start_date", "number"}:
            self.positions.update(**self.dates_copy())
        # Where it stands in its issues' histories (held rounds only) and chains of
        # answers (see derived).
        from . import derived

        derived.rework(
            moves=self.outcomes.values_list("issue", flat=True)
            if changed & {"published", "status", "start_date", "number"}
            else (),
            chains=self.positions.values_list("issue", flat=True)
            if changed & {"published", "start_date", "number"}
            else (),
        )
        self._saved = now

    def get_absolute_url(self) -> str:
        return reverse("round", args=[self.negotiation.slug, self.number])

    def _copied(self) -> dict:
        """The values of the COPIED fields, as loaded."""
        return {name: self.__dict__[name] for name in COPIED if name in self.__dict__}

    def dates_copy(self) -> dict:
        """What a row keeping the round's place in time keeps of it (see RoundDates)."""
        return {"round_start_date": self.start_date, "round_number": self.number}

    @classmethod
    def from_db(cls, db, field_names, values, **kwargs):
        round_ = super().from_db(db, field_names, values, **kwargs)
        round_._saved = round_._copied()
        return round_

    @property
    def ended_on(self):
        return self.end_date or self.start_date


# The fields of a round whose change reaches its rows: their copies (InRound,
# DelegationMember, Position) and the issues' histories and chains (derived).
COPIED = ("negotiation_id", "published", "status", "start_date", "number")


class InRoundQuerySet(models.QuerySet):
    def bulk_create(self, objs, *args, **kwargs):
        """Fill in each row's negotiation and state from its round where the caller did
        not (`round.hosts.add()` bulk-creates its rows, and skips `save`)."""
        objs = list(objs)
        missing = {obj.round_id for obj in objs if obj.negotiation_id is None}
        if missing:
            rounds = Round.objects.filter(pk__in=missing).values_list(
                "pk", "negotiation_id", "published"
            )
            state = {pk: (negotiation, published) for pk, negotiation, published in rounds}
            for obj in objs:
                if obj.negotiation_id is None:
                    obj.negotiation_id, obj.published = state[obj.round_id]
        return super().bulk_create(objs, *args, **kwargs)


class RoundDates(models.Model):
    """A row's copy of its round's start date and number, kept equal by its `save` and by
    `Round.save`: rows are then read in their rounds' order off an index of their own
    (a person's rounds, a party's positions on an issue), not sorted from thousands of
    rounds."""

    round_start_date = models.DateField(null=True, editable=False)
    round_number = models.PositiveIntegerField(null=True, editable=False)

    class Meta:
        abstract = True

    def copy_dates(self, round_: "Round") -> None:
        for name, value in round_.dates_copy().items():
            setattr(self, name, value)


class InRound(models.Model):
    """A row of one round that also carries the round's negotiation and whether it is
    published, kept equal to them by `save` and by `Round.save`. What readers may see of
    a negotiation (the parties taking part, the outcomes, positions and statements a
    search or a page lists) is then read from the row's own indexes, with no join to
    10,000 rounds to check each row's."""

    negotiation = models.ForeignKey(
        "Negotiation", on_delete=models.CASCADE, related_name="+", editable=False
    )
    published = models.BooleanField(default=False, editable=False)

    objects = InRoundQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs) -> None:
        self.negotiation_id = self.round.negotiation_id
        self.published = self.round.published
        super().save(*args, **kwargs)

    @classmethod
    def from_db(cls, db, field_names, values, **kwargs):
        row = super().from_db(db, field_names, values, **kwargs)
        if "issue_id" in row.__dict__:  # a row moved to another issue leaves it (derived)
            row._loaded_issue = row.issue_id
        return row


class RoundHost(InRound):
    round = models.ForeignKey(Round, on_delete=models.CASCADE)
    party = models.ForeignKey(Party, on_delete=models.PROTECT)
    history = HistoricalRecords()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["round", "party"], name="round_host_unique"),
        ]
        indexes = [
            models.Index(fields=["negotiation", "published", "party"], name="roundhost_taking_part")
        ]

    def __str__(self) -> str:
        return f"{self.party} hosts {self.round}"


class Delegation(InRound):
    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="delegations")
    party = models.ForeignKey(Party, on_delete=models.PROTECT, related_name="delegations")
    history = HistoricalRecords()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["round", "party"], name="one_delegation_per_party_per_round"
            ),
        ]
        indexes = [
            models.Index(
                fields=["negotiation", "published", "party"], name="delegation_taking_part"
            )
        ]

    def __str__(self) -> str:
        return f"{self.party} at {self.round}"

    def save(self, *args, **kwargs) -> None:
        adding = self._state.adding
        super().save(*args, **kwargs)
        if not adding:  # it may have moved to another round
            self.members.update(published=self.round.published, **self.round.dates_copy())


class DelegationMemberQuerySet(models.QuerySet):
    def bulk_create(self, objs, *args, **kwargs):
        """Fill in each row's copy of its round where the caller did not."""
        objs = list(objs)
        missing = {obj.delegation_id for obj in objs if obj.round_number is None}
        if missing:
            rounds = {
                delegation.pk: delegation.round
                for delegation in Delegation.objects.filter(pk__in=missing).select_related("round")
            }
            for obj in objs:
                if obj.round_number is None:
                    obj.copy_round(rounds[obj.delegation_id])
        return super().bulk_create(objs, *args, **kwargs)


class DelegationMember(RoundDates):
    delegation = models.ForeignKey(Delegation, on_delete=models.CASCADE, related_name="members")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="memberships")
    role = models.CharField(max_length=300, blank=True)
    is_head = models.BooleanField(default=False, help_text="Led the delegation.")
    # A copy of the round's state, kept equal like its dates (RoundDates) and by
    # `Delegation.save`: a person's rounds, newest first, are read off one index
    # (migration 0008).
    published = models.BooleanField(default=False, editable=False)
    history = HistoricalRecords()

    objects = DelegationMemberQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        # membership_by_person_idx: see migration 0008.
        constraints = [
            models.UniqueConstraint(
                fields=["delegation", "person"], name="person_once_per_delegation"
            ),
            models.UniqueConstraint(
                fields=["delegation"],
                condition=Q(is_head=True),
                name="one_head_per_delegation",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person} ({self.role})" if self.role else str(self.person)

    def save(self, *args, **kwargs) -> None:
        self.copy_round(self.delegation.round)
        super().save(*args, **kwargs)

    def copy_round(self, round_: Round) -> None:
        self.published = round_.published
        self.copy_dates(round_)


class Outcome(InRound):
    class Status(models.TextChoices):
        NOT_DISCUSSED = "not-discussed", "Not discussed"
        RAISED = "raised", "Raised"
        UNDER_DISCUSSION = "under-discussion", "Under discussion"
        PARTIALLY_AGREED = "partially-agreed", "Partially agreed"
        AGREED = "agreed", "Agreed"
        IMPLEMENTED = "implemented", "Implemented"
        BREACHED = "breached", "Breached"
        STALLED = "stalled", "Stalled"
        DEFERRED = "deferred", "Deferred"
        REJECTED = "rejected", "Rejected"
        WITHDRAWN = "withdrawn", "Withdrawn"

    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="outcomes")
    issue = models.ForeignKey(Issue, on_delete=models.CASCADE, related_name="outcomes")
    status = models.CharField(max_length=20, choices=Status.choices)
    text = models.TextField(blank=True)
    sources = models.ManyToManyField(
        Source, through="OutcomeCitation", blank=True, related_name="outcomes"
    )
    move = models.PositiveIntegerField(
        null=True,
        editable=False,
        help_text="Its place among the outcomes that changed the issue's status (derived).",
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["round", "issue"], name="one_outcome_per_issue_per_round"
            ),
        ]
        indexes = [
            # The rounds taking an issue up (its page), read from the index alone.
            models.Index(fields=["issue", "published", "round"], name="outcome_issue_round_idx"),
            models.Index(
                fields=["issue", "move"], condition=Q(move__isnull=False), name="outcome_moves_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.issue}: {self.get_status_display()}"

    def clean(self) -> None:
        if (
            self.round_id
            and self.issue_id
            and self.issue.negotiation_id != self.round.negotiation_id
        ):
            raise ValidationError({"issue": "This issue belongs to another negotiation."})


class Position(InRound, RoundDates):
    class Stance(models.TextChoices):
        DEMAND = "demand", "Demand"
        OFFER = "offer", "Offer"
        ACCEPT = "accept", "Accept"
        REJECT = "reject", "Reject"
        CONDITION = "condition", "Condition"

    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="positions")
    party = models.ForeignKey(Party, on_delete=models.PROTECT, related_name="positions")
    issue = models.ForeignKey(Issue, on_delete=models.CASCADE, related_name="positions")
    stance = models.CharField(max_length=20, choices=Stance.choices)
    key = SlugField(
        null=True,
        blank=True,
        help_text="Identifier a later position can answer (unique within the negotiation).",
    )
    text = models.TextField(blank=True)
    responds_to = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="responses",
        help_text="The earlier position this one answers (a demand's lineage).",
    )
    sources = models.ManyToManyField(
        Source, through="PositionCitation", blank=True, related_name="positions"
    )
    # Its place in the issue's chains of answers (see derived): the chain, its place in
    # the chain (depth first), its depth, the chain's length.
    chain = models.PositiveIntegerField(null=True, editable=False)
    chain_link = models.PositiveIntegerField(null=True, editable=False)
    chain_depth = models.PositiveIntegerField(null=True, editable=False)
    chain_size = models.PositiveIntegerField(null=True, editable=False)
    history = HistoricalRecords()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(responds_to=F("id")), name="position_does_not_answer_itself"
            ),
        ]
        indexes = [
            # A party's positions on an issue in the rounds' order (RoundDates): its
            # stance before a round is one probe, not a sort of its whole history.
            models.Index(
                fields=["issue", "party", "round_start_date", "round_number", "id"],
                name="position_pair_in_order_idx",
            ),
            models.Index(fields=["issue", "published", "round"], name="position_issue_round_idx"),
            models.Index(
                fields=["issue", "chain", "chain_link"],
                condition=Q(chain__isnull=False),
                name="position_chains_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.party} {self.get_stance_display().lower()} on {self.issue}"

    def save(self, *args, **kwargs) -> None:
        self.copy_dates(self.round)
        super().save(*args, **kwargs)

    def clean(self) -> None:
        errors = {}
        if (
            self.round_id
            and self.issue_id
            and self.issue.negotiation_id != self.round.negotiation_id
        ):
            errors["issue"] = "This issue belongs to another negotiation."
        if self.responds_to_id:
            if self.responds_to_id == self.pk:
                errors["responds_to"] = "A position cannot answer itself."
            elif self.round_id and (
                self.responds_to.round.negotiation_id != self.round.negotiation_id
            ):
                errors["responds_to"] = "It must answer a position of the same negotiation."
        if self.key and self.round_id:
            clash = Position.objects.filter(
                round__negotiation_id=self.round.negotiation_id, key=self.key
            ).exclude(pk=self.pk)
            if clash.exists():
                errors["key"] = "Another position of this negotiation has this key."
        if errors:
            raise ValidationError(errors)


class Statement(InRound):
    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="statements")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="statements")
    said_on = models.DateField(null=True, blank=True)
    text = models.TextField(help_text="The quote as the source reports it.")
    original = models.TextField(blank=True, help_text="The quote in the language it was spoken.")
    language = models.CharField(
        max_length=35, blank=True, help_text="BCP 47 code of the original, e.g. “uk”."
    )
    sources = models.ManyToManyField(
        Source, through="StatementCitation", blank=True, related_name="statements"
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["id"]
        # statement_by_person_idx: see migration 0008.

    def __str__(self) -> str:
        return f"{self.person}: “{self.text[:60]}”"


class RoundCitation(models.Model):
    round = models.ForeignKey(Round, on_delete=models.CASCADE)
    source = models.ForeignKey(Source, on_delete=models.CASCADE)
    history = HistoricalRecords()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["round", "source"], name="round_cites_source_once"),
        ]

    def __str__(self) -> str:
        return str(self.source)


class OutcomeCitation(models.Model):
    outcome = models.ForeignKey(Outcome, on_delete=models.CASCADE)
    source = models.ForeignKey(Source, on_delete=models.CASCADE)
    history = HistoricalRecords()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["outcome", "source"], name="outcome_cites_source_once"),
        ]

    def __str__(self) -> str:
        return str(self.source)


class PositionCitation(models.Model):
    position = models.ForeignKey(Position, on_delete=models.CASCADE)
    source = models.ForeignKey(Source, on_delete=models.CASCADE)
    history = HistoricalRecords()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["position", "source"], name="position_cites_source_once"
            ),
        ]

    def __str__(self) -> str:
        return str(self.source)


class StatementCitation(models.Model):
    statement = models.ForeignKey(Statement, on_delete=models.CASCADE)
    source = models.ForeignKey(Source, on_delete=models.CASCADE)
    history = HistoricalRecords()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["statement", "source"], name="statement_cites_source_once"
            ),
        ]

    def __str__(self) -> str:
        return str(self.source)


# The rows that carry their round's negotiation and state, which `Round.save` keeps equal.
IN_ROUND = (RoundHost, Delegation, Outcome, Position, Statement)
