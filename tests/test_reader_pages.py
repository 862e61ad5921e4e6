"""The readers' pages: what they show, what they hide (drafts), how they cope with bad
addresses and parameters, and how many queries they take."""

import datetime
import html as htmllib
import re
from types import SimpleNamespace
from unittest import mock

import pytest
from django.core.exceptions import FieldFetchBlocked
from django.db import connection, models, transaction
from django.db.models import query as django_query
from django.test.utils import CaptureQueriesContext

from negotiations import cache as reader_cache
from negotiations.models import (
    Delegation,
    DelegationMember,
    Outcome,
    OutcomeCitation,
    Party,
    Position,
    PositionCitation,
    Round,
    RoundCitation,
    RoundHost,
    Statement,
    StatementCitation,
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
    SourceFactory,
    StatementFactory,
)

pytestmark = pytest.mark.django_db

D = datetime.date
SLUG = "black-sea-talks"
TIMELINE = f"/negotiations/{SLUG}/"
BOARD = f"/negotiations/{SLUG}/issues/"


def round_url(number: int, slug: str = SLUG) -> str:
    return f"/negotiations/{slug}/rounds/{number}/"


def issue_url(issue: str, slug: str = SLUG) -> str:
    return f"/negotiations/{slug}/issues/{issue}/"


def text(html: str) -> str:
    """What a reader sees: the markup without tags, whitespace collapsed."""
    words = " ".join(htmllib.unescape(re.sub(r"<[^>]+>", " ", html)).split())
    return re.sub(r" ([,.:;])", r"\1", words)


def between(html: str, start: str, end: str | None = None) -> str:
    """The part of the page from the tag holding `start` up to `end` (or to the end)."""
    begin = html.rindex("<", 0, html.index(start))
    if end is None:
        return html[begin:]
    stop = html.index(end, begin)
    return html[begin : stop if end.startswith("<") else html.rindex("<", begin, stop)]


def row_with(html: str, needle: str) -> str:
    """The text of the table row that contains `needle`."""
    at = html.index(needle)
    return text(html[html.rindex("<tr", 0, at) : html.index("</tr>", at)])


def get(client, url: str, data=None, **headers) -> str:
    response = client.get(url, data, **headers)
    assert response.status_code == 200, (url, data, response.status_code)
    return response.content.decode()


def build_talks() -> SimpleNamespace:
    """Black Sea talks: five published rounds (1, 2, 4, 5 held; 6 scheduled) and a draft
    round 3 whose every outcome, position and statement says “Secret”.

    Neutrality: raised (R1) → under discussion (R2) → [draft: stalled] → partially
    agreed (R4). Corridors: raised (R1) → agreed (R2). Guarantees: agreed in the draft
    only. Lineage on neutrality: Russia's demand (R1) → Ukraine's offer (R2) → Russia's
    rejection (R4); Ukraine went demand (R1) → offer (R2)."""
    n = NegotiationFactory(slug=SLUG, title="Black Sea talks", started_on=D(2022, 2, 28))
    ukraine = PartyFactory(slug="ukraine", name="Ukraine")
    russia = PartyFactory(slug="russia", name="Russia")
    turkey = PartyFactory(slug="turkey", name="Turkey", kind=Party.Kind.MEDIATOR)
    belarus = PartyFactory(slug="belarus", name="Belarus")
    neutrality = IssueFactory(negotiation=n, slug="neutrality", title="Neutrality", order=0)
    corridors = IssueFactory(
        negotiation=n, slug="corridors", title="Humanitarian corridors", order=1
    )
    guarantees = IssueFactory(
        negotiation=n, slug="guarantees", title="Security guarantees", order=2
    )
    arakhamia = PersonFactory(
        slug="davyd-arakhamia", name="Davyd Arakhamia", party=ukraine, title="Faction leader"
    )
    podolyak = PersonFactory(
        slug="mykhailo-podolyak",
        name="Mykhailo Podolyak",
        party=ukraine,
        title="Presidential adviser",
        aliases=["Mykhailo Podoliak"],
    )
    medinsky = PersonFactory(
        slug="vladimir-medinsky",
        name="Vladimir Medinsky",
        party=russia,
        aliases=["Vladimir Medinskiy", "Владимир Мединский"],
    )
    envoy = PersonFactory(slug="hidden-envoy", name="Hidden Envoy", party=belarus)

    def held(number, title, start, **kwargs):
        return RoundFactory(negotiation=n, number=number, title=title, start_date=start, **kwargs)

    r1 = held(1, "Gomel talks", D(2022, 2, 28), location="Gomel")
    r2 = held(2, "Video call", D(2022, 3, 7), location="Online", format=Round.Format.VIDEO)
    r3 = held(3, "Secret draft round", D(2022, 3, 14), location="Minsk", published=False)
    r4 = held(4, "Istanbul meeting", D(2022, 3, 29), location="Dolmabahçe Palace")
    r5 = held(5, "Geneva meeting", D(2023, 5, 2), location="Geneva", format=Round.Format.MIXED)
    r6 = held(6, "Upcoming round", D(2023, 9, 1), location="Vienna", status=Round.Status.SCHEDULED)
    RoundHost.objects.create(round=r4, party=turkey)

    def delegation(round_, party, *members):
        d = DelegationFactory(round=round_, party=party)
        for person, role, is_head in members:
            DelegationMemberFactory(delegation=d, person=person, role=role, is_head=is_head)

    for round_ in (r1, r2, r4):
        delegation(round_, russia, (medinsky, "Presidential aide", True))
    delegation(r1, ukraine, (arakhamia, "Faction leader", True))
    delegation(
        r2,
        ukraine,
        (arakhamia, "Faction leader", True),
        (podolyak, "Adviser to the head of the Office", False),
    )
    delegation(r4, ukraine, (arakhamia, "Faction leader", True))
    delegation(r3, ukraine, (arakhamia, "Secret role", True))
    delegation(r3, belarus, (envoy, "Secret envoy", True))

    S = Outcome.Status  # noqa: N806
    OutcomeFactory(round=r1, issue=neutrality, status=S.RAISED, text="Russia raised it.")
    OutcomeFactory(round=r1, issue=corridors, status=S.RAISED, text="Corridors raised.")
    OutcomeFactory(round=r2, issue=neutrality, status=S.UNDER_DISCUSSION, text="Talks go on.")
    corridors_agreed = OutcomeFactory(
        round=r2, issue=corridors, status=S.AGREED, text="Two corridors agreed for civilians."
    )
    OutcomeFactory(round=r3, issue=neutrality, status=S.STALLED, text="Secret stalled text")
    OutcomeFactory(round=r3, issue=guarantees, status=S.AGREED, text="Secret outcome text")
    OutcomeFactory(
        round=r4, issue=neutrality, status=S.PARTIALLY_AGREED, text="Neutral, in principle."
    )

    P = Position.Stance  # noqa: N806
    ru_demand = PositionFactory(
        round=r1,
        party=russia,
        issue=neutrality,
        stance=P.DEMAND,
        key="ru-neutrality",
        text="Ukraine must stay neutral.",
    )
    PositionFactory(
        round=r1,
        party=ukraine,
        issue=neutrality,
        stance=P.DEMAND,
        text="Neutrality only with binding guarantees.",
    )
    ua_offer = PositionFactory(
        round=r2,
        party=ukraine,
        issue=neutrality,
        stance=P.OFFER,
        responds_to=ru_demand,
        text="Neutrality in exchange for guarantees.",
    )
    PositionFactory(
        round=r3,
        party=ukraine,
        issue=neutrality,
        stance=P.ACCEPT,
        responds_to=ru_demand,
        text="Secret acceptance text",
    )
    PositionFactory(
        round=r3, party=russia, issue=guarantees, stance=P.OFFER, text="Secret position text"
    )
    PositionFactory(
        round=r4,
        party=russia,
        issue=neutrality,
        stance=P.REJECT,
        responds_to=ua_offer,
        text="The guarantee scheme is unacceptable.",
    )

    bbc = SourceFactory(
        negotiation=n,
        key="bbc-r2",
        url="https://bbc.example/news/r2",
        title="Second round ends",
        publisher="BBC News",
    )
    reuters = SourceFactory(
        negotiation=n,
        key="reuters-corridors",
        url="https://reuters.example/corridors",
        title="Corridors agreed",
        publisher="Reuters",
    )
    ukrinform = SourceFactory(
        negotiation=n,
        key="ukrinform",
        url="https://ukrinform.example/podolyak",
        title="Podolyak on corridors",
        publisher="Ukrinform",
    )
    tass = SourceFactory(
        negotiation=n,
        key="tass",
        url="https://tass.example/medinsky",
        title="Medinsky after Gomel",
        publisher="TASS",
    )
    r2.sources.add(bbc)
    corridors_agreed.sources.add(reuters)
    podolyak_said = StatementFactory(
        round=r2,
        person=podolyak,
        said_on=D(2022, 3, 7),
        text="We hope the corridors will start working.",
        original="Сподіваємося, коридори запрацюють.",
        language="uk",
    )
    podolyak_said.sources.add(ukrinform)
    podolyak_said.sources.add(bbc)
    StatementFactory(
        round=r1, person=medinsky, said_on=D(2022, 2, 28), text="The talks were difficult."
    ).sources.add(tass)
    StatementFactory(round=r3, person=medinsky, text="Secret statement text")
    StatementFactory(round=r3, person=arakhamia, text="Secret statement by Arakhamia")

    return SimpleNamespace(
        negotiation=n,
        ukraine=ukraine,
        russia=russia,
        turkey=turkey,
        belarus=belarus,
        neutrality=neutrality,
        corridors=corridors,
        guarantees=guarantees,
        arakhamia=arakhamia,
        podolyak=podolyak,
        medinsky=medinsky,
        envoy=envoy,
        rounds={1: r1, 2: r2, 3: r3, 4: r4, 5: r5, 6: r6},
    )


@pytest.fixture(scope="module")
def _talks_once(django_db_setup, django_db_blocker):
    """Build the talks once for the module, in a transaction rolled back at its end; each
    test runs in a savepoint inside it (pytest-django's `db`), so its own changes go."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield build_talks()
        transaction.set_rollback(True)


@pytest.fixture
def talks(_talks_once, db) -> SimpleNamespace:
    return _talks_once


def round_titles(html: str) -> list[str]:
    """The titles of the rounds listed on a timeline, in order."""
    return re.findall(r'<h3 id="round-\d+-title"><a href="[^"]+">([^<]+)</a></h3>', html)


def grow(negotiation, count: int, *, issue, parties, people, source) -> None:
    """Add `count` held, published rounds after the existing ones, each with a host, two
    delegations of two members, an outcome, a demand and the offer answering it, and two
    statements, every one citing `source`. In bulk, to stay quick."""
    first = negotiation.rounds.count() + 1
    host, *sides = parties
    rounds = Round.objects.bulk_create(
        Round(
            negotiation=negotiation,
            number=number,
            title=f"Round {number}",
            published=True,
            start_date=D(2020, 1, 1) + datetime.timedelta(days=number),
            format=Round.Format.IN_PERSON,
        )
        for number in range(first, first + count)
    )
    RoundHost.objects.bulk_create(RoundHost(round=r, party=host) for r in rounds)
    RoundCitation.objects.bulk_create(RoundCitation(round=r, source=source) for r in rounds)
    delegations = Delegation.objects.bulk_create(
        Delegation(round=r, party=party) for r in rounds for party in sides
    )
    DelegationMember.objects.bulk_create(
        DelegationMember(delegation=d, person=person, is_head=is_head, role="Envoy")
        for d in delegations
        for person, is_head in zip(people[sides.index(d.party)], (True, False), strict=True)
    )
    outcomes = Outcome.objects.bulk_create(
        Outcome(round=r, issue=issue, status=Outcome.Status.RAISED, text="Raised.") for r in rounds
    )
    OutcomeCitation.objects.bulk_create(OutcomeCitation(outcome=o, source=source) for o in outcomes)
    demands = Position.objects.bulk_create(
        Position(round=r, party=sides[0], issue=issue, stance="demand", text="Give.")
        for r in rounds
    )
    offers = Position.objects.bulk_create(
        Position(round=r, party=sides[1], issue=issue, stance="offer", responds_to=d, text="Ok.")
        for r, d in zip(rounds, demands, strict=True)
    )
    PositionCitation.objects.bulk_create(
        PositionCitation(position=p, source=source) for p in demands + offers
    )
    statements = Statement.objects.bulk_create(
        Statement(round=r, person=heads[0], said_on=r.start_date, text="We talked.")
        for r in rounds
        for heads in people
    )
    StatementCitation.objects.bulk_create(
        StatementCitation(statement=st, source=source) for st in statements
    )
    reader_cache.invalidate()  # bulk writes send no signals; the app's own ones say so


@pytest.fixture
def busy():
    """A negotiation with 5 rounds, every one of them full (see `grow`); call
    `busy.grow(45)` to make it 50."""
    negotiation = NegotiationFactory()
    issue = IssueFactory(negotiation=negotiation)
    parties = [PartyFactory(), PartyFactory(), PartyFactory()]
    people = [(PersonFactory(party=p), PersonFactory(party=p)) for p in parties[1:]]
    source = SourceFactory(negotiation=negotiation)

    def more(count: int) -> None:
        grow(negotiation, count, issue=issue, parties=parties, people=people, source=source)

    more(5)
    return SimpleNamespace(
        negotiation=negotiation,
        issue=issue,
        party=parties[1],
        person=people[0][0],
        grow=more,
    )


def assert_same_query_count(client, django_assert_num_queries, busy, url: str, data=None):
    """The page's queries do not grow with its rounds, and none of them is a lazy fetch:
    under Django 6.1's FETCH_RAISE mode any field or relation a view forgot to load
    raises instead of quietly costing a query per row."""
    with mock.patch.object(django_query, "DEFAULT_FETCH_MODE", models.FETCH_RAISE):
        with CaptureQueriesContext(connection) as five:
            assert client.get(url, data).status_code == 200
        busy.grow(45)
        with django_assert_num_queries(len(five)):
            assert client.get(url, data).status_code == 200


# --- Home --------------------------------------------------------------------------------


def test_home_counts_agreed_and_open_issues_from_published_held_rounds_only(client, talks):
    page = text(get(client, "/"))
    # Corridors agreed (R2); neutrality partially agreed (open); guarantees agreed only in
    # the draft round, so not yet taken up (open).
    assert "1 of 3 issues agreed, 2 open" in page


def test_home_counts_each_published_round_once_however_many_issues(client, talks):
    page = text(get(client, "/"))
    # Rounds 1, 2, 4, 5 and 6 are published; round 3 is a draft.
    # Count("rounds") joined with Count("issues") would count each round once per issue.
    assert re.findall(r"\d+ rounds", page) == ["5 rounds"], "rounds counted once per issue"


def test_home_shows_the_latest_held_round_not_a_scheduled_one(client, talks):
    html = get(client, "/")
    assert f'<a href="{round_url(5)}">Geneva meeting</a>' in html
    assert "Upcoming round" not in html


# --- Timeline ----------------------------------------------------------------------------


def test_timeline_entry_shows_date_place_format_hosts_heads_and_outcomes(client, talks):
    html = get(client, TIMELINE)
    entry = text(between(html, 'aria-labelledby="round-4-title"', "</article>"))
    assert entry == (
        "29 March 2022 Istanbul meeting Place: Dolmabahçe Palace In person Hosted by Turkey "
        "Led by Russia: Vladimir Medinsky; Ukraine: Davyd Arakhamia "
        "Neutrality: Partially agreed"
    )


def test_timeline_lists_rounds_newest_first_and_flags_the_scheduled_one(client, talks):
    html = get(client, TIMELINE)
    assert round_titles(html) == [
        "Upcoming round",
        "Geneva meeting",
        "Istanbul meeting",
        "Video call",
        "Gomel talks",
    ]
    assert "Upcoming" in text(between(html, "timeline-entry round-scheduled", "</article>"))
    assert "5 rounds." in text(html)


def test_timeline_order_oldest_reverses_the_order(client, talks):
    oldest = round_titles(get(client, TIMELINE, {"order": "oldest"}))
    newest = round_titles(get(client, TIMELINE, {"order": "newest"}))
    assert oldest[0] == "Gomel talks"
    assert newest[0] == "Upcoming round"
    assert oldest == list(reversed(newest))


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"issue": "corridors"}, ["Video call", "Gomel talks"]),
        ({"issue": "neutrality"}, ["Istanbul meeting", "Video call", "Gomel talks"]),
        ({"party": "turkey"}, ["Istanbul meeting"]),
        ({"party": "ukraine"}, ["Istanbul meeting", "Video call", "Gomel talks"]),
        ({"year": "2023"}, ["Upcoming round", "Geneva meeting"]),
        ({"format": "video"}, ["Video call"]),
        ({"format": "mixed"}, ["Geneva meeting"]),
        ({"year": "2022", "format": "in-person"}, ["Istanbul meeting", "Gomel talks"]),
        (
            {"issue": "neutrality", "order": "oldest"},
            ["Gomel talks", "Video call", "Istanbul meeting"],
        ),
    ],
)
def test_timeline_filters_narrow_the_rounds(client, talks, filters, expected):
    html = get(client, TIMELINE, filters)
    assert round_titles(html) == expected
    assert f"{len(expected)} round{'s' if len(expected) > 1 else ''} match these filters" in (
        text(html)
    )


def test_timeline_filter_form_shows_the_chosen_values_and_marks_the_wrong_one(client, talks):
    html = get(client, TIMELINE, {"year": "2023", "party": "nope", "format": "mixed"})
    year = re.search(r'<select id="id_year" name="year">.*?</select>', html).group(0)
    assert '<option value="2023" selected>2023</option>' in year
    assert '<option value="2022">2022</option>' in year
    assert '<option value="mixed" selected>' in html
    party = re.search(r'<select [^>]*name="party"[^>]*>', html).group(0)
    assert 'aria-invalid="true"' in party
    assert "selected" not in re.search(r'name="party".*?</select>', html).group(0)


def test_timeline_year_filter_offers_the_years_of_published_dated_rounds(client):
    negotiation = NegotiationFactory(slug="long-talks")
    for number, day, published in [
        (1, D(2019, 12, 31), True),
        (2, D(2020, 1, 1), False),  # a draft: its year is not offered
        (3, D(2022, 6, 1), True),
        (4, D(2022, 12, 31), True),
        (5, D(2025, 1, 1), True),
        (6, None, True),  # undated
    ]:
        RoundFactory(
            negotiation=negotiation,
            number=number,
            start_date=day,
            end_date=day,
            published=published,
        )
    html = get(client, "/negotiations/long-talks/")
    year = re.search(r'<select id="id_year" name="year">(.*?)</select>', html).group(1)
    assert re.findall(r'<option value="(\d*)"', year) == ["", "2025", "2022", "2019"]


def test_timeline_says_so_when_no_round_matches(client, talks):
    html = get(client, TIMELINE, {"issue": "guarantees"})
    assert round_titles(html) == []
    assert "No published round matches these filters." in text(html)


@pytest.mark.parametrize(
    ("param", "value", "message"),
    [
        ("issue", "nope", "Issue: There is no issue “nope” in this negotiation."),
        ("party", "nope", "Party: No party “nope” took part in this negotiation."),
        ("year", "abcd", "Year: No round was held in “abcd”."),
        ("year", "1999", "Year: No round was held in “1999”."),
        ("format", "zzz", "Format: “zzz” is not a format: use in-person, video or mixed."),
        ("order", "sideways", "Order: “sideways” is not an order: use newest or oldest."),
    ],
)
def test_timeline_reports_a_bad_filter_and_shows_all_rounds(client, talks, param, value, message):
    html = get(client, TIMELINE, {param: value})
    assert "Some filters were not understood and are ignored" in html
    assert message in text(html)
    assert len(round_titles(html)) == 5


def test_timeline_keeps_the_good_filters_when_one_is_bad(client, talks):
    html = get(client, TIMELINE, {"format": "video", "party": "nope"})
    assert "No party “nope” took part in this negotiation." in text(html)
    assert round_titles(html) == ["Video call"]


def test_timeline_escapes_a_bad_filter_value(client, talks):
    html = get(client, TIMELINE, {"issue": "<script>alert(1)</script>"})
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_timeline_does_not_offer_a_party_seen_only_in_a_draft_round(client, talks):
    html = get(client, TIMELINE)
    assert 'value="ukraine"' in html
    assert "Belarus" not in html
    assert "No party “belarus” took part" in text(get(client, TIMELINE, {"party": "belarus"}))


def test_timeline_pager_keeps_the_filters(client):
    negotiation = NegotiationFactory()
    for _ in range(30):
        RoundFactory(negotiation=negotiation)
    html = get(client, negotiation.get_absolute_url(), {"order": "oldest", "format": "in-person"})
    nxt = re.search(r'<a href="([^"]+)" rel="next"', html).group(1)
    assert "order=oldest" in nxt
    assert "format=in-person" in nxt
    assert "page=2" in nxt
    assert "30 rounds match these filters, showing 1–25." in text(html)


def test_timeline_htmx_request_gets_only_the_round_list(client, talks):
    response = client.get(TIMELINE, {"format": "video"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="round-list"')
    assert "<html" not in html
    assert "site-header" not in html
    assert 'class="filters"' not in html
    assert round_titles(html) == ["Video call"]
    assert "HX-Request" in response["Vary"]


def test_timeline_htmx_request_still_reports_a_bad_filter(client, talks):
    html = get(client, TIMELINE, {"year": "abcd"}, HTTP_HX_REQUEST="true")
    assert "<html" not in html
    assert "No round was held in “abcd”." in text(html)


def test_timeline_full_page_and_boosted_htmx_get_the_whole_page(client, talks):
    full = client.get(TIMELINE)
    assert "HX-Request" in full["Vary"]
    for response in (full, client.get(TIMELINE, HTTP_HX_REQUEST="true", HTTP_HX_BOOSTED="true")):
        html = response.content.decode()
        assert "<html" in html
        assert 'class="filters"' in html
        assert 'id="round-list"' in html


def test_timeline_htmx_history_restore_gets_the_whole_page(client, talks):
    response = client.get(TIMELINE, HTTP_HX_REQUEST="true", HTTP_HX_HISTORY_RESTORE_REQUEST="true")
    html = response.content.decode()
    assert "<html" in html
    assert 'class="filters"' in html
    assert "HX-History-Restore-Request" in response["Vary"]


def test_timeline_query_count_with_filters_is_the_same_for_5_and_50_rounds(
    client, busy, django_assert_num_queries
):
    filters = {
        "issue": busy.issue.slug,
        "party": busy.party.slug,
        "format": "in-person",
        "year": "2020",
        "order": "oldest",
    }
    url = busy.negotiation.get_absolute_url()
    assert_same_query_count(client, django_assert_num_queries, busy, url, filters)


# --- Round page --------------------------------------------------------------------------


def test_round_page_lists_delegations_with_the_head_first_and_roles(client, talks):
    html = get(client, round_url(2))
    delegations = between(html, 'id="delegations"', 'id="positions"')
    ukraine = text(between(delegations, "/parties/ukraine/", "</ul>"))
    assert ukraine == (
        "Ukraine Davyd Arakhamia Head Faction leader "
        "Mykhailo Podolyak Adviser to the head of the Office"
    )
    assert "Vladimir Medinsky Head Presidential aide" in text(delegations)


def test_round_page_shows_each_outcome_with_its_status_label(client, talks):
    html = get(client, round_url(2))
    outcomes = between(html, 'id="outcomes"', 'id="delegations"')
    assert row_with(outcomes, "Humanitarian corridors") == (
        "Humanitarian corridors Agreed Two corridors agreed for civilians. [2]"
    )
    assert row_with(outcomes, ">Neutrality<") == "Neutrality Under discussion Talks go on."


def test_round_page_groups_positions_by_party(client, talks):
    html = get(client, round_url(1))
    positions = between(html, 'id="positions"', 'id="statements"')
    russia = text(between(positions, 'id="positions-russia"', 'id="positions-ukraine"'))
    ukraine = text(between(positions, 'id="positions-ukraine"', "</ul>"))
    assert russia == "Russia Demand Neutrality: Ukraine must stay neutral."
    assert ukraine == "Ukraine Demand Neutrality: Neutrality only with binding guarantees."
    assert positions.index("positions-russia") < positions.index("positions-ukraine")


def test_round_page_says_which_earlier_position_a_position_answers(client, talks):
    html = get(client, round_url(2))
    assert "Answers Russia’s demand in Gomel talks." in text(html)
    assert f'href="{round_url(1)}#position-' in html


def test_round_page_shows_statements_with_speaker_date_and_original(client, talks):
    html = get(client, round_url(2))
    statements = between(html, 'id="statements"', 'id="sources"')
    assert text(statements) == (
        "Statements We hope the corridors will start working. "
        "Сподіваємося, коридори запрацюють. "
        "— Mykhailo Podolyak, Presidential adviser, 7 March 2022 [1] [3]"
    )
    assert '<p class="original" lang="uk">' in statements
    assert f'<a href="{talks.podolyak.get_absolute_url()}">Mykhailo Podolyak</a>' in statements


def test_round_page_numbers_sources_in_order_of_citation(client, talks):
    html = get(client, round_url(2))
    sources = between(html, 'id="sources"', "</section>")
    items = re.findall(r'<li id="source-(\d)">(.*?)</li>', sources, re.S)
    assert [(n, text(item)) for n, item in items] == [
        ("1", "Second round ends, BBC News"),
        ("2", "Corridors agreed, Reuters"),
        ("3", "Podolyak on corridors, Ukrinform"),
    ]
    assert '<a href="https://reuters.example/corridors" rel="noopener noreferrer">' in sources
    assert '<a href="#source-2" aria-label="Source 2">[2]</a>' in html


def test_round_page_links_the_previous_and_next_published_rounds(client, talks):
    nav = between(get(client, round_url(2)), 'class="round-nav"', "</nav>")
    assert f'<a href="{round_url(1)}" rel="prev">← Previous: Gomel talks</a>' in nav
    # Round 3 is a draft: the next published round is 4.
    assert f'<a href="{round_url(4)}" rel="next">Next: Istanbul meeting →</a>' in nav


def test_first_and_last_round_pages_say_there_is_no_other(client, talks):
    assert "First round" in text(between(get(client, round_url(1)), "round-nav", "</nav>"))
    last = get(client, round_url(6))
    assert "Latest round" in text(between(last, "round-nav", "</nav>"))
    assert "This round has not been held, so it has no outcomes." in last
    assert "What changed since the previous round" not in last


def test_round_page_after_an_undated_one_links_onwards(client):
    dated = RoundFactory(number=1, start_date=D(2022, 3, 1))
    RoundFactory(negotiation=dated.negotiation, number=2, start_date=None, end_date=None)
    slug = dated.negotiation.slug
    assert 'rel="next">Next: Round 2 →' in get(client, round_url(1, slug))
    assert 'rel="prev">← Previous: Round 1' in get(client, round_url(2, slug))


def test_round_pages_link_neighbours_in_timeline_order_with_ties_drafts_and_undated(client):
    """Order: by date, then number; undated rounds last; drafts skipped."""
    first = RoundFactory(number=3, title="March", start_date=D(2022, 3, 1))
    negotiation = first.negotiation

    def make(number, title, day, **kwargs):
        RoundFactory(
            negotiation=negotiation,
            number=number,
            title=title,
            start_date=day,
            end_date=day,
            **kwargs,
        )

    make(1, "April, morning", D(2022, 4, 1))
    make(5, "April, evening", D(2022, 4, 1))
    make(2, "April draft", D(2022, 4, 1), published=False)
    make(4, "Undated four", None)
    make(6, "Undated six", None)
    expected = ["March", "April, morning", "April, evening", "Undated four", "Undated six"]
    numbers = {
        "March": 3,
        "April, morning": 1,
        "April, evening": 5,
        "Undated four": 4,
        "Undated six": 6,
    }
    for i, title in enumerate(expected):
        nav = text(
            between(get(client, round_url(numbers[title], negotiation.slug)), "round-nav", "</nav>")
        )
        before = f"Previous: {expected[i - 1]}" if i else "First round"
        after = f"Next: {expected[i + 1]}" if i + 1 < len(expected) else "Latest round"
        assert before in nav and after in nav, (title, nav)


def test_round_page_lists_what_changed_since_the_previous_round(client, talks):
    html = get(client, round_url(2))
    changed = text(between(html, 'id="changed"', 'id="outcomes"'))
    assert "Humanitarian corridors: Raised → Agreed" in changed
    assert "Neutrality: Raised → Under discussion" in changed
    assert "Ukraine on Neutrality: demand → offer" in changed


def test_first_round_page_lists_first_statuses_and_new_stances(client, talks):
    changed = text(between(get(client, round_url(1)), 'id="changed"', 'id="outcomes"'))
    assert "Neutrality: first recorded as Raised" in changed
    assert "Russia on Neutrality: new demand" in changed


def test_round_page_compares_with_the_previous_published_round_not_a_draft(client, talks):
    changed = text(between(get(client, round_url(4)), 'id="changed"', 'id="outcomes"'))
    # The draft round 3 recorded neutrality as stalled and Ukraine's acceptance.
    assert "Neutrality: Under discussion → Partially agreed" in changed
    assert "Stalled" not in changed
    assert "Russia on Neutrality: demand → reject" in changed


def test_round_page_with_no_change_says_so(client, talks):
    assert "No issue changed status and no party changed its stance in this round." in get(
        client, round_url(5)
    )


def test_round_page_does_not_reveal_a_draft_position_that_a_position_answers(client):
    draft = RoundFactory(number=1, published=False)
    published = RoundFactory(negotiation=draft.negotiation, number=2)
    secret = PositionFactory(
        round=draft, party=PartyFactory(name="Belarus"), stance="offer", text="Secret offer"
    )
    PositionFactory(
        round=published,
        party=PartyFactory(name="Ukraine"),
        issue=secret.issue,
        stance="reject",
        responds_to=secret,
        text="We refuse.",
    )
    html = get(client, round_url(2, draft.negotiation.slug))
    assert "We refuse." in html
    assert "Secret offer" not in html
    # The party and stance of an answered position in an unpublished round stay hidden.
    assert "Belarus" not in html, text(between(html, 'class="answers"', "</span>"))


def test_round_page_query_count_does_not_grow_with_rounds_or_their_content(
    client, busy, django_assert_num_queries
):
    url = round_url(3, busy.negotiation.slug)
    with CaptureQueriesContext(connection) as small:
        assert client.get(url).status_code == 200
    busy.grow(45)
    round_ = busy.negotiation.rounds.get(number=3)
    for _ in range(3):
        party = PartyFactory()
        delegation = DelegationFactory(round=round_, party=party)
        DelegationMemberFactory.create_batch(3, delegation=delegation)
        issue = IssueFactory(negotiation=busy.negotiation)
        source = SourceFactory(negotiation=busy.negotiation)
        OutcomeFactory(round=round_, issue=issue).sources.add(source)
        PositionFactory(round=round_, party=party, issue=issue).sources.add(source)
        StatementFactory(round=round_).sources.add(source)
        round_.sources.add(source)
    with django_assert_num_queries(len(small)):
        assert client.get(url).status_code == 200


# --- Issue board -------------------------------------------------------------------------


def test_board_shows_each_issue_current_status_and_the_tally(client, talks):
    html = get(client, BOARD)
    matrix = between(html, 'id="matrix-heading"', 'id="legend-heading"')
    assert row_with(matrix, ">Neutrality<").startswith("Neutrality Partially agreed")
    assert row_with(matrix, ">Humanitarian corridors<").startswith("Humanitarian corridors Agreed")
    assert row_with(matrix, ">Security guarantees<").startswith(
        "Security guarantees Not yet taken up"
    )
    assert "Now: 1 of 3 issues agreed, 2 open." in text(html)


def test_board_columns_are_the_published_held_rounds_linking_to_their_pages(client, talks):
    html = get(client, BOARD)
    head = between(html, "<thead>", "</thead>")
    linked = re.findall(r'href="/negotiations/black-sea-talks/rounds/(\d+)/"', head)
    # Round 3 is a draft, round 6 has not been held.
    assert linked == ["1", "2", "4", "5"]
    assert "R4" in text(head)


def test_board_cell_shows_the_status_that_round_recorded(client, talks):
    matrix = between(get(client, BOARD), 'id="matrix-heading"', 'id="legend-heading"')
    corridors = row_with(matrix, ">Humanitarian corridors<")
    # Columns R1 R2 R4 R5: raised, agreed, nothing, nothing.
    assert corridors == (
        "Humanitarian corridors Agreed Ra Raised Ag Agreed · Not recorded · Not recorded"
    )


def test_board_stance_matrix_shows_latest_stance_and_its_course(client, talks):
    html = get(client, BOARD)
    stances = between(html, 'id="stances-heading"')
    ukraine = row_with(stances, "/parties/ukraine/")
    russia = row_with(stances, "/parties/russia/")
    assert ukraine.startswith("Ukraine Offer in Round R2 Course: demand → offer")
    assert russia.startswith("Russia Reject in Round R4 Course: demand → reject")
    # Russia's offer on guarantees was made in the draft round only.
    assert russia.endswith("— no position — no position")
    assert "/parties/turkey/" not in stances


def test_board_as_of_a_date_shows_the_board_as_it_stood(client, talks):
    html = get(client, BOARD, {"as_of": "2022-03-20"})
    head = between(html, "<thead>", "</thead>")
    assert re.findall(r"/rounds/(\d+)/", head) == ["1", "2"]
    matrix = between(html, 'id="matrix-heading"', 'id="legend-heading"')
    assert "Status then" in matrix
    # The draft round 3 (14 March) had neutrality stalled: it does not count.
    assert row_with(matrix, ">Neutrality<").startswith("Neutrality Under discussion")
    assert "As of 20 March 2022: 1 of 3 issues agreed, 2 open." in text(html)
    ukraine = row_with(between(html, 'id="stances-heading"'), "/parties/ukraine/")
    assert ukraine.startswith("Ukraine Offer in Round R2")


def test_board_as_of_the_day_of_a_round_includes_it(client, talks):
    html = get(client, BOARD, {"as_of": "2022-02-28"})
    assert re.findall(r"/rounds/(\d+)/", between(html, "<thead>", "</thead>")) == ["1"]
    assert "As of 28 February 2022: 0 of 3 issues agreed, 3 open." in text(html)


def test_board_as_of_counts_a_round_only_once_it_has_ended(client):
    round_ = RoundFactory(number=1, start_date=D(2023, 6, 1), end_date=D(2023, 6, 5))
    OutcomeFactory(round=round_, status="agreed")
    PositionFactory(round=round_, issue=round_.outcomes.get().issue)
    url = f"/negotiations/{round_.negotiation.slug}/issues/"
    during = get(client, url, {"as_of": "2023-06-03"})
    assert "As of 3 June 2023: 0 of 1 issue agreed, 1 open." in text(during)
    assert "No round had been held by then." in during
    assert "No positions recorded by then." in during
    after = get(client, url, {"as_of": "2023-06-05"})
    assert "As of 5 June 2023: 1 of 1 issue agreed, 0 open." in text(after)


def test_board_as_of_before_any_round_says_none_had_been_held(client, talks):
    html = get(client, BOARD, {"as_of": "2021-01-01"})
    assert "No round had been held by then." in html
    assert "/rounds/" not in between(html, "<thead>", "</thead>")
    assert "No positions recorded by then." in html


def test_board_compare_lists_the_issues_whose_status_changed(client, talks):
    html = get(client, BOARD, {"as_of": "2022-03-08", "compare": "2022-03-01"})
    changes = between(html, 'id="changes-heading"', 'id="matrix-heading"')
    assert text(changes) == (
        "What changed between 1 March 2022 and 8 March 2022 "
        "Neutrality: Raised → Under discussion in Video call "
        "Humanitarian corridors: Raised → Agreed in Video call"
    )


def test_board_compare_later_than_as_of_is_taken_the_other_way_round(client, talks):
    swapped = get(client, BOARD, {"as_of": "2022-03-01", "compare": "2022-03-08"})
    changes = text(between(swapped, 'id="changes-heading"', 'id="matrix-heading"'))
    assert changes.startswith("What changed between 1 March 2022 and 8 March 2022")
    assert "Humanitarian corridors: Raised → Agreed" in changes
    assert "As of 8 March 2022" in text(swapped)


def test_board_compare_alone_compares_with_today_ignoring_drafts(client, talks):
    changes = text(
        between(get(client, BOARD, {"compare": "2022-03-20"}), "changes-heading", "matrix-heading")
    )
    assert "and today" in changes
    assert "Neutrality: Under discussion → Partially agreed in Istanbul meeting" in changes
    assert "Security guarantees" not in changes


def test_board_compare_with_no_change_says_so(client, talks):
    html = get(client, BOARD, {"as_of": "2023-01-01", "compare": "2022-12-01"})
    assert "No issue changed status in that time." in html


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"as_of": "not-a-date"}, "“As of” must be a date written YYYY-MM-DD."),
        ({"compare": "31-02-2022"}, "“Changes since” must be a date written YYYY-MM-DD."),
        ({"as_of": "2022-02-30"}, "“As of” must be a date written YYYY-MM-DD."),
    ],
)
def test_board_reports_a_bad_date_and_shows_today(client, talks, data, message):
    html = get(client, BOARD, data)
    assert "Some dates were not understood and are ignored" in html
    assert message in text(html)
    assert "Now: 1 of 3 issues agreed, 2 open." in text(html)
    assert 'id="changes-heading"' not in html


def test_board_shows_the_latest_20_rounds_and_pages_back_in_time(client):
    negotiation = NegotiationFactory()
    for number in range(1, 26):
        RoundFactory(negotiation=negotiation, number=number)
    url = f"/negotiations/{negotiation.slug}/issues/"

    def columns(html):
        head = between(html, "<thead>", "</thead>")
        return [int(n) for n in re.findall(r"/rounds/(\d+)/", head)]

    latest = get(client, url)
    assert columns(latest) == list(range(6, 26))
    assert "Showing 20 of 25 held rounds" in text(latest)
    assert "← Earlier rounds" in latest
    assert columns(get(client, url, {"page": "2"})) == [1, 2, 3, 4, 5]
    assert columns(get(client, url, {"page": "abc"})) == list(range(6, 26))


def test_board_pager_keeps_the_date(client):
    negotiation = NegotiationFactory()
    for number in range(1, 26):
        RoundFactory(negotiation=negotiation, number=number)
    html = get(client, f"/negotiations/{negotiation.slug}/issues/", {"as_of": "2023-01-01"})
    earlier = re.search(r'<a href="([^"]+)">← Earlier rounds</a>', html).group(1)
    assert "as_of=2023-01-01" in earlier
    assert "page=2" in earlier


def test_board_query_count_is_the_same_for_5_and_50_rounds(client, busy, django_assert_num_queries):
    url = f"/negotiations/{busy.negotiation.slug}/issues/"
    assert_same_query_count(client, django_assert_num_queries, busy, url)


def test_board_as_of_and_compare_query_count_is_the_same_for_5_and_50_rounds(
    client, busy, django_assert_num_queries
):
    url = f"/negotiations/{busy.negotiation.slug}/issues/"
    dates = {"as_of": "2030-01-01", "compare": "2020-01-03"}
    assert_same_query_count(client, django_assert_num_queries, busy, url, dates)


# --- Issue page --------------------------------------------------------------------------


def test_issue_page_shows_current_status_and_its_history(client, talks):
    html = get(client, issue_url("neutrality"))
    assert "Current status: Partially agreed since Istanbul meeting" in text(html)
    history = text(between(html, 'id="history-heading"', 'id="rounds-heading"'))
    assert history == (
        "Status history Raised Gomel talks, 28 Feb 2022 "
        "Under discussion Video call, 7 Mar 2022 "
        "Partially agreed Istanbul meeting, 29 Mar 2022"
    )


def test_issue_page_table_has_a_row_per_round_and_a_column_per_party(client, talks):
    html = get(client, issue_url("neutrality"))
    table = between(html, 'id="rounds-heading"', 'id="lineage-heading"')
    head = text(between(table, "<thead>", "</thead>"))
    assert head == "Round Status Russia Ukraine"
    assert row_with(table, f'"{round_url(1)}"') == (
        "Gomel talks 28 Feb 2022 Raised Russia raised it. "
        "Demand Ukraine must stay neutral. Demand Neutrality only with binding guarantees."
    )
    assert row_with(table, f'"{round_url(2)}"') == (
        "Video call 7 Mar 2022 Under discussion Talks go on. "
        "— no position Offer Neutrality in exchange for guarantees."
    )
    assert round_url(3) not in table


def test_issue_page_lineage_runs_demand_then_offer_then_reject(client, talks):
    html = get(client, issue_url("neutrality"))
    lineage = between(html, 'id="lineage-heading"')
    chains = re.findall(r'<ol class="lineage".*?</ol>', lineage, re.S)
    assert len(chains) == 1
    links = re.findall(r'<li class="link depth-(\d)">(.*?)</li>', chains[0], re.S)
    assert [(depth, text(body)) for depth, body in links] == [
        ("0", "Demand Russia in Gomel talks, 28 Feb 2022 Ukraine must stay neutral."),
        ("1", "Offer Ukraine in Video call, 7 Mar 2022 Neutrality in exchange for guarantees."),
        (
            "2",
            "Reject Russia in Istanbul meeting, 29 Mar 2022 The guarantee scheme is unacceptable.",
        ),
    ]


def test_issue_page_without_outcomes_or_chains_says_so(client, talks):
    html = get(client, issue_url("guarantees"))
    assert "Current status: Not yet taken up" in text(html)
    assert "No held round has recorded a status for this issue yet." in html
    assert "No published round has taken up this issue yet." in html
    assert "No position on this issue answers another yet." in html


@pytest.mark.parametrize(
    "data", [{"page": "abc"}, {"chains": "abc"}, {"history": "x"}, {"page": "99", "chains": "-1"}]
)
def test_issue_page_survives_bad_page_numbers(client, talks, data):
    html = get(client, issue_url("neutrality"), data)
    assert "Gomel talks" in html


def test_issue_page_pages_rounds_and_chains(client):
    issue = IssueFactory()
    for number in range(1, 26):
        round_ = RoundFactory(negotiation=issue.negotiation, number=number)
        demand = PositionFactory(round=round_, issue=issue)
        PositionFactory(round=round_, issue=issue, responds_to=demand, stance="offer")
    url = issue_url(issue.slug, issue.negotiation.slug)
    first = get(client, url)
    table = between(first, 'id="rounds-heading"', 'id="lineage-heading"')
    assert len(re.findall(r'<th scope="row"', table)) == 20
    assert "Chains 1–10 of 25" in first
    second = get(client, url, {"page": "2", "chains": "3"})
    table = between(second, 'id="rounds-heading"', 'id="lineage-heading"')
    assert len(re.findall(r'<th scope="row"', table)) == 5
    assert "Chains 21–25 of 25" in second


def test_issue_page_history_pages_back_from_the_latest_changes(client):
    issue = IssueFactory()
    for number in range(1, 15):
        OutcomeFactory(
            round=RoundFactory(negotiation=issue.negotiation, number=number),
            issue=issue,
            status="raised" if number % 2 else "under-discussion",
        )
    url = issue_url(issue.slug, issue.negotiation.slug)

    def history(html):
        return re.findall(r"/rounds/(\d+)/", between(html, 'id="history-heading"', "</ol>"))

    latest = get(client, url)
    assert history(latest) == [str(n) for n in range(3, 15)]
    assert "14 changes; page 1 of 2 (page 1 is the latest)" in latest
    assert "history=2" in re.search(r'<a href="([^"]+)">← Earlier changes</a>', latest).group(1)
    earlier = get(client, url, {"history": "2"})
    assert history(earlier) == ["1", "2"]
    assert "Current status: Under discussion since Round 14" in text(earlier)
    assert history(get(client, url, {"history": "abc"})) == history(latest)


def test_issue_page_shortens_a_long_lineage_chain(client):
    issue = IssueFactory()
    previous = None
    for number in range(1, 13):
        round_ = RoundFactory(negotiation=issue.negotiation, number=number)
        previous = PositionFactory(
            round=round_, issue=issue, responds_to=previous, text=f"Answer {number}."
        )
    html = get(client, issue_url(issue.slug, issue.negotiation.slug))
    chain = between(html, '<ol class="lineage"', "</ol>")
    shown = re.findall(r"Answer (\d+)\.", chain)
    assert shown == ["1", "2", "3", "8", "9", "10", "11", "12"]
    assert "… 4 further answers, listed round by round above …" in text(chain)


def test_issue_page_query_count_is_the_same_for_5_and_50_rounds(
    client, busy, django_assert_num_queries
):
    url = issue_url(busy.issue.slug, busy.negotiation.slug)
    assert_same_query_count(client, django_assert_num_queries, busy, url)


# --- Party page --------------------------------------------------------------------------


def test_party_page_lists_the_rounds_it_took_part_in_newest_first(client, talks):
    html = get(client, talks.ukraine.get_absolute_url())
    rounds = between(html, 'id="rounds-heading"', "</table>")
    assert re.findall(r"/rounds/(\d+)/", rounds) == ["4", "2", "1"]
    assert row_with(rounds, f'"{round_url(2)}"') == (
        "Video call Black Sea talks 7 Mar 2022 Delegation; 1 position "
        "Davyd Arakhamia Head Mykhailo Podolyak"
    )
    assert f'href="{TIMELINE}?party=ukraine">Black Sea talks</a>' in html


def test_party_page_shows_a_host_role(client, talks):
    html = get(client, talks.turkey.get_absolute_url())
    rounds = between(html, 'id="rounds-heading"', "</table>")
    assert (
        row_with(rounds, f'"{round_url(4)}"')
        == "Istanbul meeting Black Sea talks 29 Mar 2022 Host —"
    )


def test_party_page_lists_its_people_and_their_latest_statements(client, talks):
    html = get(client, talks.ukraine.get_absolute_url())
    people = text(between(html, 'id="people-heading"', "</section>"))
    assert people == "People Davyd Arakhamia Faction leader Mykhailo Podolyak Presidential adviser"
    statements = text(between(html, 'id="statements-heading"', "</section>"))
    assert statements == (
        "Latest statements by its people We hope the corridors will start working. "
        "— Mykhailo Podolyak, 7 March 2022, in Video call"
    )


def test_party_page_of_a_party_seen_only_in_drafts_shows_no_round(client, talks):
    html = get(client, talks.belarus.get_absolute_url())
    assert "Belarus has not taken part in a published round yet." in html
    assert "No published rounds." in html
    assert "No statements recorded." in html


def test_party_page_survives_a_bad_page_number(client, talks):
    html = get(client, talks.ukraine.get_absolute_url(), {"page": "abc"})
    assert "Istanbul meeting" in html


def test_party_page_query_count_is_the_same_for_5_and_50_rounds(
    client, busy, django_assert_num_queries
):
    assert_same_query_count(client, django_assert_num_queries, busy, busy.party.get_absolute_url())


# --- Person page -------------------------------------------------------------------------


def test_person_page_shows_party_title_and_aliases(client, talks):
    html = get(client, talks.medinsky.get_absolute_url())
    assert '<p class="eyebrow"><a href="/parties/russia/">Russia</a></p>' in html
    assert "Also written: Vladimir Medinskiy, Владимир Мединский" in text(html)
    assert '<span class="alias">Владимир Мединский</span>' in html


def test_person_page_lists_rounds_attended_with_roles(client, talks):
    html = get(client, talks.podolyak.get_absolute_url())
    rounds = between(html, 'id="rounds-heading"', "</table>")
    assert row_with(rounds, f'"{round_url(2)}"') == (
        "Video call Black Sea talks 7 Mar 2022 Ukraine Adviser to the head of the Office"
    )
    html = get(client, talks.medinsky.get_absolute_url())
    rounds = between(html, 'id="rounds-heading"', "</table>")
    assert re.findall(r"/rounds/(\d+)/", rounds) == ["4", "2", "1"]
    assert row_with(rounds, f'"{round_url(1)}"') == (
        "Gomel talks Black Sea talks 28 Feb 2022 Russia Head of delegation Presidential aide"
    )


def test_person_page_lists_statements_with_date_round_and_source(client, talks):
    html = get(client, talks.medinsky.get_absolute_url())
    statements = between(html, 'id="statements-heading"', "</section>")
    assert text(statements) == (
        "Statements The talks were difficult. "
        "28 February 2022, in Gomel talks (Black Sea talks). Source: TASS"
    )
    assert '<a href="https://tass.example/medinsky" rel="noopener noreferrer">TASS</a>' in (
        statements
    )


def test_person_page_of_someone_seen_only_in_drafts_shows_no_round(client, talks):
    html = get(client, talks.envoy.get_absolute_url())
    assert "Hidden Envoy is not recorded in any published round’s delegation." in html
    assert "No statements recorded." in html


@pytest.mark.parametrize("data", [{"page": "abc"}, {"statements": "abc"}, {"page": "-3"}])
def test_person_page_survives_bad_page_numbers(client, talks, data):
    html = get(client, talks.medinsky.get_absolute_url(), data)
    assert "The talks were difficult." in html


def test_person_page_query_count_is_the_same_for_5_and_50_rounds(
    client, busy, django_assert_num_queries
):
    url = busy.person.get_absolute_url()
    assert_same_query_count(client, django_assert_num_queries, busy, url)


# --- Search ------------------------------------------------------------------------------


def test_search_finds_published_rounds_outcomes_positions_and_statements(client, talks):
    html = get(client, "/search/", {"q": "corridors"})
    found = text(html)
    assert "Results for “corridors”" in found
    assert "Humanitarian corridors, agreed: Two corridors agreed for civilians." in found
    assert "Mykhailo Podolyak: We hope the corridors will start working." in found
    assert f'<a href="{round_url(2)}">Video call</a>' in html
    rounds = get(client, "/search/", {"q": "geneva"})
    assert f'<a href="{round_url(5)}">Geneva meeting</a>' in rounds


def test_search_finds_positions_with_party_and_stance(client, talks):
    found = text(get(client, "/search/", {"q": "unacceptable"}))
    assert "Russia, reject on Neutrality: The guarantee scheme is unacceptable." in found


def test_search_finds_people_by_alias(client, talks):
    html = get(client, "/search/", {"q": "medinskiy"})
    assert f'<a href="{talks.medinsky.get_absolute_url()}">Vladimir Medinsky</a>' in html


def test_search_finds_people_by_an_alias_in_another_script(client, talks):
    html = get(client, "/search/", {"q": "Мединский"})
    # SQLite stores the alias list's JSON text with \u escapes ("\u041c...").
    assert f'<a href="{talks.medinsky.get_absolute_url()}">Vladimir Medinsky</a>' in html, (
        "a person is not found by their Cyrillic alias"
    )


def test_search_for_brackets_does_not_list_everybody(client, talks):
    html = get(client, "/search/", {"q": "[]"})
    # The alias lists' JSON punctuation ("[]", '"', ",") must not match everybody.
    assert "Nothing published matches “[]”." in html, "searching “[]” lists every person and party"


def test_search_shows_a_few_of_each_kind_then_pages_through_one_kind(client):
    negotiation = NegotiationFactory()
    for number in range(1, 23):
        RoundFactory(negotiation=negotiation, number=number, location="Antalya")
    rounds = r'<a href="/negotiations/[^"]+/rounds/\d+/">'
    html = get(client, "/search/", {"q": "antalya"})
    assert len(re.findall(rounds, html)) == 5
    assert "All 22 rounds</a>" in html
    first = get(client, "/search/", {"q": "antalya", "kind": "rounds"})
    assert len(re.findall(rounds, first)) == 20
    second = get(client, "/search/", {"q": "antalya", "kind": "rounds", "page": "2"})
    assert len(re.findall(rounds, second)) == 2


def test_search_finds_nothing_from_a_draft_round(client, talks):
    for q in ("Secret", "Minsk"):
        html = get(client, "/search/", {"q": q})
        assert f"Nothing published matches “{q}”." in html
        assert round_url(3) not in html


def test_search_without_words_shows_just_the_form(client, talks):
    html = get(client, "/search/", {"q": "   "})
    assert 'id="search-q"' in html
    assert "Nothing published matches" not in html
    assert "Results for" not in html


# --- Drafts and missing pages ------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/",
        TIMELINE,
        TIMELINE + "?order=oldest&year=2022",
        round_url(2),
        round_url(4),
        BOARD,
        BOARD + "?as_of=2022-03-20&compare=2022-03-01",
        issue_url("neutrality"),
        issue_url("guarantees"),
        "/parties/ukraine/",
        "/parties/russia/",
        "/parties/belarus/",
        "/people/davyd-arakhamia/",
        "/people/vladimir-medinsky/",
        "/people/hidden-envoy/",
    ],
)
def test_no_page_shows_anything_from_a_draft_round(client, talks, url):
    html = get(client, url)
    assert "Secret" not in html
    assert "Minsk" not in html
    assert round_url(3) not in html


@pytest.mark.parametrize(
    "url",
    [
        "/negotiations/no-such-talks/issues/",
        "/negotiations/no-such-talks/rounds/1/",
        "/negotiations/no-such-talks/issues/neutrality/",
        round_url(3),  # a draft
        round_url(7),
        round_url(0),
        round_url(99999999999999999999999),
        issue_url("no-such-issue"),
        "/parties/no-such-party/",
        "/people/no-such-person/",
    ],
)
def test_unknown_or_unpublished_things_give_a_friendly_404(client, talks, url):
    response = client.get(url)
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()


def test_a_round_or_issue_of_one_negotiation_is_not_found_under_another(client, talks):
    other = NegotiationFactory(slug="other-talks")
    assert client.get(round_url(1, other.slug)).status_code == 404
    assert client.get(issue_url("neutrality", other.slug)).status_code == 404


def test_the_fetch_mode_used_by_the_query_count_tests_does_block_a_lazy_fetch(talks):
    with mock.patch.object(django_query, "DEFAULT_FETCH_MODE", models.FETCH_RAISE):
        round_ = Round.objects.first()
        with pytest.raises(FieldFetchBlocked):
            round_.negotiation  # noqa: B018
