"""Where each issue stands: now, as of a date, and what changed between two dates.

The rule is the spec's: an issue's status is the status of its latest outcome in a held
round, "latest" ordering rounds by start date, then number (undated rounds last, as on
the timeline). As of a date D, only held
rounds whose end date (or start date, where there is none) is on or before D count.
Readers see published rounds only.
"""

from dataclasses import dataclass
from datetime import date

from django.db.models import F, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce

from .models import Issue, Negotiation, Outcome, Position, Round

SETTLED = frozenset({Outcome.Status.AGREED, Outcome.Status.IMPLEMENTED})
CLOSED = SETTLED | {Outcome.Status.WITHDRAWN}


@dataclass(frozen=True)
class IssueStatus:
    issue: Issue
    outcome: Outcome | None  # None: no held round has taken the issue up (yet)

    @property
    def status(self) -> str | None:
        return self.outcome.status if self.outcome else None


@dataclass(frozen=True)
class StatusChange:
    issue: Issue
    before: Outcome | None
    after: Outcome | None


def counting_outcomes(negotiation: Negotiation | None, *, as_of: date | None = None, drafts=False):
    """The outcomes that can make an issue's status: held rounds, up to `as_of` (of every
    negotiation when `negotiation` is None)."""
    outcomes = Outcome.objects.filter(round__status=Round.Status.HELD)
    if negotiation is not None:
        outcomes = outcomes.filter(round__negotiation=negotiation)
    if not drafts:
        outcomes = outcomes.filter(round__published=True)
    if as_of is not None:
        outcomes = outcomes.alias(ended_on=Coalesce("round__end_date", "round__start_date")).filter(
            ended_on__lte=as_of
        )
    return outcomes


def earlier_than(round_: Round, prefix: str = "round__") -> Q:
    """Rounds that come before `round_` in the spec's order: start date (undated last),
    then number."""
    start, number = f"{prefix}start_date", f"{prefix}number"
    if round_.start_date is None:
        return Q(**{f"{start}__isnull": False}) | Q(
            **{f"{start}__isnull": True, f"{number}__lt": round_.number}
        )
    return Q(**{f"{start}__lt": round_.start_date}) | Q(
        **{start: round_.start_date, f"{number}__lt": round_.number}
    )


def oldest_first(prefix: str = "round__") -> list:
    """`Round.objects.chronological()` for rows of a round: undated rounds last."""
    return [F(f"{prefix}start_date").asc(nulls_last=True), f"{prefix}number"]


def latest_first(prefix: str = "round__") -> list:
    """The reverse of `Round.objects.chronological()`: undated rounds count as the latest."""
    return [F(f"{prefix}start_date").desc(nulls_first=True), f"-{prefix}number"]


def with_previous_status(outcomes, round_: Round):
    """Annotate a round's outcomes with their issue's status before that round
    (`previous_status`, None where no earlier held round had taken the issue up)."""
    earlier = (
        counting_outcomes(round_.negotiation)
        .filter(earlier_than(round_), issue=OuterRef("issue"))
        .order_by(*latest_first())
    )
    return outcomes.annotate(previous_status=Subquery(earlier.values("status")[:1]))


def with_previous_stance(positions, round_: Round):
    """Annotate a round's positions with the party's last stance on the issue before
    that round (`previous_stance`, None for a first position)."""
    earlier = (
        Position.objects.filter(
            round__negotiation=round_.negotiation_id,
            round__published=True,
            party=OuterRef("party"),
            issue=OuterRef("issue"),
        )
        .filter(earlier_than(round_))
        .order_by(*latest_first(), "-id")
    )
    return positions.annotate(previous_stance=Subquery(earlier.values("stance")[:1]))


def status_history(issue: Issue):
    """The outcomes that made the issue's status, oldest first (published, held rounds)."""
    return counting_outcomes(issue.negotiation).filter(issue=issue).order_by(*oldest_first())


def with_previous_statuses(outcomes):
    """Each outcome, in the order given, with `previous_status`: the status before it."""
    previous = None
    for outcome in outcomes:
        outcome.previous_status = previous
        yield outcome
        previous = outcome.status


def issue_statuses(
    negotiation: Negotiation, *, as_of: date | None = None, drafts: bool = False
) -> list[IssueStatus]:
    """Every issue of the negotiation, in agenda order, with the outcome that sets its
    status. Two queries, however many rounds there are."""
    latest = (
        counting_outcomes(negotiation, as_of=as_of, drafts=drafts)
        .filter(issue=OuterRef("pk"))
        .order_by(*latest_first())
        .values("pk")[:1]
    )
    issues = list(
        Issue.objects.filter(negotiation=negotiation)
        .annotate(latest_outcome=Subquery(latest))
        .order_by("order", "id")
    )
    outcome_ids = [issue.latest_outcome for issue in issues if issue.latest_outcome]
    outcomes = Outcome.objects.select_related("round").in_bulk(outcome_ids)
    return [IssueStatus(issue, outcomes.get(issue.latest_outcome)) for issue in issues]


def status_changes(
    negotiation: Negotiation, since: date, until: date | None = None, *, drafts: bool = False
) -> list[StatusChange]:
    """Issues whose status on `until` (or now) differs from their status on `since`."""
    before = issue_statuses(negotiation, as_of=since, drafts=drafts)
    after = issue_statuses(negotiation, as_of=until, drafts=drafts)
    return [
        StatusChange(old.issue, old.outcome, new.outcome)
        for old, new in zip(before, after, strict=True)
        if old.status != new.status
    ]


def status_counts(statuses: list[IssueStatus]) -> dict[str, int]:
    """How many issues are settled (agreed or implemented) and how many are still open."""
    return {
        "agreed": sum(s.status in SETTLED for s in statuses),
        "open": sum(s.status not in CLOSED for s in statuses),
    }


def counts_by_negotiation() -> dict[int, dict[str, int]]:
    """`status_counts` for every negotiation at once, in one query (for the home page)."""
    latest = (
        counting_outcomes(None)
        # The issue's negotiation, named, lets the database walk that negotiation's
        # rounds newest first (round_timeline_idx) and stop at the first outcome.
        .filter(issue=OuterRef("pk"), round__negotiation=OuterRef("negotiation"))
        .order_by(*latest_first())
        .values("status")[:1]
    )
    counts: dict[int, dict[str, int]] = {}
    for negotiation_id, status in Issue.objects.annotate(status=Subquery(latest)).values_list(
        "negotiation_id", "status"
    ):
        tally = counts.setdefault(negotiation_id, {"agreed": 0, "open": 0})
        tally["agreed"] += status in SETTLED
        tally["open"] += status not in CLOSED
    return counts


TRAIL_SHOWN = 5


@dataclass
class StanceTrail:
    """One party's course on one issue: its stances in order, repeats folded, and where
    it took the latest one."""

    party_id: int
    issue_id: int
    stances: list[str]
    position_id: int
    round_number: int

    @property
    def stance(self) -> str:
        return self.stances[-1]

    @property
    def moved(self) -> bool:
        return len(self.stances) > 1

    @property
    def recent(self) -> list[str]:
        """The last few stances, for a table cell; `earlier` says how many are left out."""
        return self.stances[-TRAIL_SHOWN:]

    @property
    def earlier(self) -> int:
        return max(len(self.stances) - TRAIL_SHOWN, 0)


TRAIL_ROUNDS = 100  # how far back the board draws each party's course


def stance_trails(
    negotiation: Negotiation, *, as_of: date | None = None, rounds: int = TRAIL_ROUNDS
) -> list[StanceTrail]:
    """Every party's latest stance on every issue (published rounds, up to `as_of`), with
    the course that led there over the latest `rounds` rounds.

    However long the negotiation, this reads the positions of those rounds only, plus,
    for a party whose latest stance on an issue is older than that, its latest position
    alone. At most three queries."""
    published = Round.objects.filter(negotiation=negotiation, published=True)
    if as_of is not None:
        published = published.alias(ended_on=Coalesce("end_date", "start_date")).filter(
            ended_on__lte=as_of
        )
    recent = published.newest_first().values("pk")[:rounds]
    trails: dict[tuple[int, int], StanceTrail] = {}
    for party_id, issue_id, stance, pk, number in _trail_rows(
        Position.objects.filter(round__in=recent)
    ):
        trail = trails.get((party_id, issue_id))
        if trail is None:
            trails[party_id, issue_id] = StanceTrail(party_id, issue_id, [stance], pk, number)
            continue
        if trail.stances[-1] != stance:
            trail.stances.append(stance)
        trail.position_id, trail.round_number = pk, number

    # Parties that took no position on an issue in those rounds, but did before them.
    pairs = set(
        Position.objects.filter(issue__negotiation=negotiation)
        .values_list("party_id", "issue_id")
        .distinct()
        .order_by()
    )
    older = Q()
    for party_id, issue_id in pairs - trails.keys():
        latest = (
            Position.objects.filter(party=party_id, issue=issue_id, round__in=published)
            .order_by(*latest_first(), "-id")
            .values("pk")[:1]
        )
        older |= Q(pk__in=latest)
    if older:
        for party_id, issue_id, stance, pk, number in _trail_rows(Position.objects.filter(older)):
            trails[party_id, issue_id] = StanceTrail(party_id, issue_id, [stance], pk, number)
    return list(trails.values())


def _trail_rows(positions):
    return positions.order_by(*oldest_first(), "id").values_list(
        "party_id", "issue_id", "stance", "pk", "round__number"
    )
