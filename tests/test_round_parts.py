"""Hosts, delegations, outcomes, positions and statements carry their round's negotiation
and published state (models.InRound), for the timeline's party filter, search and the
person and issue pages. Every way a round or its rows change keeps them equal."""

import datetime
import json
import re

import pytest
from django.test import Client

from negotiations import history
from negotiations.interchange import export_negotiation, import_negotiation
from negotiations.models import IN_ROUND, Delegation, DelegationMember, Outcome, Round, RoundHost

from .factories import (
    DelegationFactory,
    DelegationMemberFactory,
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


def test_an_import_fills_them_in(hosted):
    hosted.published = True
    hosted.save()
    document = json.loads(export_negotiation(hosted.negotiation))
    document["negotiation"]["slug"] = "imported-copy"
    copy = import_negotiation(json.dumps(document)).negotiation
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
    hosted.published = True
    hosted.save()
    document = json.loads(export_negotiation(hosted.negotiation))
    document["negotiation"]["slug"] = "imported-copy"
    copy = import_negotiation(json.dumps(document)).negotiation
    [imported] = copy.rounds.all()
    assert members_copy(imported) == {(True, imported.start_date, imported.number)}


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
