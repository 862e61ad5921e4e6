"""Where each issue stands: now, as of a date, and what changed between two dates.

The rule is the spec's: an issue's status is the status of its latest outcome in a held
round, "latest" ordering rounds by start date, then number. As of a date D, only held
rounds whose end date (or start date, where there is none) is on or before D count.
Readers see published rounds only.
"""

from dataclasses import dataclass
from datetime import date

from django.db.models import F, OuterRef, Subquery
from django.db.models.functions import Coalesce

from .models import Issue, Negotiation, Outcome, Round


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


def counting_outcomes(negotiation: Negotiation, *, as_of: date | None = None, drafts=False):
    """The outcomes that can make an issue's status: held rounds, up to `as_of`."""
    outcomes = Outcome.objects.filter(
        round__negotiation=negotiation, round__status=Round.Status.HELD
    )
    if not drafts:
        outcomes = outcomes.filter(round__published=True)
    if as_of is not None:
        outcomes = outcomes.alias(ended_on=Coalesce("round__end_date", "round__start_date")).filter(
            ended_on__lte=as_of
        )
    return outcomes


def issue_statuses(
    negotiation: Negotiation, *, as_of: date | None = None, drafts: bool = False
) -> list[IssueStatus]:
    """Every issue of the negotiation, in agenda order, with the outcome that sets its
    status. Two queries, however many rounds there are."""
    latest = (
        counting_outcomes(negotiation, as_of=as_of, drafts=drafts)
        .filter(issue=OuterRef("pk"))
        .order_by(F("round__start_date").desc(nulls_last=True), "-round__number")
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
    settled = {Outcome.Status.AGREED, Outcome.Status.IMPLEMENTED}
    closed = settled | {Outcome.Status.WITHDRAWN}
    return {
        "agreed": sum(s.status in settled for s in statuses),
        "open": sum(s.status not in closed for s in statuses),
    }
