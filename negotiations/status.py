"""Where each issue stands: now, as of a date, and what changed between two dates.

The rule is the spec's: an issue's status is the status of its latest outcome in a held
round, "latest" ordering rounds by start date, then number (undated rounds last, as on
the timeline). As of a date D, only held
rounds whose end date (or start date, where there is none) is on or before D count.
Readers see published rounds only.
"""

from dataclasses import dataclass
from datetime import date

from django.db import connections, router
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


def latest_round_taking_up(
    negotiation, issue, *, as_of: date | None = None, before: Round | None = None, drafts=False
):
    """A subquery: the id of the latest held round (published, unless `drafts`) of
    `negotiation` that recorded an outcome on `issue`, ended by `as_of`, before `before`.
    `negotiation` and `issue` are values, or OuterRefs seen from this subquery.

    It walks the negotiation's rounds newest first (round_timeline_idx) and stops at the
    first with such an outcome: a few index probes for an issue taken up often, where
    starting from the issue's outcomes would read all of them (thousands) to sort them."""
    rounds = Round.objects.filter(negotiation=negotiation, status=Round.Status.HELD)
    if not drafts:
        rounds = rounds.filter(published=True)
    if as_of is not None:
        # A round ended by `as_of` began by then too: that bound is for the index.
        rounds = rounds.alias(ended_on=Coalesce("end_date", "start_date")).filter(
            ended_on__lte=as_of, start_date__lte=as_of
        )
    if before is not None:
        rounds = rounds.filter(earlier_than(before, prefix=""))
    inner = OuterRef(issue) if isinstance(issue, OuterRef) else issue
    recorded = Outcome.objects.filter(round=OuterRef("pk"), issue=inner).values("pk")[:1]
    # A scalar subquery, not EXISTS: PostgreSQL turns an EXISTS into a join and, not
    # knowing which issue, guesses it has a few dozen outcomes and starts from those.
    return (
        rounds.alias(recorded=Subquery(recorded))
        .filter(recorded__isnull=False)
        .newest_first()
        .values("pk")[:1]
    )


def earlier_than(round_: Round, prefix: str = "round__") -> Q:
    """Rounds that come before `round_` in the spec's order: start date (undated last),
    then number."""
    start, number = f"{prefix}start_date", f"{prefix}number"
    if round_.start_date is None:
        return Q(**{f"{start}__isnull": False}) | Q(
            **{f"{start}__isnull": True, f"{number}__lt": round_.number}
        )
    # The first term is implied by the others; it is there for the database, which can
    # start its walk along an index on the date from it.
    return Q(**{f"{start}__lte": round_.start_date}) & (
        Q(**{f"{start}__lt": round_.start_date}) | Q(**{f"{number}__lt": round_.number})
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
    earlier = latest_round_taking_up(
        round_.negotiation_id, OuterRef(OuterRef("issue")), before=round_
    )
    previous = Outcome.objects.filter(issue=OuterRef("issue"), round=Subquery(earlier))
    return outcomes.annotate(previous_status=Subquery(previous.values("status")[:1]))


def with_previous_stance(positions, round_: Round):
    """Annotate a round's positions with the party's last stance on the issue before
    that round (`previous_stance`, None for a first position): one backward probe of
    position_pair_in_order_idx per position, on the positions' copies of their round's
    date and number."""
    earlier = (
        Position.objects.filter(published=True, party=OuterRef("party"), issue=OuterRef("issue"))
        .filter(earlier_than(round_, prefix="round_"))
        .order_by(*latest_first(prefix="round_"), "-id")
    )
    return positions.annotate(previous_stance=Subquery(earlier.values("stance")[:1]))


def status_history(issue: Issue):
    """The outcomes that made the issue's status, oldest first (published, held rounds)."""
    return counting_outcomes(issue.negotiation).filter(issue=issue).order_by(*oldest_first())


def moves(issues) -> dict[int, list[int]]:
    """For each issue (by id), the ids of the outcomes that changed its status, oldest
    first: the rule of `with_previous_statuses`, over bare values (an issue can have
    thousands), for many issues in one query."""
    changed: dict[int, list[int]] = {getattr(issue, "pk", issue): [] for issue in issues}
    previous: dict[int, str] = {}
    rows = (
        counting_outcomes(None)
        .filter(issue__in=list(changed))
        .order_by("issue", *oldest_first())
        .values_list("issue", "pk", "status")
    )
    for issue, pk, state in rows:
        if state != previous.get(issue):
            changed[issue].append(pk)
        previous[issue] = state
    return changed


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
    latest = latest_round_taking_up(negotiation, OuterRef("pk"), as_of=as_of, drafts=drafts)
    issues = list(
        Issue.objects.filter(negotiation=negotiation)
        .annotate(latest_round=Subquery(latest))
        .order_by("order", "id")
    )
    taken_up = {issue.pk: issue.latest_round for issue in issues if issue.latest_round}
    outcomes = {
        outcome.issue_id: outcome
        for outcome in Outcome.objects.select_related("round").filter(
            round__in=set(taken_up.values()), issue__in=taken_up.keys()
        )
        if taken_up[outcome.issue_id] == outcome.round_id
    }
    return [IssueStatus(issue, outcomes.get(issue.pk)) for issue in issues]


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
    latest = latest_round_taking_up(OuterRef(OuterRef("negotiation_id")), OuterRef(OuterRef("pk")))
    status = Outcome.objects.filter(issue=OuterRef("pk"), round=Subquery(latest))
    counts: dict[int, dict[str, int]] = {}
    for negotiation_id, state in Issue.objects.annotate(
        status=Subquery(status.values("status")[:1])
    ).values_list("negotiation_id", "status"):
        tally = counts.setdefault(negotiation_id, {"agreed": 0, "open": 0})
        tally["agreed"] += state in SETTLED
        tally["open"] += state not in CLOSED
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
    def earlier(self) -> int:
        """How many stances `course` leaves out."""
        return max(len(self.stances) - TRAIL_SHOWN, 0)

    @property
    def course(self) -> str:
        """The last few stances in words, for a table cell: "2 earlier → rejected → …"."""
        recent = " → ".join(
            Position.Stance(stance).label.lower() for stance in self.stances[-TRAIL_SHOWN:]
        )
        return f"{self.earlier} earlier → {recent}" if self.earlier else recent


TRAIL_ROUNDS = 100  # how far back the board draws each party's course


def stance_trails(
    negotiation: Negotiation, *, as_of: date | None = None, rounds: int = TRAIL_ROUNDS
) -> list[StanceTrail]:
    """Every party's latest stance on every issue (published rounds, up to `as_of`), with
    the course that led there over the latest `rounds` rounds.

    However long the negotiation, this reads the positions of those rounds only, plus,
    for a party whose latest stance on an issue is older than that, its latest position
    alone. Three queries."""
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
    pairs = _pairs_with_positions(negotiation)
    older = Q(pk=None)  # matches nothing: the query runs, the same, whether or not needed
    for party_id, issue_id in pairs - trails.keys():
        latest = (
            Position.objects.filter(party=party_id, issue=issue_id, round__in=published)
            .order_by(*latest_first(), "-id")
            .values("pk")[:1]
        )
        older |= Q(pk__in=latest)
    for party_id, issue_id, stance, pk, number in _trail_rows(Position.objects.filter(older)):
        trails[party_id, issue_id] = StanceTrail(party_id, issue_id, [stance], pk, number)
    return list(trails.values())


# Each (party, issue) pair of the negotiation with a position, by a "loose index scan" of
# position_pair_in_order_idx: from each issue's first party, jump to the next party with a
# position on it. One index probe per pair, where DISTINCT reads every position.
PAIRS_SQL = """
WITH RECURSIVE pair(issue_id, party_id) AS (
    SELECT id, (SELECT MIN(party_id) FROM negotiations_position WHERE issue_id = issue.id)
    FROM negotiations_issue issue WHERE negotiation_id = %(negotiation)s
  UNION ALL
    SELECT issue_id, (
        SELECT MIN(party_id) FROM negotiations_position
        WHERE issue_id = pair.issue_id AND party_id > pair.party_id
    )
    FROM pair WHERE party_id IS NOT NULL
)
SELECT party_id, issue_id FROM pair WHERE party_id IS NOT NULL
"""


def _pairs_with_positions(negotiation: Negotiation) -> set[tuple[int, int]]:
    with connections[router.db_for_read(Position)].cursor() as cursor:
        cursor.execute(PAIRS_SQL, {"negotiation": negotiation.pk})
        return set(cursor.fetchall())


def _trail_rows(positions):
    return positions.order_by(*oldest_first(), "id").values_list(
        "party_id", "issue_id", "stance", "pk", "round__number"
    )
