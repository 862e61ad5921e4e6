"""Hosts, delegations, outcomes, positions and statements carry their round's negotiation
and published state (models.InRound), for the timeline's party filter, search and the
person and issue pages. Every way a round or its rows change keeps them equal."""

import datetime
import json
import re

import pytest
from django.test import Client

from negotiations import history, status
from negotiations.interchange import export_negotiation, import_negotiation
from negotiations.models import (
    IN_ROUND,
    Delegation,
    DelegationMember,
    Outcome,
    Position,
    Round,
    RoundHost,
)

from .factories import (
    DelegationFactory,
    DelegationMemberFactory,
    IssueFactory,
    NegotiationFactory,
    OutcomeFactory,
    PartyFactory,
    PersonFactory,
    PositionFactory,
    RoundFactory,
    StatementFactory,
)

pytestmark = pytest.mark.django_db


def carried(round_: Round) -> set[tuple[int, bool]]:
    """What the round's parts say about its negotiation and state."""
    rows = {model: list(model.objects.filter(round=round_)) for model in IN_ROUND}
    assert all(rows.values()), "the round needs one row of each kind for this test to mean anything"
    return {(row.negotiation_id, row.published) for each in rows.values() for row in each}


@pytest.fixture
def hosted():
    round_ = RoundFactory(published=False)
    round_.hosts.add(PartyFactory())  # a bulk insert, not RoundHost.save
    DelegationFactory(round=round_)
    OutcomeFactory(round=round_)
    PositionFactory(round=round_)
    StatementFactory(round=round_)
    return round_


def test_new_rows_take_the_rounds_negotiation_and_state(hosted):
    assert carried(hosted) == {(hosted.negotiation_id, False)}
    hosted.published = True
    hosted.save()
    RoundHost.objects.create(round=hosted, party=PartyFactory())  # through save()
    assert carried(hosted) == {(hosted.negotiation_id, True)}


def test_publishing_and_unpublishing_the_round_carries_over(hosted):
    hosted.published = True
    hosted.save()
    assert carried(hosted) == {(hosted.negotiation_id, True)}
    fresh = Round.objects.get(pk=hosted.pk)  # as a view would load it
    fresh.published = False
    fresh.save()
    assert carried(hosted) == {(hosted.negotiation_id, False)}


def test_moving_the_round_to_another_negotiation_carries_over(hosted):
    other = NegotiationFactory()
    fresh = Round.objects.get(pk=hosted.pk)
    fresh.negotiation = other
    fresh.save()
    assert carried(hosted) == {(other.pk, False)}


def imported_published(round_: Round):
    """Publish the round, export its negotiation and import that under another slug."""
    round_.published = True
    round_.save()
    document = json.loads(export_negotiation(round_.negotiation))
    document["negotiation"]["slug"] = "imported-copy"
    return import_negotiation(json.dumps(document)).negotiation


def test_an_import_fills_them_in(hosted):
    copy = imported_published(hosted)
    [imported] = copy.rounds.all()
    assert carried(imported) == {(copy.pk, True)}


def test_the_timeline_party_filter_lists_parties_of_published_rounds_only(hosted):
    negotiation = hosted.negotiation
    page = Client().get(f"/negotiations/{negotiation.slug}/")
    host = RoundHost.objects.get(round=hosted).party
    assert f'value="{host.slug}"' not in page.content.decode()

    hosted.published = True
    hosted.save()
    page = Client().get(f"/negotiations/{negotiation.slug}/")
    assert f'value="{host.slug}"' in page.content.decode()


# --- Delegation members keep the round's state, date and number (the person page) ------


def members_copy(round_: Round) -> set[tuple]:
    rows = DelegationMember.objects.filter(delegation__round=round_)
    assert rows, "the round needs a delegation member for this test to mean anything"
    return {(m.published, m.round_start_date, m.round_number) for m in rows}


def test_members_take_the_rounds_state_date_and_number_and_keep_them(hosted):
    [delegation] = hosted.delegations.all()
    DelegationMemberFactory(delegation=delegation)
    assert members_copy(hosted) == {(False, hosted.start_date, hosted.number)}

    fresh = Round.objects.get(pk=hosted.pk)
    fresh.published = True
    fresh.start_date = fresh.end_date = datetime.date(2031, 5, 6)
    fresh.number = 77
    fresh.save()
    assert members_copy(hosted) == {(True, datetime.date(2031, 5, 6), 77)}

    other = RoundFactory(negotiation=hosted.negotiation, published=True)
    moved = Delegation.objects.get(pk=delegation.pk)  # the admin can move a delegation
    moved.round = other
    moved.save()
    assert members_copy(other) == {(True, other.start_date, other.number)}


def test_members_of_an_import_carry_their_rounds_copy(hosted):
    DelegationMemberFactory(delegation=hosted.delegations.get())
    copy = imported_published(hosted)
    [imported] = copy.rounds.all()
    assert members_copy(imported) == {(True, imported.start_date, imported.number)}


# --- Positions keep the round's date and number (a party's stance before a round) ----


def positions_copy(round_: Round) -> set[tuple]:
    rows = Position.objects.filter(round=round_)
    assert rows, "the round needs a position for this test to mean anything"
    return {(p.round_start_date, p.round_number) for p in rows}


def test_positions_take_the_rounds_date_and_number_and_keep_them(hosted):
    assert positions_copy(hosted) == {(hosted.start_date, hosted.number)}

    fresh = Round.objects.get(pk=hosted.pk)
    fresh.start_date = fresh.end_date = datetime.date(2031, 5, 6)
    fresh.number = 77
    fresh.save()
    assert positions_copy(hosted) == {(datetime.date(2031, 5, 6), 77)}

    other = RoundFactory(negotiation=hosted.negotiation, start_date=None, end_date=None)
    moved = Position.objects.get(round=hosted)  # the admin can move a position
    moved.round = other
    moved.save()
    assert positions_copy(other) == {(None, other.number)}

    copy = imported_published(hosted)
    imported = copy.rounds.get(number=other.number)
    assert positions_copy(imported) == {(None, other.number)}


def test_a_position_answers_to_the_partys_stance_before_the_round_in_the_rounds_order():
    """The stance before a round follows the rounds' dates, then numbers, and moves when a
    round's date does; drafts do not count."""
    negotiation = NegotiationFactory()
    party, issue = PartyFactory(), IssueFactory(negotiation=negotiation)

    def held(number, day, stance, **kwargs):
        round_ = RoundFactory(
            negotiation=negotiation, number=number, start_date=day, end_date=day, **kwargs
        )
        PositionFactory(round=round_, party=party, issue=issue, stance=stance)
        return round_

    d = datetime.date
    latest = held(1, d(2022, 3, 9), "accept")
    held(2, d(2022, 3, 1), "reject")
    later_same_day = held(3, d(2022, 3, 1), "demand")
    held(4, d(2022, 3, 5), "offer", published=False)

    def before(round_):
        [position] = status.with_previous_stance(round_.positions.all(), round_)
        return position.previous_stance

    assert before(latest) == "demand"
    assert before(later_same_day) == "reject"
    later_same_day.start_date = later_same_day.end_date = d(2022, 3, 10)
    later_same_day.save()
    assert before(latest) == "reject"
    assert before(later_same_day) == "accept"


def test_the_person_page_lists_rounds_by_their_date_after_a_date_changes(client):
    person = PersonFactory()
    early, late = (
        RoundFactory(published=True, start_date=datetime.date(2022, 3, day)) for day in (1, 20)
    )
    for round_ in (early, late):
        DelegationMemberFactory(person=person, delegation=DelegationFactory(round=round_))

    def listed() -> list[str]:
        html = client.get(f"/people/{person.slug}/").content.decode()
        return re.findall(r'href="(/negotiations/[^"]+/rounds/\d+/)"', html)

    assert listed().index(late.get_absolute_url()) < listed().index(early.get_absolute_url())
    early.start_date = early.end_date = datetime.date(2022, 4, 1)  # now the latest
    early.save()
    assert listed().index(early.get_absolute_url()) < listed().index(late.get_absolute_url())


def test_the_audit_trail_shows_what_was_edited_not_the_copies_that_followed(hosted):
    [outcome] = Outcome.objects.filter(round=hosted)
    fresh = Round.objects.get(pk=hosted.pk)
    fresh.published = True  # the outcome's copy follows, with no record of its own
    fresh.save()
    outcome = Outcome.objects.get(pk=outcome.pk)
    outcome.text = "Agreed in full."
    outcome.save()

    records = Outcome.history.filter(id=outcome.pk)
    *_, edited = history.entries(Outcome, records)
    assert [change.field for change in edited.changes] == ["text"]
