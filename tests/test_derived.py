"""Each issue's changes of status (Outcome.move) and chains of answers (Position.chain…) are
stored (negotiations.derived). Every way outcomes, positions and rounds change keeps them
equal to what the rules work out from scratch, and the issue page reads them."""

import datetime
import json
import threading

import pytest
from django.db import connection, transaction

from negotiations import derived, status
from negotiations.interchange import export_negotiation, import_negotiation
from negotiations.models import Issue, Outcome, Position, Round

from .factories import (
    IssueFactory,
    NegotiationFactory,
    OutcomeFactory,
    PartyFactory,
    PositionFactory,
    RoundFactory,
)

pytestmark = pytest.mark.django_db

D = datetime.date
AGREED, RAISED, STALLED = "agreed", "raised", "stalled"


def stored_moves(issue: Issue) -> list[tuple[int, str]]:
    """(round number, status) of each stored change, oldest first."""
    rows = Outcome.objects.filter(issue=issue, move__isnull=False).order_by("move")
    return [(o.round.number, o.status) for o in rows.select_related("round")]


def stored_chains(issue: Issue) -> list[list[tuple[int, str]]]:
    """Each stored chain as (depth, key) pairs, in order."""
    chains: dict[int, list] = {}
    rows = Position.objects.filter(issue=issue, chain__isnull=False).order_by("chain", "chain_link")
    for position in rows:
        chains.setdefault(position.chain, []).append((position.chain_depth, position.key))
        assert position.chain_size == rows.filter(chain=position.chain).count()
    return list(chains.values())


def worked_out_afresh(issue: Issue) -> tuple[list, list]:
    """What the rules give from scratch, in the shapes above."""
    issue = Issue.objects.select_related("negotiation").get(pk=issue.pk)
    changes = status.moves([issue])[issue.pk]
    by_pk = Outcome.objects.select_related("round").in_bulk(changes)
    moves = [(by_pk[pk].round.number, by_pk[pk].status) for pk in changes]
    links = Position.objects.filter(issue=issue, published=True).order_by(
        *status.oldest_first(), "id"
    )
    keys = dict(links.values_list("pk", "key"))
    chains = derived.lineage([derived.Link(*row) for row in links.values_list("pk", "responds_to")])
    return moves, [[(depth, keys[link.pk]) for depth, link in chain] for chain in chains]


def assert_fresh(issue: Issue) -> None:
    assert (stored_moves(issue), stored_chains(issue)) == worked_out_afresh(issue)


@pytest.fixture
def issue():
    return IssueFactory(negotiation=NegotiationFactory(slug="talks"))


def held(issue: Issue, number: int, **kwargs) -> Round:
    day = D(2022, 3, 1) + datetime.timedelta(days=number)
    fields = {"start_date": day, "end_date": day, **kwargs}
    return RoundFactory(negotiation=issue.negotiation, number=number, **fields)


def test_changes_follow_edits_deletions_and_the_rounds_order_and_state(issue):
    rounds = [held(issue, n) for n in (1, 2, 3, 4)]
    outcomes = [
        OutcomeFactory(round=r, issue=issue, status=s)
        for r, s in zip(rounds, [RAISED, RAISED, STALLED, AGREED], strict=True)
    ]
    assert stored_moves(issue) == [(1, RAISED), (3, STALLED), (4, AGREED)]

    outcomes[1].status = STALLED  # round 2 now makes the change, round 3 repeats it
    outcomes[1].save()
    assert stored_moves(issue) == [(1, RAISED), (2, STALLED), (4, AGREED)]

    outcomes[0].delete()
    assert stored_moves(issue) == [(2, STALLED), (4, AGREED)]

    last = Round.objects.get(pk=rounds[3].pk)  # round 4 moves before round 2
    last.start_date = last.end_date = D(2022, 2, 1)
    last.save()
    assert stored_moves(issue) == [(4, AGREED), (2, STALLED)]

    last.published = False
    last.save()
    assert stored_moves(issue) == [(2, STALLED)]

    second = Round.objects.get(pk=rounds[1].pk)
    second.status = Round.Status.POSTPONED  # only held rounds count
    second.save()
    assert stored_moves(issue) == [(3, STALLED)]

    rounds[2].delete()
    assert stored_moves(issue) == []
    assert_fresh(issue)


def test_chains_follow_answers_deletions_and_publishing(issue):
    first, second, third = (held(issue, n) for n in (1, 2, 3))
    party, other = PartyFactory(), PartyFactory()
    demand = PositionFactory(round=first, issue=issue, party=party, key="demand")
    offer = PositionFactory(round=second, issue=issue, party=other, key="offer", responds_to=demand)
    assert stored_chains(issue) == [[(0, "demand"), (1, "offer")]]

    answer = PositionFactory(round=third, issue=issue, party=party, key="answer", responds_to=offer)
    aside = PositionFactory(round=third, issue=issue, party=other, key="aside", responds_to=demand)
    assert stored_chains(issue) == [[(0, "demand"), (1, "offer"), (2, "answer"), (1, "aside")]]

    third.published = False  # a draft round's positions are in no chain readers see
    third.save()
    assert stored_chains(issue) == [[(0, "demand"), (1, "offer")]]
    assert Position.objects.get(pk=answer.pk).chain is None

    third.published = True
    third.save()
    offer.delete()  # the answer to it now opens nothing: it answers no one left
    assert stored_chains(issue) == [[(0, "demand"), (1, "aside")]]
    aside.responds_to = None
    aside.save()
    assert stored_chains(issue) == []
    assert_fresh(issue)


def test_an_outcome_or_position_moved_to_another_issue_leaves_the_first(issue):
    other = IssueFactory(negotiation=issue.negotiation)
    round_ = held(issue, 1)
    outcome = OutcomeFactory(round=round_, issue=issue, status=AGREED)
    demand = PositionFactory(round=round_, issue=issue, key="demand")
    PositionFactory(round=held(issue, 2), issue=issue, key="offer", responds_to=demand)
    assert stored_moves(issue) == [(1, AGREED)]

    outcome = Outcome.objects.get(pk=outcome.pk)  # as the admin loads it
    outcome.issue = other
    outcome.save()
    demand = Position.objects.get(pk=demand.pk)
    demand.issue = other
    demand.save()

    assert (stored_moves(issue), stored_moves(other)) == ([], [(1, AGREED)])
    assert stored_chains(issue) == []
    assert_fresh(issue)
    assert_fresh(other)


def test_an_import_works_them_out(issue):
    first, second = held(issue, 1), held(issue, 2)
    OutcomeFactory(round=first, issue=issue, status=RAISED)
    OutcomeFactory(round=second, issue=issue, status=AGREED)
    demand = PositionFactory(round=first, issue=issue, key="demand")
    PositionFactory(round=second, issue=issue, key="offer", responds_to=demand)
    document = json.loads(export_negotiation(issue.negotiation))
    document["negotiation"]["slug"] = "imported-copy"

    copy = import_negotiation(json.dumps(document)).negotiation
    [imported] = copy.issues.all()
    assert stored_moves(imported) == [(1, RAISED), (2, AGREED)]
    assert stored_chains(imported) == [[(0, "demand"), (1, "offer")]]


def test_deleting_a_negotiation_works_out_nothing_for_issues_that_go_with_it(issue, monkeypatch):
    round_ = held(issue, 1)
    for _ in range(3):
        OutcomeFactory(round=round_, issue=IssueFactory(negotiation=issue.negotiation))
    PositionFactory(round=round_, issue=issue)
    worked: list = []
    monkeypatch.setattr(derived, "refresh_moves", worked.append)
    monkeypatch.setattr(derived, "refresh_chains", worked.append)

    issue.negotiation.delete()
    assert worked == []
    assert not Outcome.objects.exists()

    more = OutcomeFactory(round=held(IssueFactory(negotiation=NegotiationFactory()), 1))
    assert len(worked) == 1  # saving one works out its issue
    Issue.objects.filter(pk=more.issue_id).delete()  # as the admin's bulk delete does
    assert len(worked) == 1


def test_a_deferred_block_works_each_issue_out_once_as_it_ends(issue, monkeypatch):
    other = IssueFactory(negotiation=issue.negotiation)
    rounds = [held(issue, n) for n in (1, 2, 3)]
    calls = []
    for name in ("refresh_moves", "refresh_chains"):
        real = getattr(derived, name)
        monkeypatch.setattr(
            derived, name, lambda issues, real=real, name=name: (calls.append(name), real(issues))
        )

    with derived.deferred(issue.negotiation):
        for r, s in zip(rounds, [RAISED, STALLED, AGREED], strict=True):
            OutcomeFactory(round=r, issue=issue, status=s)
            OutcomeFactory(round=r, issue=other, status=s)
        opening = PositionFactory(round=rounds[0], issue=issue)
        PositionFactory(round=rounds[1], issue=issue, party=opening.party, responds_to=opening)
        assert calls == [] and stored_moves(issue) == [] and stored_chains(issue) == []

    assert calls == ["refresh_moves", "refresh_chains"]
    assert stored_moves(issue) == [(1, RAISED), (2, STALLED), (3, AGREED)]
    assert_fresh(issue)
    assert_fresh(other)


def test_a_deferred_block_that_fails_works_nothing_out(issue, monkeypatch):
    monkeypatch.setattr(derived, "refresh_moves", lambda issues: pytest.fail("worked out"))
    with pytest.raises(ValueError), transaction.atomic(), derived.deferred(issue.negotiation):
        OutcomeFactory(round=held(issue, 1), issue=issue, status=RAISED)
        raise ValueError("the form's save failed")
    assert not Outcome.objects.filter(issue=issue).exists()


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="SQLite lets one transaction write at a time"
)
@pytest.mark.django_db(transaction=True)
def test_two_writers_to_one_issue_leave_it_worked_out_from_both(issue):
    """The second writer waits for the first to commit, then works the issue out with the
    first one's outcome in it (without the lock it would not see it, and store a change in
    round 3 that is none)."""
    first_round, second, third = (held(issue, n) for n in (1, 2, 3))
    OutcomeFactory(round=first_round, issue=issue, status=RAISED)
    first_wrote, release, second_done = threading.Event(), threading.Event(), threading.Event()

    def write(round_: Round, before=None, after=None) -> None:
        try:
            if before:
                before.wait(10)
            with transaction.atomic():
                OutcomeFactory(round=round_, issue=issue, status=AGREED)
                if after:
                    after()
        finally:
            connection.close()

    def hold_open() -> None:
        first_wrote.set()
        release.wait(10)

    writers = [
        threading.Thread(target=write, args=(second,), kwargs={"after": hold_open}),
        threading.Thread(
            target=write, args=(third,), kwargs={"before": first_wrote, "after": second_done.set}
        ),
    ]
    for writer in writers:
        writer.start()
    try:
        assert first_wrote.wait(10)
        assert not second_done.wait(1), "the second writer waits while the first is open"
    finally:
        release.set()
        for writer in writers:
            writer.join(20)
    assert second_done.is_set()
    assert stored_moves(issue) == [(1, RAISED), (2, AGREED)]
    assert_fresh(issue)


def test_the_issue_page_lists_the_stored_changes_latest_page_first(client, issue):
    for number, state in enumerate([RAISED, STALLED, RAISED, AGREED], 1):
        OutcomeFactory(round=held(issue, number), issue=issue, status=state)
    html = client.get(f"/negotiations/talks/issues/{issue.slug}/").content.decode()
    start = html.index('<ol class="moves">')
    history = html[start : html.index("</ol>", start)]
    assert [f"/negotiations/talks/rounds/{n}/" in history for n in (1, 2, 3, 4)] == [True] * 4
    assert history.index("rounds/1/") < history.index("rounds/4/")  # oldest first on the page
    assert "Current status:" in html and "since" in html
