from unittest import mock

import pytest
from django.db import OperationalError, connection
from django.test.utils import CaptureQueriesContext

from negotiations.models import Negotiation

from .factories import NegotiationFactory, OutcomeFactory, RoundFactory

pytestmark = pytest.mark.django_db


def test_home_lists_negotiations_active_first_with_their_latest_published_round(client):
    concluded = NegotiationFactory(title="Old talks", status=Negotiation.Status.CONCLUDED)
    active = NegotiationFactory(title="Current talks", status=Negotiation.Status.ACTIVE)
    RoundFactory(negotiation=active, number=1, title="Opening round")
    RoundFactory(negotiation=active, number=2, title="Second round")
    RoundFactory(negotiation=active, number=3, title="Secret draft", published=False)
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert html.index("Current talks") < html.index("Old talks")
    assert 'Latest round: <a href="/negotiations/' in html
    assert '/rounds/2/">Second round</a>' in html
    assert "Secret draft" not in html
    assert "2 rounds" in html
    assert concluded.get_absolute_url() in html


def test_home_query_count_does_not_grow_with_negotiations(client, django_assert_num_queries):
    NegotiationFactory()
    with CaptureQueriesContext(connection) as few:
        client.get("/")
    for _ in range(20):
        RoundFactory(negotiation=NegotiationFactory())
    with django_assert_num_queries(len(few)):
        client.get("/")


def test_timeline_shows_published_rounds_with_outcomes(client):
    round_ = RoundFactory(title="Istanbul round")
    OutcomeFactory(round=round_, issue__title="Neutrality", status="partially-agreed")
    RoundFactory(negotiation=round_.negotiation, title="Unfinished draft", published=False)
    response = client.get(round_.negotiation.get_absolute_url())
    assert response.status_code == 200
    html = response.content.decode()
    assert "Istanbul round" in html
    assert "Neutrality: Partially agreed" in html
    assert "Unfinished draft" not in html


@pytest.mark.parametrize("page", ["abc", "999", "-1"])
def test_timeline_survives_a_bad_page_number(client, page):
    round_ = RoundFactory()
    response = client.get(round_.negotiation.get_absolute_url(), {"page": page})
    assert response.status_code == 200
    assert round_.title in response.content.decode()


def test_timeline_query_count_is_the_same_for_5_and_50_rounds(client, django_assert_num_queries):
    negotiation = NegotiationFactory()
    for _ in range(5):
        OutcomeFactory(round=RoundFactory(negotiation=negotiation))
    with CaptureQueriesContext(connection) as five:
        client.get(negotiation.get_absolute_url())
    for _ in range(45):
        OutcomeFactory(round=RoundFactory(negotiation=negotiation))
    with django_assert_num_queries(len(five)):
        client.get(negotiation.get_absolute_url())


def test_unknown_negotiation_gives_a_friendly_404(client):
    response = client.get("/negotiations/no-such-talks/")
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()


def test_healthz_reports_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}
    assert "no-cache" in response["Cache-Control"]


def test_healthz_answers_503_when_the_database_is_unreachable(client):
    with mock.patch.object(connection, "cursor", side_effect=OperationalError("down")):
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"] == "unreachable"


def test_pages_carry_security_headers(client):
    response = client.get("/")
    assert "script-src 'self' 'nonce-" in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    nonce = response["Content-Security-Policy"].split("'nonce-")[1].split("'")[0]
    assert f'nonce="{nonce}"' in response.content.decode()
