"""Atom feeds: a negotiation's published rounds, and one issue's status changes."""

from django.contrib.syndication.views import Feed
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed

from . import status
from .models import Issue, Negotiation, Outcome, Party, Round

FEED_LENGTH = 50


class RoundsFeed(Feed):
    """One entry per published round, newest first, with its outcomes."""

    feed_type = Atom1Feed

    def get_object(self, request, slug: str) -> Negotiation:
        return get_object_or_404(Negotiation, slug=slug)

    def title(self, negotiation: Negotiation) -> str:
        return f"{negotiation.title}: rounds"

    def subtitle(self, negotiation: Negotiation) -> str:
        return negotiation.summary or f"The rounds of {negotiation.title}, as Parley logs them."

    def link(self, negotiation: Negotiation) -> str:
        return negotiation.get_absolute_url()

    def feed_url(self, negotiation: Negotiation) -> str:
        return reverse("feed", args=[negotiation.slug])

    def items(self, negotiation: Negotiation):
        return (
            Round.objects.filter(negotiation=negotiation)
            .published()
            .newest_first()
            .select_related("negotiation")
            .prefetch_related(
                Prefetch("hosts", queryset=Party.objects.order_by("roundhost__id")),
                Prefetch(
                    "outcomes",
                    queryset=Outcome.objects.select_related("issue").order_by("issue__order"),
                ),
            )[:FEED_LENGTH]
        )

    def item_title(self, round_: Round) -> str:
        return f"Round {round_.number}: {round_}" if round_.title else str(round_)

    def item_description(self, round_: Round) -> str:
        return render_to_string("negotiations/feed_round.html", {"round": round_})

    def item_link(self, round_: Round) -> str:
        return round_.get_absolute_url()

    def item_pubdate(self, round_: Round):
        return round_.updated_at

    def item_updateddate(self, round_: Round):
        return round_.updated_at

    def item_categories(self, round_: Round) -> list[str]:
        return [outcome.issue.title for outcome in round_.outcomes.all()]


class IssueFeed(Feed):
    """One entry per change of the issue's status (published, held rounds), newest first."""

    feed_type = Atom1Feed

    def get_object(self, request, slug: str, issue: str) -> Issue:
        found = get_object_or_404(
            Issue.objects.select_related("negotiation"), negotiation__slug=slug, slug=issue
        )
        found.site = request.build_absolute_uri("/").rstrip("/")  # for the entries' ids
        return found

    def title(self, issue: Issue) -> str:
        return f"{issue.title}: status changes in {issue.negotiation.title}"

    def subtitle(self, issue: Issue) -> str:
        return issue.description or f"Where {issue.title} stands, round by round."

    def link(self, issue: Issue) -> str:
        return issue.get_absolute_url()

    def feed_url(self, issue: Issue) -> str:
        return reverse("issue-feed", args=[issue.negotiation.slug, issue.slug])

    def items(self, issue: Issue) -> list:
        outcomes = status.status_history(issue).select_related("round__negotiation", "issue")
        changes = [
            outcome
            for outcome in status.with_previous_statuses(outcomes)
            if outcome.status != outcome.previous_status
        ]
        for outcome in changes:
            outcome.site = issue.site
        return changes[::-1][:FEED_LENGTH]

    def item_title(self, outcome: Outcome) -> str:
        return f"{outcome.issue.title}: {outcome.get_status_display()} ({outcome.round})"

    def item_description(self, outcome: Outcome) -> str:
        return render_to_string("negotiations/feed_status.html", {"outcome": outcome})

    def item_link(self, outcome: Outcome) -> str:
        return outcome.round.get_absolute_url()

    def item_guid(self, outcome: Outcome) -> str:
        # Atom ids must be absolute IRIs; Django does not add the domain to a guid.
        return f"{outcome.site}{outcome.round.get_absolute_url()}#outcome-{outcome.issue.slug}"

    def item_pubdate(self, outcome: Outcome):
        return outcome.round.updated_at

    def item_updateddate(self, outcome: Outcome):
        return outcome.round.updated_at
