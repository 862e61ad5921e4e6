"""The workspace's pages cost the same number of queries however many rounds there are."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from .factories import (
    DelegationMemberFactory,
    NegotiationFactory,
    OutcomeFactory,
    PositionFactory,
    RoundFactory,
    StatementFactory,
)

pytestmark = pytest.mark.django_db


def add_rounds(negotiation, count: int, start: int) -> None:
    for number in range(start, start + count):
        round_ = RoundFactory(negotiation=negotiation, number=number, published=number % 2 == 0)
        OutcomeFactory(round=round_, issue__negotiation=negotiation)
        PositionFactory(round=round_, issue__negotiation=negotiation)
        StatementFactory(round=round_)
        DelegationMemberFactory(delegation__round=round_)


@pytest.fixture
def analyst_client(client, users):
    client.force_login(users["analyst"])
    return client


@pytest.mark.parametrize("page", ["workspace", "new round", "round form", "history"])
def test_workspace_queries_do_not_grow_with_the_number_of_rounds(
    analyst_client, page, django_assert_num_queries
):
    negotiation = NegotiationFactory()
    add_rounds(negotiation, 5, start=1)
    url = {
        "workspace": "/log/",
        "new round": f"/log/{negotiation.slug}/rounds/new/",
        "round form": f"/log/{negotiation.slug}/rounds/1/",
        "history": f"/log/{negotiation.slug}/rounds/1/history/",
    }[page]
    assert analyst_client.get(url).status_code == 200
    with CaptureQueriesContext(connection) as five:
        analyst_client.get(url)
    add_rounds(negotiation, 45, start=6)
    with django_assert_num_queries(len(five)):
        assert analyst_client.get(url).status_code == 200
