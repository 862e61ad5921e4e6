import datetime
from io import StringIO

import pytest
from django.core.management import call_command

from negotiations import status
from negotiations.models import Negotiation, Outcome, Round
from negotiations.status import issue_statuses, status_changes, status_counts

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


@pytest.fixture
def talks():
    negotiation = NegotiationFactory()
    corridors = IssueFactory(negotiation=negotiation, title="Corridors", order=0)
    ceasefire = IssueFactory(negotiation=negotiation, title="Ceasefire", order=1)
    return negotiation, corridors, ceasefire


def held(negotiation, number, start, end=None, **kwargs):
    return RoundFactory(
        negotiation=negotiation, number=number, start_date=start, end_date=end or start, **kwargs
    )


def statuses(negotiation, **kwargs):
    return [(s.issue.title, s.status) for s in issue_statuses(negotiation, **kwargs)]


def test_current_status_is_the_latest_held_round_by_date_then_number(talks):
    negotiation, corridors, ceasefire = talks
    # Round 5 was logged with a lower date than round 4: the date decides, not the number.
    OutcomeFactory(round=held(negotiation, 4, D(2022, 3, 10)), issue=corridors, status="agreed")
    OutcomeFactory(round=held(negotiation, 5, D(2022, 3, 3)), issue=corridors, status="raised")
    same_day_first = held(negotiation, 6, D(2022, 3, 12))
    same_day_second = held(negotiation, 7, D(2022, 3, 12))
    OutcomeFactory(round=same_day_second, issue=ceasefire, status="stalled")
    OutcomeFactory(round=same_day_first, issue=ceasefire, status="raised")
    assert statuses(negotiation) == [("Corridors", "agreed"), ("Ceasefire", "stalled")]


def test_scheduled_and_draft_rounds_do_not_set_the_status(talks):
    negotiation, corridors, _ = talks
    OutcomeFactory(round=held(negotiation, 1, D(2022, 3, 1)), issue=corridors, status="raised")
    OutcomeFactory(
        round=held(negotiation, 2, D(2022, 3, 5), status=Round.Status.POSTPONED),
        issue=corridors,
        status="agreed",
    )
    OutcomeFactory(
        round=held(negotiation, 3, D(2022, 3, 9), published=False),
        issue=corridors,
        status="stalled",
    )
    assert statuses(negotiation)[0] == ("Corridors", "raised")
    assert statuses(negotiation, drafts=True)[0] == ("Corridors", "stalled")


def test_an_issue_no_round_took_up_has_no_status(talks):
    negotiation, _, _ = talks
    assert statuses(negotiation) == [("Corridors", None), ("Ceasefire", None)]


def test_as_of_counts_a_round_from_its_end_date(talks):
    negotiation, corridors, _ = talks
    OutcomeFactory(round=held(negotiation, 1, D(2022, 3, 1)), issue=corridors, status="raised")
    video = held(negotiation, 2, D(2022, 3, 14), D(2022, 3, 17))
    OutcomeFactory(round=video, issue=corridors, status="partially-agreed")
    assert statuses(negotiation, as_of=D(2022, 2, 27))[0] == ("Corridors", None)
    assert statuses(negotiation, as_of=D(2022, 3, 1))[0] == ("Corridors", "raised")
    assert statuses(negotiation, as_of=D(2022, 3, 16))[0] == ("Corridors", "raised")
    assert statuses(negotiation, as_of=D(2022, 3, 17))[0] == ("Corridors", "partially-agreed")


def test_as_of_ignores_undated_rounds_but_now_counts_them_as_latest_as_the_timeline_does(talks):
    negotiation, corridors, _ = talks
    OutcomeFactory(round=held(negotiation, 1, D(2022, 3, 1)), issue=corridors, status="agreed")
    undated = RoundFactory(negotiation=negotiation, number=2, start_date=None, end_date=None)
    OutcomeFactory(round=undated, issue=corridors, status="stalled")
    assert statuses(negotiation, as_of=D(2030, 1, 1))[0] == ("Corridors", "agreed")
    assert statuses(negotiation)[0] == ("Corridors", "stalled")
    assert list(Round.objects.chronological())[-1] == undated


def test_status_changes_between_two_dates(talks):
    negotiation, corridors, ceasefire = talks
    first = held(negotiation, 1, D(2022, 3, 1))
    OutcomeFactory(round=first, issue=corridors, status="raised")
    OutcomeFactory(round=first, issue=ceasefire, status="raised")
    OutcomeFactory(round=held(negotiation, 2, D(2022, 3, 8)), issue=corridors, status="agreed")
    changes = status_changes(negotiation, since=D(2022, 3, 2))
    assert [(c.issue.title, c.before.status, c.after.status) for c in changes] == [
        ("Corridors", "raised", "agreed")
    ]
    assert status_changes(negotiation, since=D(2022, 3, 2), until=D(2022, 3, 7)) == []


def test_counts_of_settled_and_open_issues(talks):
    negotiation, corridors, _ = talks
    OutcomeFactory(round=held(negotiation, 1, D(2022, 3, 1)), issue=corridors, status="agreed")
    IssueFactory(negotiation=negotiation, order=2)
    assert status_counts(issue_statuses(negotiation)) == {"agreed": 1, "open": 2}


def test_statuses_take_two_queries_however_many_rounds(talks, django_assert_num_queries):
    negotiation, corridors, ceasefire = talks
    for number in range(1, 40):
        OutcomeFactory(
            round=held(negotiation, number, D(2022, 1, 1) + datetime.timedelta(days=number)),
            issue=corridors if number % 2 else ceasefire,
        )
    with django_assert_num_queries(2):
        issue_statuses(negotiation, as_of=D(2022, 1, 20))


def test_demo_board_on_7_march_2022_shows_the_corridors_of_that_day():
    call_command("load_demo", stdout=StringIO())
    negotiation = Negotiation.objects.get(slug="russia-ukraine")
    on_the_day = {s.issue.slug: s for s in issue_statuses(negotiation, as_of=D(2022, 3, 7))}
    day_before = {s.issue.slug: s for s in issue_statuses(negotiation, as_of=D(2022, 3, 6))}
    assert on_the_day["humanitarian-corridors"].outcome.round.number == 3
    assert on_the_day["humanitarian-corridors"].status == Outcome.Status.PARTIALLY_AGREED
    assert day_before["humanitarian-corridors"].status == Outcome.Status.AGREED


def test_stance_trails_draw_the_latest_rounds_and_still_find_an_older_latest_stance(db):
    """The course covers the latest rounds only; a party silent on an issue in them keeps
    its latest stance from before, and a position in a draft counts for nothing."""
    negotiation = NegotiationFactory()
    issue, other = IssueFactory(negotiation=negotiation), IssueFactory(negotiation=negotiation)
    north, south = PartyFactory(), PartyFactory()
    rounds = [RoundFactory(negotiation=negotiation, number=n) for n in range(1, 8)]
    PositionFactory(round=rounds[0], party=south, issue=other, stance="demand")
    PositionFactory(round=rounds[1], party=south, issue=other, stance="reject")
    for round_, stance in zip(
        rounds[2:], ["demand", "offer", "offer", "accept", "reject"], strict=True
    ):
        PositionFactory(round=round_, party=north, issue=issue, stance=stance)
    draft = RoundFactory(negotiation=negotiation, number=8, published=False)
    PositionFactory(round=draft, party=south, issue=issue, stance="offer")

    trails = {(t.party_id, t.issue_id): t for t in status.stance_trails(negotiation, rounds=3)}
    assert set(trails) == {(north.pk, issue.pk), (south.pk, other.pk)}
    assert trails[north.pk, issue.pk].stances == ["offer", "accept", "reject"]
    older = trails[south.pk, other.pk]
    assert (older.stances, older.round_number) == (["reject"], 2)

    whole = {(t.party_id, t.issue_id): t for t in status.stance_trails(negotiation)}
    assert whole[north.pk, issue.pk].stances == ["demand", "offer", "accept", "reject"]
    assert whole[south.pk, other.pk].stances == ["demand", "reject"]
