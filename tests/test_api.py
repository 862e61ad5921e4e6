"""The read-only JSON API at /api/v1/: content, published data only, incremental sync,
conditional requests, pagination, errors, the OpenAPI document and a property-based sweep
of every operation it describes."""

import re
from datetime import UTC, date, datetime, timedelta, timezone
from types import SimpleNamespace
from urllib.parse import quote

import pytest
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone as django_timezone
from django.utils.dateparse import parse_datetime
from django.utils.http import http_date
from hypothesis import HealthCheck, Phase, event, given, settings
from hypothesis import strategies as st

from negotiations.models import SLUG_PATTERN, Party, Round, RoundCitation, RoundHost

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
    SourceFactory,
    StatementFactory,
)

pytestmark = pytest.mark.django_db

API = "/api/v1"
NOT_FOUND = {"detail": "Not Found"}
DRAFT_TEXTS = [
    "Secret draft",
    "Draft agreement.",
    "Draft neutrality.",
    "Draft offer.",
    "Draft statement.",
]


@pytest.fixture
def lenient_client() -> Client:
    """A client that answers 500 instead of raising, to assert on the status."""
    return Client(raise_request_exception=False)


@pytest.fixture
def talks(db) -> SimpleNamespace:
    """Black Sea talks: two published held rounds around a draft, a scheduled round and an
    undated one, with delegations, outcomes, positions, statements and sources."""
    negotiation = NegotiationFactory(
        slug="black-sea-talks",
        title="Black Sea talks",
        summary="Talks on corridors and prisoners.",
        started_on=date(2022, 2, 28),
    )
    other = NegotiationFactory(slug="alpine-talks", title="Alpine talks", started_on=None)
    RoundFactory(negotiation=other, number=1, title="Elsewhere")
    ukraine = PartyFactory(slug="ukraine", name="Ukraine", aliases=["UA"])
    russia = PartyFactory(slug="russia", name="Russia", aliases=["Russian Federation"])
    turkey = PartyFactory(slug="turkey", name="Türkiye", kind=Party.Kind.MEDIATOR)
    umerov = PersonFactory(
        slug="rustem-umerov", name="Rustem Umerov", party=ukraine, title="Minister"
    )
    arakhamia = PersonFactory(slug="davyd-arakhamia", name="Davyd Arakhamia", party=ukraine)
    medinsky = PersonFactory(
        slug="vladimir-medinsky", name="Vladimir Medinsky", party=russia, aliases=["Medinskiy"]
    )
    guterres = PersonFactory(
        slug="antonio-guterres", name="António Guterres", party=None, title="Secretary-General"
    )
    corridors = IssueFactory(
        negotiation=negotiation,
        slug="corridors",
        title="Humanitarian corridors",
        description="Safe passage for civilians.",
        order=0,
    )
    prisoners = IssueFactory(negotiation=negotiation, slug="prisoners", title="Prisoners", order=1)
    neutrality = IssueFactory(
        negotiation=negotiation, slug="neutrality", title="Neutrality", order=2
    )
    report = SourceFactory(
        negotiation=negotiation,
        key="reuters-0329",
        url="https://www.reuters.com/world/istanbul-talks",
        title="Talks in Istanbul",
        publisher="Reuters",
        author="A. Reporter",
        published_on=date(2022, 3, 29),
        archived_url="https://web.archive.org/web/2022/istanbul-talks",
    )
    briefing = SourceFactory(
        negotiation=negotiation,
        key="kyiv-briefing",
        url="https://example.gov.ua/briefing",
        title="Briefing",
        publisher="Government",
        archived_url=None,
    )

    istanbul = RoundFactory(
        negotiation=negotiation,
        number=1,
        title="Istanbul talks",
        start_date=date(2022, 3, 29),
        end_date=date(2022, 3, 30),
        location="Istanbul",
        format=Round.Format.IN_PERSON,
        summary="First face-to-face round.",
    )
    RoundHost.objects.create(round=istanbul, party=turkey)
    RoundCitation.objects.create(round=istanbul, source=briefing)
    delegation = DelegationFactory(round=istanbul, party=ukraine)
    DelegationMemberFactory(delegation=delegation, person=arakhamia, role="Faction leader")
    DelegationMemberFactory(delegation=delegation, person=umerov, role="Minister", is_head=True)
    delegation = DelegationFactory(round=istanbul, party=russia)
    DelegationMemberFactory(delegation=delegation, person=medinsky, role="Aide", is_head=True)
    OutcomeFactory(round=istanbul, issue=prisoners, status="raised", text="Exchange raised.")
    outcome = OutcomeFactory(
        round=istanbul, issue=corridors, status="under-discussion", text="Corridors discussed."
    )
    outcome.sources.add(report)
    demand = PositionFactory(
        round=istanbul,
        party=ukraine,
        issue=corridors,
        stance="demand",
        key="ua-corridors",
        text="Open corridors from Mariupol.",
    )
    demand.sources.add(report)
    StatementFactory(round=istanbul, person=medinsky, said_on=None, text="Constructive talks.")
    statement = StatementFactory(
        round=istanbul,
        person=umerov,
        said_on=date(2022, 3, 29),
        text="We agreed on the agenda.",
        original="Ми погодили порядок денний.",
        language="uk",
    )
    statement.sources.add(briefing)

    draft = RoundFactory(
        negotiation=negotiation,
        number=2,
        title="Secret draft",
        published=False,
        start_date=date(2022, 4, 5),
    )
    OutcomeFactory(round=draft, issue=corridors, status="agreed", text="Draft agreement.")
    OutcomeFactory(round=draft, issue=neutrality, status="raised", text="Draft neutrality.")
    draft_offer = PositionFactory(
        round=draft, party=russia, issue=corridors, stance="offer", text="Draft offer."
    )
    StatementFactory(round=draft, person=medinsky, text="Draft statement.")

    antalya = RoundFactory(
        negotiation=negotiation,
        number=3,
        title="",
        start_date=date(2022, 4, 10),
        end_date=date(2022, 4, 10),
        location="Antalya",
        format=Round.Format.VIDEO,
    )
    RoundHost.objects.create(round=antalya, party=turkey)
    RoundHost.objects.create(round=antalya, party=ukraine)
    OutcomeFactory(round=antalya, issue=corridors, status="partially-agreed", text="Partly agreed.")
    accept = PositionFactory(
        round=antalya,
        party=russia,
        issue=corridors,
        stance="accept",
        responds_to=demand,
        text="Accepts in part.",
    )
    reject = PositionFactory(
        round=antalya,
        party=ukraine,
        issue=corridors,
        stance="reject",
        responds_to=draft_offer,
        text="Rejects the offer.",
    )
    scheduled = RoundFactory(
        negotiation=negotiation,
        number=4,
        title="Planned meeting",
        status=Round.Status.SCHEDULED,
        start_date=date(2022, 5, 1),
        end_date=None,
        location="",
        format=None,
    )
    OutcomeFactory(round=scheduled, issue=prisoners, status="agreed", text="Not yet held.")
    undated = RoundFactory(
        negotiation=negotiation, number=5, title="Undated contacts", start_date=None, end_date=None
    )
    return SimpleNamespace(**locals())


def _get_json(client, url, data=None, status=200):
    response = client.get(url, data or {})
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    return response.json()


def _numbers(page: dict) -> list[int]:
    return [item["number"] for item in page["items"]]


def _ms(moment: datetime) -> datetime:
    """A datetime as the API writes it: to the millisecond."""
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def _backdate(rounds, hours: int = 1) -> None:
    """Move `updated_at` back without saving (QuerySet.update skips auto_now), so that a
    later save is later by more than Last-Modified's one-second resolution."""
    Round.objects.filter(pk__in=[r.pk for r in rounds]).update(
        updated_at=django_timezone.now() - timedelta(hours=hours)
    )


# --- content ------------------------------------------------------------------------------


def test_negotiations_are_listed_by_title_with_their_fields(client, talks):
    assert _get_json(client, f"{API}/negotiations") == [
        {
            "slug": "alpine-talks",
            "title": "Alpine talks",
            "summary": "Direct talks between two delegations.",
            "status": "active",
            "started_on": None,
            "ended_on": None,
            "url": "/negotiations/alpine-talks/",
        },
        {
            "slug": "black-sea-talks",
            "title": "Black Sea talks",
            "summary": "Talks on corridors and prisoners.",
            "status": "active",
            "started_on": "2022-02-28",
            "ended_on": None,
            "url": "/negotiations/black-sea-talks/",
        },
    ]


def test_a_negotiation_lists_its_issues_in_agenda_order_with_their_current_status(client, talks):
    data = _get_json(client, f"{API}/negotiations/black-sea-talks")
    assert data == {
        "slug": "black-sea-talks",
        "title": "Black Sea talks",
        "summary": "Talks on corridors and prisoners.",
        "status": "active",
        "started_on": "2022-02-28",
        "ended_on": None,
        "url": "/negotiations/black-sea-talks/",
        "issues": [
            {
                "slug": "corridors",
                "title": "Humanitarian corridors",
                "description": "Safe passage for civilians.",
                # Round 3, not the draft round 2 that "agreed" it.
                "status": "partially-agreed",
                "status_since_round": 3,
            },
            {
                "slug": "prisoners",
                "title": "Prisoners",
                "description": "",
                # The scheduled round 4 "agreed" it, but only held rounds count.
                "status": "raised",
                "status_since_round": 1,
            },
            # Only the draft took neutrality up.
            {
                "slug": "neutrality",
                "title": "Neutrality",
                "description": "",
                "status": None,
                "status_since_round": None,
            },
        ],
    }


def test_rounds_are_listed_oldest_first_undated_last_without_drafts(client, talks):
    data = _get_json(client, f"{API}/negotiations/black-sea-talks/rounds")
    assert data["count"] == 4
    assert _numbers(data) == [1, 3, 4, 5]
    istanbul, antalya, scheduled, undated = data["items"]
    assert parse_datetime(istanbul.pop("updated_at")) == _ms(talks.istanbul.updated_at)
    assert istanbul == {
        "number": 1,
        "title": "Istanbul talks",
        "status": "held",
        "start_date": "2022-03-29",
        "end_date": "2022-03-30",
        "location": "Istanbul",
        "format": "in-person",
        "hosts": ["turkey"],
        "summary": "First face-to-face round.",
        "url": "/negotiations/black-sea-talks/rounds/1/",
    }
    # Hosts in the order they were added, not by name or id.
    assert antalya["hosts"] == ["turkey", "ukraine"]
    assert antalya["title"] == ""
    assert antalya["format"] == "video"
    assert scheduled["status"] == "scheduled"
    assert scheduled["format"] is None
    assert scheduled["end_date"] is None
    assert undated["start_date"] is None
    assert undated["url"] == "/negotiations/black-sea-talks/rounds/5/"


def test_a_round_in_full_has_delegations_outcomes_positions_statements_and_sources(client, talks):
    data = _get_json(client, f"{API}/negotiations/black-sea-talks/rounds/1")
    assert parse_datetime(data.pop("updated_at")) == _ms(talks.istanbul.updated_at)
    assert data == {
        "number": 1,
        "title": "Istanbul talks",
        "status": "held",
        "start_date": "2022-03-29",
        "end_date": "2022-03-30",
        "location": "Istanbul",
        "format": "in-person",
        "hosts": ["turkey"],
        "summary": "First face-to-face round.",
        "url": "/negotiations/black-sea-talks/rounds/1/",
        "delegations": [
            {
                "party": "ukraine",
                "members": [  # the head first
                    {
                        "person": "rustem-umerov",
                        "name": "Rustem Umerov",
                        "role": "Minister",
                        "is_head": True,
                    },
                    {
                        "person": "davyd-arakhamia",
                        "name": "Davyd Arakhamia",
                        "role": "Faction leader",
                        "is_head": False,
                    },
                ],
            },
            {
                "party": "russia",
                "members": [
                    {
                        "person": "vladimir-medinsky",
                        "name": "Vladimir Medinsky",
                        "role": "Aide",
                        "is_head": True,
                    }
                ],
            },
        ],
        "outcomes": [  # agenda order
            {
                "issue": "corridors",
                "status": "under-discussion",
                "text": "Corridors discussed.",
                "sources": ["reuters-0329"],
            },
            {"issue": "prisoners", "status": "raised", "text": "Exchange raised.", "sources": []},
        ],
        "positions": [
            {
                "id": talks.demand.pk,
                "party": "ukraine",
                "issue": "corridors",
                "stance": "demand",
                "text": "Open corridors from Mariupol.",
                "responds_to": None,
                "sources": ["reuters-0329"],
            }
        ],
        "statements": [  # dated first, undated last
            {
                "person": "rustem-umerov",
                "name": "Rustem Umerov",
                "said_on": "2022-03-29",
                "text": "We agreed on the agenda.",
                "original": "Ми погодили порядок денний.",
                "language": "uk",
                "sources": ["kyiv-briefing"],
            },
            {
                "person": "vladimir-medinsky",
                "name": "Vladimir Medinsky",
                "said_on": None,
                "text": "Constructive talks.",
                "original": "",
                "language": "",
                "sources": [],
            },
        ],
        "sources": [  # the round's and its items', once each, by key
            {
                "key": "kyiv-briefing",
                "url": "https://example.gov.ua/briefing",
                "title": "Briefing",
                "publisher": "Government",
                "author": "",
                "published_on": None,
                "archived_url": None,
            },
            {
                "key": "reuters-0329",
                "url": "https://www.reuters.com/world/istanbul-talks",
                "title": "Talks in Istanbul",
                "publisher": "Reuters",
                "author": "A. Reporter",
                "published_on": "2022-03-29",
                "archived_url": "https://web.archive.org/web/2022/istanbul-talks",
            },
        ],
    }


def test_a_position_shows_the_published_position_it_answers(client, talks):
    data = _get_json(client, f"{API}/negotiations/black-sea-talks/rounds/3")
    assert data["positions"] == [
        {
            "id": talks.accept.pk,
            "party": "russia",
            "issue": "corridors",
            "stance": "accept",
            "text": "Accepts in part.",
            "responds_to": talks.demand.pk,
            "sources": [],
        },
        {
            "id": talks.reject.pk,
            "party": "ukraine",
            "issue": "corridors",
            "stance": "reject",
            "text": "Rejects the offer.",
            "responds_to": None,  # it answers the draft's offer
            "sources": [],
        },
    ]


def test_issue_history_lists_held_published_outcomes_with_the_status_before(client, talks):
    data = _get_json(client, f"{API}/negotiations/black-sea-talks/issues/corridors/history")
    assert data == {
        "items": [
            {
                "round": 1,
                "round_title": "Istanbul talks",
                "start_date": "2022-03-29",
                "end_date": "2022-03-30",
                "status": "under-discussion",
                "previous_status": None,
                "changed": True,
                "text": "Corridors discussed.",
            },
            {
                "round": 3,
                "round_title": "Round 3",
                "start_date": "2022-04-10",
                "end_date": "2022-04-10",
                "status": "partially-agreed",
                "previous_status": "under-discussion",
                "changed": True,
                "text": "Partly agreed.",
            },
        ],
        "count": 2,
    }


def test_issue_history_marks_a_round_that_kept_the_status_as_unchanged(client):
    negotiation = NegotiationFactory()
    issue = IssueFactory(negotiation=negotiation, slug="ceasefire")
    for number, status in enumerate(["raised", "raised", "agreed"], start=1):
        round_ = RoundFactory(negotiation=negotiation, number=number)
        OutcomeFactory(round=round_, issue=issue, status=status)
    data = _get_json(client, f"{API}/negotiations/{negotiation.slug}/issues/ceasefire/history")
    assert [
        (i["round"], i["previous_status"], i["status"], i["changed"]) for i in data["items"]
    ] == [
        (1, None, "raised", True),
        (2, "raised", "raised", False),
        (3, "raised", "agreed", True),
    ]


def test_parties_are_listed_by_name_and_shown_one_by_one(client, talks):
    data = _get_json(client, f"{API}/parties")
    assert data["count"] == 3
    assert data["items"] == [
        {"slug": "russia", "name": "Russia", "kind": "state", "aliases": ["Russian Federation"]},
        {"slug": "turkey", "name": "Türkiye", "kind": "mediator", "aliases": []},
        {"slug": "ukraine", "name": "Ukraine", "kind": "state", "aliases": ["UA"]},
    ]
    assert _get_json(client, f"{API}/parties/turkey") == data["items"][1]


def test_people_are_listed_by_name_and_shown_one_by_one(client, talks):
    data = _get_json(client, f"{API}/people")
    assert data["count"] == 4
    assert [person["slug"] for person in data["items"]] == [
        "antonio-guterres",
        "davyd-arakhamia",
        "rustem-umerov",
        "vladimir-medinsky",
    ]
    assert data["items"][0] == {
        "slug": "antonio-guterres",
        "name": "António Guterres",
        "aliases": [],
        "party": None,
        "title": "Secretary-General",
    }
    assert _get_json(client, f"{API}/people/vladimir-medinsky") == {
        "slug": "vladimir-medinsky",
        "name": "Vladimir Medinsky",
        "aliases": ["Medinskiy"],
        "party": "russia",
        "title": "",
    }


# --- drafts -------------------------------------------------------------------------------


def test_a_draft_round_is_in_no_list_of_rounds_whatever_the_filter(client, talks):
    url = f"{API}/negotiations/black-sea-talks/rounds"
    talks.draft.save()  # the most recently saved round
    for filters in (
        {},
        {"start": "2022-04-05", "end": "2022-04-05"},
        {"updated_since": (django_timezone.now() - timedelta(days=1)).isoformat()},
    ):
        assert 2 not in _numbers(_get_json(client, url, filters)), filters
    assert _get_json(client, url, {"start": "2022-04-05", "end": "2022-04-05"})["count"] == 0


def test_a_draft_round_is_not_found(client, talks):
    url = f"{API}/negotiations/black-sea-talks/rounds/2"
    assert _get_json(client, url, status=404) == NOT_FOUND


def test_draft_outcomes_leave_issue_history_and_current_status_alone(client, talks):
    url = f"{API}/negotiations/black-sea-talks/issues/neutrality/history"
    assert _get_json(client, url) == {"items": [], "count": 0}
    history = _get_json(client, f"{API}/negotiations/black-sea-talks/issues/corridors/history")
    assert 2 not in [item["round"] for item in history["items"]]
    assert "agreed" not in [item["status"] for item in history["items"]]


def test_the_rounds_last_modified_is_the_last_save_of_any_round_of_the_negotiation(client, talks):
    """Any save counts, a draft's too: unpublishing is a save, and a detail's answer can
    depend on another round (an answered position); the ETag covers everything else."""
    _backdate([talks.istanbul, talks.antalya, talks.scheduled, talks.undated], hours=2)
    talks.draft.save()
    response = client.get(f"{API}/negotiations/black-sea-talks/rounds")
    assert response["Last-Modified"] == http_date(talks.draft.updated_at.timestamp())


def test_deleting_a_round_moves_the_last_modified(client, talks):
    _backdate(Round.objects.filter(negotiation=talks.negotiation))
    url = f"{API}/negotiations/black-sea-talks/rounds"
    since = {"if-modified-since": client.get(url)["Last-Modified"]}
    Round.objects.get(pk=talks.antalya.pk).delete()
    response = client.get(url, headers=since)
    assert response.status_code == 200
    assert talks.antalya.number not in [r["number"] for r in response.json()["items"]]


def _every_url(talks) -> list[str]:
    slug = "black-sea-talks"
    return [
        f"{API}/negotiations",
        f"{API}/negotiations/{slug}",
        f"{API}/negotiations/{slug}/rounds",
        *(f"{API}/negotiations/{slug}/rounds/{number}" for number in (1, 3, 4, 5)),
        *(
            f"{API}/negotiations/{slug}/issues/{issue}/history"
            for issue in ("corridors", "prisoners", "neutrality")
        ),
        f"{API}/parties",
        f"{API}/parties/russia",
        f"{API}/people",
        f"{API}/people/vladimir-medinsky",
    ]


def test_nothing_of_a_draft_round_appears_in_any_endpoint(client, talks):
    for url in _every_url(talks):
        body = client.get(url).content.decode()
        for text in DRAFT_TEXTS:
            assert text not in body, (url, text)
        assert f'"responds_to": {talks.draft_offer.pk}' not in body, url


# --- incremental sync and date filters ----------------------------------------------------


def test_updated_since_returns_exactly_the_rounds_saved_at_or_after_the_moment(client):
    negotiation = NegotiationFactory()
    RoundFactory(negotiation=negotiation)
    edited = RoundFactory(negotiation=negotiation)
    RoundFactory(negotiation=negotiation)
    publishing = RoundFactory(negotiation=negotiation, published=False)
    still_draft = RoundFactory(negotiation=negotiation, published=False)
    moment = django_timezone.now()
    edited.summary = "Corrected the venue."
    edited.save()
    publishing.published = True
    publishing.save()
    still_draft.save()
    url = f"{API}/negotiations/{negotiation.slug}/rounds"
    data = _get_json(client, url, {"updated_since": moment.isoformat()})
    assert _numbers(data) == [edited.number, publishing.number]
    assert data["count"] == 2
    later = django_timezone.now() + timedelta(seconds=1)
    assert _get_json(client, url, {"updated_since": later.isoformat()}) == {
        "items": [],
        "count": 0,
    }


def test_updated_since_includes_a_round_saved_at_exactly_that_moment(client):
    negotiation = NegotiationFactory()
    before, at, after = (RoundFactory(negotiation=negotiation) for _ in range(3))
    Round.objects.filter(pk=before.pk).update(updated_at=datetime(2024, 5, 1, 11, 59, tzinfo=UTC))
    moment = datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=UTC)
    Round.objects.filter(pk=at.pk).update(updated_at=moment)
    Round.objects.filter(pk=after.pk).update(updated_at=moment + timedelta(microseconds=1))
    url = f"{API}/negotiations/{negotiation.slug}/rounds"
    expected = [at.number, after.number]
    assert _numbers(_get_json(client, url, {"updated_since": moment.isoformat()})) == expected
    # The same instant in another time zone.
    kyiv = moment.astimezone(timezone(timedelta(hours=3))).isoformat()
    assert _numbers(_get_json(client, url, {"updated_since": kyiv})) == expected
    just_after = (moment + timedelta(microseconds=1)).isoformat()
    assert _numbers(_get_json(client, url, {"updated_since": just_after})) == [after.number]


def test_the_updated_at_a_client_was_given_finds_that_round_again(client):
    negotiation = NegotiationFactory()
    RoundFactory.create_batch(3, negotiation=negotiation)
    url = f"{API}/negotiations/{negotiation.slug}/rounds"
    items = _get_json(client, url)["items"]
    newest = max(items, key=lambda item: item["updated_at"])
    data = _get_json(client, url, {"updated_since": newest["updated_at"]})
    assert newest["number"] in _numbers(data)


def test_start_and_end_filter_on_the_start_date_inclusively(client):
    negotiation = NegotiationFactory()
    march = RoundFactory(negotiation=negotiation, start_date=date(2022, 3, 1))
    mid = RoundFactory(negotiation=negotiation, start_date=date(2022, 3, 10))
    long = RoundFactory(
        negotiation=negotiation, start_date=date(2022, 3, 20), end_date=date(2022, 3, 25)
    )
    RoundFactory(negotiation=negotiation, start_date=None, end_date=None)
    url = f"{API}/negotiations/{negotiation.slug}/rounds"

    def numbers(**filters) -> list[int]:
        return _numbers(_get_json(client, url, filters))

    assert numbers(start="2022-03-10") == [mid.number, long.number]
    assert numbers(end="2022-03-10") == [march.number, mid.number]
    assert numbers(start="2022-03-10", end="2022-03-10") == [mid.number]
    # On the start date: a round running past `end` is in, one started before `start` out.
    assert numbers(end="2022-03-22") == [march.number, mid.number, long.number]
    assert numbers(start="2022-03-21") == []
    assert numbers(start="2022-03-11", end="2022-03-09") == []


# --- conditional requests -----------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/negotiations",
        "/negotiations/black-sea-talks",
        "/negotiations/black-sea-talks/rounds",
        "/negotiations/black-sea-talks/rounds/1",
        "/negotiations/black-sea-talks/issues/corridors/history",
        "/parties",
    ],
)
def test_repeating_a_get_with_its_etag_answers_304_with_an_empty_body(client, talks, path):
    first = client.get(API + path)
    assert first.status_code == 200
    again = client.get(API + path, headers={"if-none-match": first["ETag"]})
    assert again.status_code == 304
    assert again.content == b""
    assert again["ETag"] == first["ETag"]


@pytest.mark.parametrize("path", ["/rounds", "/rounds/1"])
def test_after_a_round_changes_its_old_etag_gets_200_and_a_new_etag(client, talks, path):
    url = f"{API}/negotiations/black-sea-talks{path}"
    first = client.get(url)
    talks.istanbul.summary = "Revised summary."
    talks.istanbul.save()
    again = client.get(url, headers={"if-none-match": first["ETag"]})
    assert again.status_code == 200
    assert again["ETag"] != first["ETag"]
    assert "Revised summary." in again.content.decode()


@pytest.mark.parametrize("path", ["/rounds", "/rounds/1"])
def test_if_modified_since_last_modified_answers_304_until_a_later_change(client, talks, path):
    _backdate(Round.objects.filter(negotiation=talks.negotiation))
    url = f"{API}/negotiations/black-sea-talks{path}"
    first = client.get(url)
    assert first.status_code == 200
    since = {"if-modified-since": first["Last-Modified"]}
    not_modified = client.get(url, headers=since)
    assert not_modified.status_code == 304
    assert not_modified.content == b""
    talks.istanbul.location = "Dolmabahçe Palace, Istanbul"
    talks.istanbul.save()
    changed = client.get(url, headers=since)
    assert changed.status_code == 200
    assert "Dolmabahçe Palace, Istanbul" in str(changed.json())
    assert changed["Last-Modified"] != first["Last-Modified"]


def test_a_round_detail_is_modified_by_a_change_to_another_round(client, talks):
    _backdate(Round.objects.filter(negotiation=talks.negotiation))
    url = f"{API}/negotiations/black-sea-talks/rounds/1"
    since = {"if-modified-since": client.get(url)["Last-Modified"]}
    talks.undated.save()
    assert client.get(url, headers=since).status_code == 200


def test_unpublishing_a_round_is_not_answered_304_on_the_rounds_list(client, talks):
    """A round taken out of the list (unpublished) must move the list's Last-Modified, or
    a client would be told nothing changed although the list lost a round."""
    _backdate(Round.objects.filter(negotiation=talks.negotiation))
    url = f"{API}/negotiations/black-sea-talks/rounds"
    since = {"if-modified-since": client.get(url)["Last-Modified"]}
    talks.antalya.published = False
    talks.antalya.save()
    response = client.get(url, headers=since)
    assert response.status_code == 200
    assert _numbers(response.json()) == [1, 4, 5]


def test_unpublishing_an_answered_position_is_not_answered_304_on_the_answering_round(
    client, talks
):
    """A round's Last-Modified is its own `updated_at`, but its `responds_to` depends on
    whether the answered position's round is still published."""
    _backdate(Round.objects.filter(negotiation=talks.negotiation))
    url = f"{API}/negotiations/black-sea-talks/rounds/3"
    first = client.get(url)
    assert first.json()["positions"][0]["responds_to"] == talks.demand.pk
    talks.istanbul.published = False
    talks.istanbul.save()
    response = client.get(url, headers={"if-modified-since": first["Last-Modified"]})
    assert response.status_code == 200
    assert response.json()["positions"][0]["responds_to"] is None


# --- pagination ---------------------------------------------------------------------------


def test_rounds_come_50_a_page(client):
    negotiation = NegotiationFactory()
    rounds = RoundFactory.create_batch(60, negotiation=negotiation)
    url = f"{API}/negotiations/{negotiation.slug}/rounds"
    first = _get_json(client, url)
    assert first["count"] == 60
    assert len(first["items"]) == 50
    assert _numbers(first) == [r.number for r in rounds[:50]]
    second = _get_json(client, url, {"page": 2})
    assert second["count"] == 60
    assert _numbers(second) == [r.number for r in rounds[50:]]


# --- errors -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/negotiations/no-such-talks",
        "/negotiations/no-such-talks/rounds",
        "/negotiations/no-such-talks/rounds/1",
        "/negotiations/black-sea-talks/rounds/99",
        "/negotiations/black-sea-talks/rounds/0",
        "/negotiations/black-sea-talks/rounds/-1",
        "/negotiations/black-sea-talks/rounds/99999999999999999999",
        "/negotiations/no-such-talks/issues/corridors/history",
        "/negotiations/black-sea-talks/issues/no-such-issue/history",
        "/negotiations/alpine-talks/issues/corridors/history",
        "/parties/no-such-party",
        "/people/no-such-person",
    ],
)
def test_unknown_slugs_and_numbers_answer_404_json(client, talks, path):
    assert _get_json(client, API + path, status=404) == NOT_FOUND


@pytest.mark.parametrize(
    ("param", "value"),
    [
        ("start", "yesterday"),
        ("start", "2022-02-30"),
        ("end", "2022-13-01"),
        ("end", "01/03/2022"),
        ("updated_since", "2022-03-01T25:00:00Z"),
        ("updated_since", "last week"),
        ("page", "two"),
        ("page", "0"),
    ],
)
def test_a_bad_filter_answers_422_json_naming_the_parameter(client, talks, param, value):
    url = f"{API}/negotiations/black-sea-talks/rounds"
    data = _get_json(client, url, {param: value}, status=422)
    assert [error["loc"] for error in data["detail"]] == [["query", param]]


def test_a_round_number_that_is_not_a_number_answers_422_json(client, talks):
    data = _get_json(client, f"{API}/negotiations/black-sea-talks/rounds/one", status=422)
    assert data["detail"][0]["loc"] == ["path", "number"]


@pytest.mark.parametrize("number", [10**17, 10**19, 2**63])
def test_a_huge_page_number_is_not_a_server_error(lenient_client, talks, number):
    response = lenient_client.get(f"{API}/negotiations/black-sea-talks/rounds", {"page": number})
    assert response.status_code in {200, 404, 422}
    assert response["Content-Type"].startswith("application/json")


@pytest.mark.parametrize(
    "moment",
    [
        "0001-01-01T00:00:00+01:00",
        "9999-12-31T23:59:59-01:00",
        "0001-01-01T00:00:00Z",
        "9999-12-31T23:59:59.999999Z",
    ],
)
def test_an_extreme_updated_since_is_not_a_server_error(lenient_client, talks, moment):
    url = f"{API}/negotiations/black-sea-talks/rounds"
    response = lenient_client.get(url, {"updated_since": moment})
    assert response.status_code in {200, 422}
    assert response["Content-Type"].startswith("application/json")


@pytest.mark.parametrize(
    "path",
    [
        "/negotiations/talks%00",
        "/negotiations/talks%00/rounds",
        "/negotiations/black-sea-talks/issues/%00/history",
        "/parties/%00",
        "/people/a%00b",
    ],
)
def test_a_slug_with_a_nul_character_is_not_found(lenient_client, talks, path):
    response = lenient_client.get(API + path)
    assert response.status_code == 404
    assert response.json() == NOT_FOUND


# --- OpenAPI and docs ---------------------------------------------------------------------

PATHS = {
    "/api/v1/negotiations",
    "/api/v1/negotiations/{slug}",
    "/api/v1/negotiations/{slug}/rounds",
    "/api/v1/negotiations/{slug}/rounds/{number}",
    "/api/v1/negotiations/{slug}/issues/{issue}/history",
    "/api/v1/parties",
    "/api/v1/parties/{slug}",
    "/api/v1/people",
    "/api/v1/people/{slug}",
}


def test_the_openapi_document_describes_every_endpoint(client):
    document = _get_json(client, f"{API}/openapi.json")
    assert document["openapi"].startswith("3.")
    assert document["info"]["title"] == "Parley API"
    assert set(document["paths"]) == PATHS
    assert all(set(operations) == {"get"} for operations in document["paths"].values())
    rounds = document["paths"]["/api/v1/negotiations/{slug}/rounds"]["get"]
    assert {"start", "end", "updated_since", "page"} <= {p["name"] for p in rounds["parameters"]}


def test_the_docs_page_loads_its_scripts_and_styles_from_this_site(client):
    response = client.get(f"{API}/docs")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    assert not re.search(r"https?://|//[a-z]", html, re.IGNORECASE)
    scripts = re.findall(r'<script[^>]*\bsrc="([^"]*)"', html)
    styles = re.findall(r'<link[^>]*\brel="stylesheet"[^>]*\bhref="([^"]*)"', html)
    assets = re.findall(r'\b(?:src|href)="([^"]*)"', html)
    assert scripts
    assert styles
    assert all(asset.startswith("/static/ninja/") for asset in assets), assets
    for asset in assets:
        assert client.get(asset).status_code == 200, asset


# --- property-based sweep -----------------------------------------------------------------

ODD_STRINGS = [
    "",
    " ",
    ".",
    "..",
    "%",
    "a/b",
    "\x00",
    "null",
    "-1",
    "1e309",
    "ünïcödé",
    "Ｔａｌｋｓ",
    "🕊️",
    "\u202etalks",
    "talks\n",
    "' OR 1=1 --",
    "x" * 300,
]
NOT_INTEGERS = ["", "one", "1.5", "1e3", " 1", "0x10", "١", "+", "1_000", "\x00"]
INTEGER_EDGES = [0, 1, 2, 3, 5, -1, 2**31, 2**31 - 1, 2**63 - 1, 2**63, 10**17, 10**30]
BAD_DATES = ["2022-02-30", "2022-13-01", "0000-01-01", "10000-01-01", "2022-3-1", "20220301"]
BAD_DATES += ["1700000000", "-1", "2022-03-01T12:00:00", "2022-03-01T00:00:00Z"]
BAD_MOMENTS = ["2022-03-01T25:00:00", "2022-03-01T12:00:00+24:00", "now", "2022-03-01T00:00"]
BAD_MOMENTS += ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "1e30", "2022-03-01"]

minutes = st.integers(-23 * 60, 23 * 60).map(lambda m: timezone(timedelta(minutes=m)))
any_offset = st.builds(
    timezone, st.timedeltas(min_value=timedelta(hours=-23), max_value=timedelta(hours=23))
)
odd_integers = st.one_of(
    st.integers(min_value=2**62), st.sampled_from(INTEGER_EDGES), st.integers(max_value=0)
)
strings = st.one_of(
    st.sampled_from(ODD_STRINGS), st.text(max_size=20), st.from_regex(SLUG_PATTERN, fullmatch=True)
)
plain_dates = st.dates(date(2021, 1, 1), date(2023, 12, 31)).map(date.isoformat)
odd_dates = st.one_of(
    st.dates().map(date.isoformat), st.sampled_from(BAD_DATES), st.text(max_size=12)
)
plain_moments = st.datetimes(
    datetime(2020, 1, 1), datetime(2030, 12, 31), timezones=st.just(UTC) | minutes
).map(datetime.isoformat)
odd_moments = st.one_of(
    st.datetimes(timezones=st.none() | st.just(UTC) | minutes | any_offset).map(datetime.isoformat),
    st.sampled_from(BAD_MOMENTS),
    st.text(max_size=25),
)
http_dates = st.datetimes(min_value=datetime(1970, 1, 1), timezones=st.just(UTC)).map(
    lambda moment: http_date(moment.timestamp())
)


def _strategies(schema: dict, known: list) -> tuple[st.SearchStrategy, st.SearchStrategy]:
    """Values for a parameter, by its schema: (plausible ones, including the values that
    exist; odd ones: out of range, malformed, any unicode)."""
    plausible, odd = [st.sampled_from(known)] if known else [], []
    for option in schema.get("anyOf", [schema]):
        kind, form = option.get("type"), option.get("format")
        if kind == "integer":
            plausible.append(st.integers(1, 3))
            odd += [odd_integers, st.sampled_from(NOT_INTEGERS)]
        elif form == "date":
            plausible.append(plain_dates)
            odd.append(odd_dates)
        elif form == "date-time":
            plausible.append(plain_moments)
            odd += [odd_moments, odd_dates]
        elif kind == "string":
            odd.append(strings)
        elif kind == "null":
            odd.append(st.just(""))
    return st.one_of(plausible or odd), st.one_of(odd)


class Operations(list):
    """(path, parameters) pairs, printed briefly in Hypothesis' failure reports."""

    def __repr__(self) -> str:
        return f"<{len(self)} GET operations of /api/v1/openapi.json>"


@pytest.fixture
def operations(client, talks) -> Operations:
    """Every GET operation of the OpenAPI document, with the values that exist for its
    path parameters (existing slugs and round numbers, including the draft's)."""
    known = {
        "negotiations": {
            "slug": ["black-sea-talks", "alpine-talks"],
            "number": [1, 2, 3, 4, 5],
            "issue": ["corridors", "prisoners", "neutrality"],
        },
        "parties": {"slug": ["ukraine", "russia", "turkey"]},
        "people": {"slug": ["rustem-umerov", "vladimir-medinsky", "antonio-guterres"]},
    }
    document = client.get(f"{API}/openapi.json").json()
    found = []
    for path, methods in document["paths"].items():
        if "get" not in methods:
            continue
        pool = known[path.split("/")[3]]
        parameters = [
            {**parameter, "known": pool.get(parameter["name"], [])}
            for parameter in methods["get"].get("parameters", [])
        ]
        found.append((path, parameters))
    assert {path for path, _ in found} == PATHS
    return Operations(found)


@st.composite
def requests(draw, operations):
    template, parameters = draw(st.sampled_from(operations))
    path, query = template, {}
    # Hypothesis favours the simplest choice (0): all odd, and included.
    odd_share = 2 - draw(st.integers(0, 2))  # of the parameters: all, about half, none odd
    for parameter in parameters:
        if not parameter.get("required") and draw(st.integers(0, 2)) == 2:
            continue  # an optional parameter left out, one time in three
        plausible, odd = _strategies(parameter["schema"], parameter["known"])
        value = str(draw(odd if draw(st.integers(1, 2)) <= odd_share else plausible))
        if parameter["in"] == "path":
            path = path.replace(f"{{{parameter['name']}}}", quote(value, safe=""))
        else:
            query[parameter["name"]] = value
    extra = draw(st.dictionaries(st.text(max_size=8), st.text(max_size=8), max_size=2))
    headers = {}
    if draw(st.integers(0, 4)) == 0:
        headers["if-modified-since"] = draw(http_dates | st.text(max_size=30))
    if draw(st.integers(0, 4)) == 0:
        etags = st.sampled_from(['"abc"', "*", "W/", ""]) | st.text(max_size=40)
        headers["if-none-match"] = draw(etags)
    return template, path, {**extra, **query}, headers


@pytest.mark.filterwarnings("ignore:DateTimeField .* received a naive datetime:RuntimeWarning")
# No shrinking: the failure message names the request in full, and shrinking a failure
# takes far longer than finding it.
@settings(
    max_examples=400,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_no_request_built_from_the_openapi_document_gets_a_server_error(client, operations, data):
    template, path, query, headers = data.draw(requests(operations), label="request")
    error = None
    try:
        # A savepoint, so that a database error (PostgreSQL) does not poison the
        # transaction for the examples after it.
        with transaction.atomic():
            response = client.get(path, query, headers=headers)
    except Exception as raised:  # the test client re-raises what would be a 500
        status, error = 500, raised
    else:
        status = response.status_code
    event(f"{template} {status}")  # see --hypothesis-show-statistics
    assert status in {200, 304, 404, 422}, f"GET {path} {query!r} {headers!r}: {error!r}"
    if status == 200:
        assert response["Content-Type"].startswith("application/json")
        response.json()
    if status == 422:
        assert response.json()["detail"]


# --- query counts -------------------------------------------------------------------------


def _filled_round(negotiation, previous=None):
    """A round with a bit of everything, its position answering `previous`."""
    round_ = RoundFactory(negotiation=negotiation)
    host = PartyFactory()
    RoundHost.objects.create(round=round_, party=host)
    source = SourceFactory(negotiation=negotiation)
    RoundCitation.objects.create(round=round_, source=source)
    delegation = DelegationFactory(round=round_, party=host)
    DelegationMemberFactory(delegation=delegation, is_head=True)
    DelegationMemberFactory(delegation=delegation)
    OutcomeFactory(round=round_).sources.add(source)
    position = PositionFactory(round=round_, party=host, responds_to=previous)
    position.sources.add(source)
    StatementFactory(round=round_).sources.add(source)
    return round_, position


def _filled_rounds(negotiation, count, previous=None):
    for _ in range(count):
        round_, previous = _filled_round(negotiation, previous)
    return round_, previous


def test_rounds_list_query_count_is_the_same_for_5_and_50_rounds(client, django_assert_num_queries):
    negotiation = NegotiationFactory()
    url = f"{API}/negotiations/{negotiation.slug}/rounds"
    _, previous = _filled_rounds(negotiation, 5)
    with CaptureQueriesContext(connection) as five:
        assert _get_json(client, url)["count"] == 5
    _filled_rounds(negotiation, 45, previous)
    with django_assert_num_queries(len(five)):
        assert _get_json(client, url)["count"] == 50


def test_round_detail_query_count_is_the_same_for_5_and_50_rounds(
    client, django_assert_num_queries
):
    negotiation = NegotiationFactory()
    fifth, previous = _filled_rounds(negotiation, 5)
    with CaptureQueriesContext(connection) as five:
        _get_json(client, f"{API}/negotiations/{negotiation.slug}/rounds/{fifth.number}")
    last, _ = _filled_rounds(negotiation, 45, previous)
    with django_assert_num_queries(len(five)):
        data = _get_json(client, f"{API}/negotiations/{negotiation.slug}/rounds/{last.number}")
    assert data["positions"][0]["responds_to"] is not None


def test_round_detail_query_count_does_not_grow_with_what_the_round_holds(
    client, django_assert_num_queries
):
    negotiation = NegotiationFactory()
    _, previous = _filled_round(negotiation)
    round_, previous = _filled_round(negotiation, previous)
    url = f"{API}/negotiations/{negotiation.slug}/rounds/{round_.number}"
    with CaptureQueriesContext(connection) as one:
        _get_json(client, url)
    for _ in range(9):
        party = PartyFactory()
        source = SourceFactory(negotiation=negotiation)
        RoundHost.objects.create(round=round_, party=party)
        RoundCitation.objects.create(round=round_, source=source)
        DelegationMemberFactory(delegation=DelegationFactory(round=round_, party=party))
        OutcomeFactory(round=round_).sources.add(source)
        PositionFactory(round=round_, party=party, responds_to=previous).sources.add(source)
        StatementFactory(round=round_).sources.add(source)
    with django_assert_num_queries(len(one)):
        data = _get_json(client, url)
    assert len(data["positions"]) == 10
