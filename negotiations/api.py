"""The read-only JSON API at /api/v1/ (django-ninja): published data only.

Lists are paginated (`page`, 50 a page). Rounds carry `updated_at`, and
`updated_since` returns exactly the rounds saved at or after that moment, for incremental
sync. Responses carry an ETag (ConditionalGetMiddleware) and, for rounds, Last-Modified:
a client that sends them back gets 304 when nothing changed.
"""

from datetime import UTC, date, datetime

from django.db import InterfaceError, OperationalError
from django.db.models import F, Max, Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.http import http_date
from ninja import Field, NinjaAPI, Query, Schema
from ninja.errors import HttpError
from ninja.pagination import PageNumberPagination, paginate

from . import status
from .models import (
    Delegation,
    DelegationMember,
    Issue,
    Negotiation,
    Outcome,
    Party,
    Person,
    Position,
    Round,
    Source,
    Statement,
)

api = NinjaAPI(
    title="Parley API",
    version="1",
    description=(
        "Read-only access to the published rounds of every negotiation in Parley: "
        "who met where, what was agreed, each party's positions and the sources."
    ),
    urls_namespace="api",
)


@api.exception_handler(InterfaceError)
@api.exception_handler(OperationalError)
def database_unavailable(request: HttpRequest, exc: Exception) -> HttpResponse:
    """The database is unreachable: say so, and when to try again, in JSON."""
    response = api.create_response(
        request, {"detail": "The database is briefly unavailable; try again."}, status=503
    )
    response["Retry-After"] = "30"
    return response


class Pages(PageNumberPagination):
    """50 a page (`page_size` up to 100); a page number past any real one is refused
    before it can overflow the database's row offset."""

    class Input(Schema):
        page: int = Field(1, ge=1, le=1_000_000)
        page_size: int | None = Field(None, ge=1, le=100)

    def __init__(self, **kwargs):
        super().__init__(page_size=50, max_page_size=100, **kwargs)


# --- schemas ------------------------------------------------------------------------------


class NegotiationOut(Schema):
    slug: str
    title: str
    summary: str
    status: str
    started_on: date | None
    ended_on: date | None
    url: str = Field(description="The negotiation's timeline page.")

    @staticmethod
    def resolve_url(obj) -> str:
        return obj["url"] if isinstance(obj, dict) else obj.get_absolute_url()


class IssueOut(Schema):
    slug: str
    title: str
    description: str
    status: str | None = Field(description="The current status; null before any outcome.")
    status_since_round: int | None = Field(description="The round that set it.")


class NegotiationDetail(NegotiationOut):
    issues: list[IssueOut]


class RoundOut(Schema):
    number: int
    title: str
    status: str
    start_date: date | None
    end_date: date | None
    location: str
    format: str | None
    hosts: list[str] = Field(description="Party slugs.")
    summary: str
    updated_at: datetime
    url: str

    @staticmethod
    def resolve_hosts(obj) -> list[str]:
        return obj["hosts"] if isinstance(obj, dict) else [p.slug for p in obj.hosts.all()]

    @staticmethod
    def resolve_url(obj) -> str:
        if isinstance(obj, dict):
            return obj["url"]
        return f"/negotiations/{obj.negotiation.slug}/rounds/{obj.number}/"


class MemberOut(Schema):
    person: str = Field(description="Person slug.")
    name: str
    role: str
    is_head: bool


class DelegationOut(Schema):
    party: str
    members: list[MemberOut]


class OutcomeOut(Schema):
    issue: str
    status: str
    text: str
    sources: list[str] = Field(description="Source keys.")


class PositionOut(Schema):
    id: int
    party: str
    issue: str
    stance: str
    text: str
    responds_to: int | None = Field(description="The id of the position this one answers.")
    sources: list[str]


class StatementOut(Schema):
    person: str
    name: str
    said_on: date | None
    text: str
    original: str
    language: str
    sources: list[str]


class SourceOut(Schema):
    key: str
    url: str
    title: str
    publisher: str
    author: str
    published_on: date | None
    archived_url: str | None


class RoundDetail(RoundOut):
    delegations: list[DelegationOut]
    outcomes: list[OutcomeOut]
    positions: list[PositionOut]
    statements: list[StatementOut]
    sources: list[SourceOut] = Field(description="Every source the round's items cite.")


class StatusOut(Schema):
    round: int
    round_title: str
    start_date: date | None
    end_date: date | None
    status: str
    previous_status: str | None
    changed: bool
    text: str


class PartyOut(Schema):
    slug: str
    name: str
    kind: str
    aliases: list[str]


class PersonOut(Schema):
    slug: str
    name: str
    aliases: list[str]
    party: str | None
    title: str

    @staticmethod
    def resolve_party(obj) -> str | None:
        return obj.party.slug if obj.party else None


class RoundFilters(Schema):
    start: date | None = Field(None, description="Rounds starting on or after this date.")
    end: date | None = Field(None, description="Rounds starting on or before this date.")
    updated_since: datetime | None = Field(
        None, description="Only rounds saved at or after this moment (ISO 8601)."
    )


# --- helpers ------------------------------------------------------------------------------


def _found(queryset, **lookups):
    """get_object_or_404, also for text no slug can hold (PostgreSQL refuses NUL)."""
    if any(isinstance(v, str) and "\x00" in v for v in lookups.values()):
        raise Http404
    return get_object_or_404(queryset, **lookups)


def _negotiation(slug: str) -> Negotiation:
    return _found(Negotiation, slug=slug)


def _published(negotiation: Negotiation):
    return Round.objects.filter(negotiation=negotiation).published()


def _last_modified(response: HttpResponse, negotiation: Negotiation) -> None:
    """The last save of any round of the negotiation (publishing and unpublishing are
    saves) or deletion of one. Any other change still changes the ETag."""
    saved = Round.objects.filter(negotiation=negotiation).aggregate(last=Max("updated_at"))
    deleted = Round.history.filter(negotiation_id=negotiation.pk, history_type="-").aggregate(
        last=Max("history_date")
    )
    moments = [m for m in (saved["last"], deleted["last"]) if m is not None]
    if moments:
        response["Last-Modified"] = http_date(max(moments).timestamp())


def _round_out(round_: Round, slug: str) -> dict:
    return {
        **{
            name: getattr(round_, name)
            for name in ("number", "title", "status", "start_date", "end_date", "location")
        },
        "format": round_.format,
        "hosts": [party.slug for party in round_.hosts.all()],
        "summary": round_.summary,
        "updated_at": round_.updated_at,
        "url": f"/negotiations/{slug}/rounds/{round_.number}/",
    }


def _keys(item) -> list[str]:
    return [source.key for source in item.sources.all()]


# --- endpoints ----------------------------------------------------------------------------


@api.get("/negotiations", response=list[NegotiationOut], tags=["negotiations"])
def negotiations(request: HttpRequest):
    """Every negotiation, by title."""
    return list(Negotiation.objects.order_by("title"))  # evaluated here, not in validation


@api.get("/negotiations/{slug}", response=NegotiationDetail, tags=["negotiations"])
def negotiation(request: HttpRequest, slug: str):
    """One negotiation with its issues, in agenda order, and where each stands now."""
    found = _negotiation(slug)
    issues = [
        {
            "slug": s.issue.slug,
            "title": s.issue.title,
            "description": s.issue.description,
            "status": s.status,
            "status_since_round": s.outcome.round.number if s.outcome else None,
        }
        for s in status.issue_statuses(found)
    ]
    fields = ("slug", "title", "summary", "status", "started_on", "ended_on")
    return {
        **{name: getattr(found, name) for name in fields},
        "url": found.get_absolute_url(),
        "issues": issues,
    }


@api.get("/negotiations/{slug}/rounds", response=list[RoundOut], tags=["rounds"])
@paginate(Pages)
def rounds(request: HttpRequest, response: HttpResponse, slug: str, filters: Query[RoundFilters]):
    """Published rounds, oldest first. `updated_since` gives what changed since a sync."""
    found = _negotiation(slug)
    selected = _published(found)
    if filters.start:
        selected = selected.filter(start_date__gte=filters.start)
    if filters.end:
        selected = selected.filter(start_date__lte=filters.end)
    if filters.updated_since:
        try:
            since = filters.updated_since.astimezone(UTC)
        except OverflowError:
            raise HttpError(422, "updated_since is out of range.") from None
        selected = selected.filter(updated_at__gte=since)
    _last_modified(response, found)
    return (
        selected.chronological()
        .select_related("negotiation")
        .prefetch_related(Prefetch("hosts", queryset=Party.objects.order_by("roundhost__id")))
    )


@api.get("/negotiations/{slug}/rounds/{number}", response=RoundDetail, tags=["rounds"])
def round_detail(request: HttpRequest, response: HttpResponse, slug: str, number: int):
    """One round in full: delegations, outcomes, positions, statements and their sources."""
    found = _negotiation(slug)
    round_ = get_object_or_404(
        _published(found).prefetch_related(
            Prefetch("hosts", queryset=Party.objects.order_by("roundhost__id")),
            Prefetch(
                "delegations",
                queryset=Delegation.objects.select_related("party").prefetch_related(
                    Prefetch(
                        "members",
                        queryset=DelegationMember.objects.select_related("person").order_by(
                            "-is_head", "id"
                        ),
                    )
                ),
            ),
            Prefetch(
                "outcomes",
                queryset=Outcome.objects.select_related("issue")
                .prefetch_related("sources")
                .order_by("issue__order", "issue_id"),
            ),
            Prefetch(
                "positions",
                queryset=Position.objects.select_related("party", "issue")
                .prefetch_related("sources")
                .order_by("id"),
            ),
            Prefetch(
                "statements",
                queryset=Statement.objects.select_related("person")
                .prefetch_related("sources")
                .order_by(F("said_on").asc(nulls_last=True), "id"),
            ),
            "sources",
        ),
        number=number,
    )
    _last_modified(response, found)
    cited: dict[int, Source] = {s.pk: s for s in round_.sources.all()}
    for kind in (round_.outcomes, round_.positions, round_.statements):
        for item in kind.all():
            cited.update({s.pk: s for s in item.sources.all()})
    published_answers = set(
        Position.objects.filter(
            pk__in=[p.responds_to_id for p in round_.positions.all() if p.responds_to_id],
            round__published=True,
        ).values_list("pk", flat=True)
    )
    return {
        **_round_out(round_, slug),
        "delegations": [
            {
                "party": d.party.slug,
                "members": [
                    {
                        "person": m.person.slug,
                        "name": m.person.name,
                        "role": m.role,
                        "is_head": m.is_head,
                    }
                    for m in d.members.all()
                ],
            }
            for d in round_.delegations.all()
        ],
        "outcomes": [
            {"issue": o.issue.slug, "status": o.status, "text": o.text, "sources": _keys(o)}
            for o in round_.outcomes.all()
        ],
        "positions": [
            {
                "id": p.pk,
                "party": p.party.slug,
                "issue": p.issue.slug,
                "stance": p.stance,
                "text": p.text,
                "responds_to": p.responds_to_id if p.responds_to_id in published_answers else None,
                "sources": _keys(p),
            }
            for p in round_.positions.all()
        ],
        "statements": [
            {
                "person": s.person.slug,
                "name": s.person.name,
                "said_on": s.said_on,
                "text": s.text,
                "original": s.original,
                "language": s.language,
                "sources": _keys(s),
            }
            for s in round_.statements.all()
        ],
        "sources": sorted(cited.values(), key=lambda s: s.key),
    }


@api.get(
    "/negotiations/{slug}/issues/{issue}/history",
    response=list[StatusOut],
    tags=["issues"],
)
@paginate(Pages)
def issue_history(request: HttpRequest, slug: str, issue: str):
    """Every outcome recorded for the issue in a held, published round, oldest first, with
    the status before it: `changed` marks the rounds that moved the issue."""
    found = _found(Issue, negotiation__slug=slug, slug=issue)
    outcomes = status.status_history(found).select_related("round")
    history = [
        {
            "round": outcome.round.number,
            "round_title": str(outcome.round),
            "start_date": outcome.round.start_date,
            "end_date": outcome.round.end_date,
            "status": outcome.status,
            "previous_status": outcome.previous_status,
            "changed": outcome.status != outcome.previous_status,
            "text": outcome.text,
        }
        for outcome in status.with_previous_statuses(outcomes)
    ]
    return history


@api.get("/parties", response=list[PartyOut], tags=["parties and people"])
@paginate(Pages)
def parties(request: HttpRequest):
    return Party.objects.order_by("name")


@api.get("/parties/{slug}", response=PartyOut, tags=["parties and people"])
def party(request: HttpRequest, slug: str):
    return _found(Party, slug=slug)


@api.get("/people", response=list[PersonOut], tags=["parties and people"])
@paginate(Pages)
def people(request: HttpRequest):
    return Person.objects.select_related("party").order_by("name")


@api.get("/people/{slug}", response=PersonOut, tags=["parties and people"])
def person(request: HttpRequest, slug: str):
    return _found(Person.objects.select_related("party"), slug=slug)
