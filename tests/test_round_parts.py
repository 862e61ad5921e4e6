"""Hosts, delegations, outcomes, positions and statements carry their round's negotiation
and published state (models.InRound), for the timeline's party filter, search and the
person and issue pages. Every way a round or its rows change keeps them equal."""

import json

import pytest
from django.test import Client

from negotiations.interchange import export_negotiation, import_negotiation
from negotiations.models import IN_ROUND, Round, RoundHost

from .factories import (
    DelegationFactory,
    NegotiationFactory,
    OutcomeFactory,
    PartyFactory,
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
