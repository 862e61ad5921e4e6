"""Search: names and aliases, every kind of thing, filters and pages, no drafts, ranking
(PostgreSQL) or newest first (SQLite), safe snippets, the GIN indexes, and bad input."""

import datetime
import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from negotiations import search
from negotiations.models import (
    Outcome,
    OutcomeCitation,
    Position,
    PositionCitation,
    Round,
    RoundCitation,
    Source,
    Statement,
    StatementCitation,
)

from .factories import (
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
SEARCH = "/search/"
SLUG = "black-sea-talks"
# migration 0003: table -> GIN index on the expression the search queries with
INDEXES = {
    "negotiations_round": "round_search_idx",
    "negotiations_outcome": "outcome_search_idx",
    "negotiations_position": "position_search_idx",
    "negotiations_statement": "statement_search_idx",
    "negotiations_source": "source_search_idx",
}


def round_url(number: int, slug: str = SLUG) -> str:
    return f"/negotiations/{slug}/rounds/{number}/"


def hits(response) -> dict[str, list[str]]:
    """The result groups shown, by kind, each as the list of its hits' first links."""
    assert response.status_code == 200
    html = response.content.decode()
    groups = re.findall(
        r'<section aria-labelledby="results-(\w+)" class="result-group">(.*?)</section>',
        html,
        re.DOTALL,
    )
    return {kind: re.findall(r'<li><a href="([^"]+)"', body) for kind, body in groups}


def counts(response) -> dict[str, int]:
    html = response.content.decode()
    return {
        kind: int(count)
        for kind, count in re.findall(
            r'<h3 id="results-(\w+)">[^<]*<span class="meta">\((\d+)\)</span>', html
        )
    }


@pytest.fixture
def demo(db):
    call_command("load_demo", stdout=StringIO())


# --- 1. Names and aliases ---------------------------------------------------------------


@pytest.mark.parametrize(
    "query, kind, url, name",
    [
        ("Podoliyak", "people", "/people/mykhailo-podolyak/", "Mykhailo Podolyak"),
        ("Medinskiy", "people", "/people/vladimir-medinsky/", "Vladimir Medinsky"),
        ("Mykhailo Podoliyak", "people", "/people/mykhailo-podolyak/", "Mykhailo Podolyak"),
        ("medinskiy", "people", "/people/vladimir-medinsky/", "Vladimir Medinsky"),
        ("Türkiye", "parties", "/parties/turkey/", "Turkey"),
        ("Russian Federation", "parties", "/parties/russia/", "Russia"),
    ],
)
def test_people_and_parties_are_found_by_any_alias(client, demo, query, kind, url, name):
    response = client.get(SEARCH, {"q": query})
    assert hits(response)[kind] == [url]
    assert f'<a href="{url}">{name}</a>' in response.content.decode()
    # the same with the kind chosen, and the linked page is there
    assert hits(client.get(SEARCH, {"q": query, "kind": kind})) == {kind: [url]}
    assert client.get(url).status_code == 200


def test_an_alias_of_a_party_made_in_the_app_is_found(client):
    party = PartyFactory(slug="freedonia", name="Freedonia", aliases=["Grand Duchy of Fenwick"])
    PartyFactory(name="Sylvania")
    assert hits(client.get(SEARCH, {"q": "Fenwick"})) == {"parties": [party.get_absolute_url()]}


# --- 2. Every kind, filters, pages -------------------------------------------------------


@pytest.fixture
def talks():
    """One distinctive word per kind and field; returns word -> (kind, link)."""
    negotiation = NegotiationFactory(slug=SLUG, title="Black Sea talks")
    first = RoundFactory(
        negotiation=negotiation, number=1, title="Quillwort session", summary="Delegates met."
    )
    second = RoundFactory(
        negotiation=negotiation,
        number=2,
        title="Second session",
        summary="They discussed marzipan quotas.",
    )
    OutcomeFactory(round=first, text="Agreed on the halyard protocol.")
    position = PositionFactory(round=second, text="Demands the tamarind clause.")
    StatementFactory(round=first, text="We welcome the obsidian deal.")
    StatementFactory(round=second, text="Welcome.", original="Vive le verglas.", language="fr")
    titled = SourceFactory(negotiation=negotiation, title="Pomegranate report")
    published_by = SourceFactory(negotiation=negotiation, publisher="Wombat Herald")
    RoundCitation.objects.create(round=first, source=titled)
    OutcomeCitation.objects.create(outcome=first.outcomes.get(), source=published_by)
    return {
        "quillwort": ("rounds", round_url(1)),
        "marzipan": ("rounds", round_url(2)),
        "halyard": ("outcomes", round_url(1)),
        "tamarind": ("positions", f"{round_url(2)}#position-{position.pk}"),
        "obsidian": ("statements", round_url(1)),
        "verglas": ("statements", round_url(2)),
        "pomegranate": ("sources", titled.url),
        "wombat": ("sources", published_by.url),
    }


@pytest.mark.parametrize(
    "word", ["quillwort", "marzipan", "halyard", "tamarind", "obsidian", "verglas",
             "pomegranate", "wombat"],
)  # fmt: skip
def test_each_kind_is_found_by_a_plain_word_and_links_to_its_page(client, talks, word):
    kind, link = talks[word]
    assert hits(client.get(SEARCH, {"q": word})) == {kind: [link]}
    assert hits(client.get(SEARCH, {"q": word.upper(), "kind": kind})) == {kind: [link]}
    if link.startswith("/"):
        page = client.get(link.split("#")[0])
        assert page.status_code == 200
        if "#" in link:
            assert f'id="{link.split("#")[1]}"' in page.content.decode()


def test_a_word_found_nowhere_says_so(client, talks):
    response = client.get(SEARCH, {"q": "zyzzyva"})
    assert hits(response) == {}
    assert "Nothing published matches “zyzzyva”" in response.content.decode()


def test_the_negotiation_and_kind_filters_narrow_the_results(client):
    black_sea = NegotiationFactory(slug=SLUG, title="Black Sea talks")
    other = NegotiationFactory(slug="baltic-talks", title="Baltic talks")
    ours = RoundFactory(negotiation=black_sea, number=1, title="Lighthouse session")
    OutcomeFactory(round=ours, text="The lighthouse keepers are freed.")
    RoundFactory(negotiation=other, number=1, summary="Talks near a lighthouse.")

    everything = hits(client.get(SEARCH, {"q": "lighthouse"}))
    assert sorted(everything["rounds"]) == [round_url(1, "baltic-talks"), round_url(1)]
    assert everything["outcomes"] == [round_url(1)]
    assert set(everything) == {"rounds", "outcomes"}

    response = client.get(SEARCH, {"q": "lighthouse", "in": SLUG})
    assert hits(response) == {"rounds": [round_url(1)], "outcomes": [round_url(1)]}
    assert f'<option value="{SLUG}" selected>' in response.content.decode()
    assert "Results for “lighthouse” in Black Sea talks" in response.content.decode()

    only_rounds = hits(client.get(SEARCH, {"q": "lighthouse", "kind": "rounds"}))
    assert set(only_rounds) == {"rounds"}
    assert len(only_rounds["rounds"]) == 2

    assert hits(client.get(SEARCH, {"q": "lighthouse", "in": "baltic-talks"})) == {
        "rounds": [round_url(1, "baltic-talks")]
    }
    response = client.get(SEARCH, {"q": "lighthouse", "in": "baltic-talks", "kind": "outcomes"})
    assert hits(response) == {}
    assert "Nothing published matches" in response.content.decode()


def test_results_of_one_kind_are_paged(client):
    negotiation = NegotiationFactory(slug=SLUG)
    for number in range(1, 24):
        RoundFactory(negotiation=negotiation, number=number, summary="Harbour access.")

    overview = client.get(SEARCH, {"q": "harbour"})
    assert len(hits(overview)["rounds"]) == 5
    assert counts(overview) == {"rounds": 23}
    assert '<a href="?q=harbour&amp;kind=rounds">All 23 rounds</a>' in overview.content.decode()

    first = client.get(SEARCH, {"q": "harbour", "kind": "rounds"})
    html = first.content.decode()
    assert "Page 1 of 2" in html
    assert 'href="?q=harbour&amp;kind=rounds&amp;page=2" rel="next"' in html
    second = client.get(SEARCH, {"q": "harbour", "kind": "rounds", "page": "2"})
    assert "Page 2 of 2" in second.content.decode()
    on_first, on_second = hits(first)["rounds"], hits(second)["rounds"]
    assert (len(on_first), len(on_second)) == (20, 3)
    assert set(on_first) | set(on_second) == {round_url(n) for n in range(1, 24)}

    # a page past the end shows the last page, a page that is not a number the first
    assert hits(client.get(SEARCH, {"q": "harbour", "kind": "rounds", "page": "99"})) == hits(
        second
    )
    assert hits(client.get(SEARCH, {"q": "harbour", "kind": "rounds", "page": "abc"})) == hits(
        first
    )


def test_counts_stop_at_a_cap_lower_in_the_overview_than_on_a_kinds_page(client, monkeypatch):
    """However many match, a search counts so far and no further: OVERVIEW_CAP when every
    kind is shown, COUNT_CAP on one kind's pages. Beyond it the count reads "N+"."""
    monkeypatch.setattr(search, "OVERVIEW_CAP", 6)
    monkeypatch.setattr(search, "COUNT_CAP", 9)
    negotiation = NegotiationFactory(slug=SLUG)
    for number in range(1, 9):
        RoundFactory(negotiation=negotiation, number=number, summary="Harbour access.")

    overview = client.get(SEARCH, {"q": "harbour"}).content.decode()
    assert '<span class="meta">(6+)</span>' in overview
    assert "More than 6 rounds match" in overview
    assert '<a href="?q=harbour&amp;kind=rounds">More than 6 rounds</a>' in overview
    one_kind = client.get(SEARCH, {"q": "harbour", "kind": "rounds"}).content.decode()
    assert '<span class="meta">(8)</span>' in one_kind  # under this page's cap: exact
    assert "More than" not in one_kind

    for number in range(9, 12):
        RoundFactory(negotiation=negotiation, number=number, summary="Harbour access.")
    one_kind = client.get(SEARCH, {"q": "harbour", "kind": "rounds"}).content.decode()
    assert '<span class="meta">(9+)</span>' in one_kind
    assert "More than 9 rounds match" in one_kind


# --- 3. Drafts --------------------------------------------------------------------------


def test_nothing_only_in_a_draft_round_is_found(client):
    negotiation = NegotiationFactory(slug=SLUG)
    RoundFactory(negotiation=negotiation, number=1, title="Public session")
    draft = RoundFactory(
        negotiation=negotiation,
        number=2,
        title="Closed session",
        summary="The nightjar plan.",
        published=False,
    )
    outcome = OutcomeFactory(round=draft, text="Nightjar outcome.")
    position = PositionFactory(round=draft, text="Nightjar position.")
    said = StatementFactory(round=draft, text="Nightjar statement.")
    original = StatementFactory(round=draft, text="Plain words.", original="Nightjar original.")
    sources = [
        SourceFactory(negotiation=negotiation, title=f"Nightjar {n}", key=f"nightjar-{n}")
        for n in range(4)
    ]
    RoundCitation.objects.create(round=draft, source=sources[0])
    OutcomeCitation.objects.create(outcome=outcome, source=sources[1])
    PositionCitation.objects.create(position=position, source=sources[2])
    StatementCitation.objects.create(statement=said, source=sources[3])
    assert original.original

    response = client.get(SEARCH, {"q": "nightjar"})
    assert hits(response) == {}
    assert "Nightjar" not in response.content.decode().replace("“nightjar”", "")
    for kind in ["rounds", "outcomes", "positions", "statements", "sources"]:
        assert hits(client.get(SEARCH, {"q": "nightjar", "kind": kind})) == {}
    assert hits(client.get(SEARCH, {"q": "Closed session"})) == {}

    # published, all of it is found: the test looks where the drafts would show
    draft.published = True
    draft.save()
    assert counts(client.get(SEARCH, {"q": "nightjar"})) == {
        "rounds": 1,
        "outcomes": 1,
        "positions": 1,
        "statements": 2,
        "sources": 4,
    }


# --- 4. Order, snippets, indexes --------------------------------------------------------


def test_results_are_ranked_on_postgresql_and_newest_first_elsewhere(client):
    negotiation = NegotiationFactory(slug=SLUG)
    in_title = RoundFactory(
        negotiation=negotiation,
        number=1,
        title="Ceasefire talks",
        summary="Delegations met.",
        start_date=D(2022, 3, 1),
    )
    in_summary = RoundFactory(
        negotiation=negotiation,
        number=2,
        title="Second meeting",
        summary="A ceasefire was discussed at length.",
        start_date=D(2022, 4, 1),
    )
    in_location = RoundFactory(
        negotiation=negotiation,
        number=3,
        title="Third meeting",
        summary="Prisoners were exchanged.",
        location="Ceasefire House",
        start_date=D(2022, 5, 1),
    )
    shown = hits(client.get(SEARCH, {"q": "ceasefire", "kind": "rounds"}))["rounds"]
    if connection.vendor == "postgresql":
        # weights: title A > summary B > location C
        expected = [in_title, in_summary, in_location]
    else:
        expected = [in_location, in_summary, in_title]
    assert shown == [r.get_absolute_url() for r in expected]


def test_snippets_mark_the_word_and_escape_stored_html(client):
    RoundFactory(
        negotiation=NegotiationFactory(slug=SLUG),
        number=1,
        summary='A & B agreed a ceasefire; 5 < 6 and "quotes" <mark>fake</mark> '
        "<img src=x onerror=alert(1)>",
    )
    html = client.get(SEARCH, {"q": "ceasefire", "kind": "rounds"}).content.decode()
    assert "<img" not in html
    snippet = re.search(r'<p class="cell-text">(.*?)</p>', html, re.DOTALL).group(1)
    assert "5 &lt; 6" in snippet
    if connection.vendor == "postgresql":
        # the word is marked, and the <mark> stored in the text is not
        assert "<mark>ceasefire</mark>" in snippet
        assert (snippet.count("<mark>"), snippet.count("</mark>")) == (1, 1)
        assert "&lt;img src=x" in snippet
    else:
        assert "&lt;mark&gt;fake&lt;/mark&gt;" in snippet
    # no markup but the highlight
    bare = snippet.replace("<mark>", "").replace("</mark>", "")
    assert "<" not in bare and ">" not in bare
    assert not re.search(r"&(?!amp;|lt;|gt;|quot;|#x27;)", bare)


def _index_names(table: str) -> set[str]:
    with connection.cursor() as cursor:
        return set(connection.introspection.get_constraints(cursor, table))


def _other_rows(round_) -> None:
    """Enough other published rows that the planner finds no cheaper way than the GIN
    index (an index on `published` or on a foreign key is a shortcut in tiny tables)."""
    negotiation = round_.negotiation
    others = Round.objects.bulk_create(
        Round(negotiation=negotiation, number=n, title=f"Session {n}", published=True)
        # numbered past the fixture's round, whatever number the factory gave it
        for n in range(round_.number + 1, round_.number + 301)
    )
    issue, party, person = round_.outcomes.get().issue, PartyFactory(), PersonFactory()
    Outcome.objects.bulk_create(Outcome(round=r, issue=issue, status="raised") for r in others)
    Position.objects.bulk_create(
        Position(round=r, issue=issue, party=party, stance="offer") for r in others
    )
    Statement.objects.bulk_create(Statement(round=r, person=person, text="No.") for r in others)
    Source.objects.bulk_create(
        Source(negotiation=negotiation, key=f"other-{n}", title="Other") for n in range(300)
    )


def test_gin_indexes_exist_and_serve_the_search_on_postgresql_only(client):
    negotiation = NegotiationFactory(slug=SLUG)
    round_ = RoundFactory(negotiation=negotiation, title="Ceasefire talks")
    OutcomeFactory(round=round_, text="A ceasefire.")
    PositionFactory(round=round_, text="Demands a ceasefire.")
    StatementFactory(round=round_, text="The ceasefire holds.")
    source = SourceFactory(negotiation=negotiation, title="Ceasefire report")
    RoundCitation.objects.create(round=round_, source=source)
    if connection.vendor == "postgresql":
        _other_rows(round_)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE indexname = ANY(%s)",
                [list(INDEXES.values())],
            )
            found = {table: (name, definition) for table, name, definition in cursor.fetchall()}
        assert {table: name for table, (name, _) in found.items()} == INDEXES
        for _, definition in found.values():
            assert "USING gin" in definition
            assert "to_tsvector('english'" in definition

        with CaptureQueriesContext(connection) as searched:
            response = client.get(SEARCH, {"q": "ceasefire"})
        assert set(counts(response)) == {"rounds", "outcomes", "positions", "statements",
                                         "sources"}  # fmt: skip
        plans = {}
        with connection.cursor() as cursor:
            for table in INDEXES:  # planner statistics (rolled back with the test)
                cursor.execute(f"ANALYZE {table}")
            cursor.execute("SET LOCAL enable_seqscan = off")
            for query in searched.captured_queries:
                sql = query["sql"]
                if "websearch_to_tsquery" in sql:  # each kind's one query: page and count
                    table = re.search(r'FROM "(\w+)"', sql).group(1)
                    cursor.execute("EXPLAIN " + sql)
                    plans[table] = "\n".join(row[0] for row in cursor.fetchall())
        assert set(plans) == set(INDEXES)
        for table, index in INDEXES.items():
            assert f"Index Scan on {index}" in plans[table], plans[table]
    else:
        for table, index in INDEXES.items():
            assert _index_names(table), table  # the introspection sees the table's indexes
            assert index not in _index_names(table)


# --- 5. Bad input -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"q": ""},
        {"q": "   "},
        {"q": "[]"},
        {"q": "&&&"},
        {"q": "!:*|()<->'\""},
        {"q": "-"},
        {"q": "the"},
        {"q": '"unclosed quote'},
        {"q": "ceasefire " * 600},
        {"q": "x" * 5000},
        {"q": "100% _ \\"},
        {"q": "cease\x00fire"},
        {"q": "ceasefire", "kind": "nonsense"},
        {"q": "ceasefire", "in": "no-such-talks"},
        {"q": "ceasefire", "kind": "rounds", "page": "abc"},
        {"q": "ceasefire", "kind": "rounds", "page": "-1"},
        {"q": "ceasefire", "kind": "rounds", "page": "99999999999999999999"},
        {"q": "ceasefire", "page": "abc"},
        {"q": "<script>alert(1)</script>"},
    ],
    ids=lambda params: repr(params)[:40],
)
def test_bad_input_never_fails(client, params):
    round_ = RoundFactory(negotiation=NegotiationFactory(slug=SLUG), title="Ceasefire talks")
    response = client.get(SEARCH, params)
    assert response.status_code == 200
    html = response.content.decode()
    assert "<script>alert" not in html
    if params.get("q", "").strip() == "ceasefire":
        assert hits(response)["rounds"] == [round_.get_absolute_url()]


def test_a_very_long_query_is_cut_to_200_characters(client):
    html = client.get(SEARCH, {"q": "y" * 5000}).content.decode()
    status = re.search(r'<p role="status">(.*?)</p>', html, re.DOTALL).group(1)
    assert f"“{'y' * 200}”" in status
    assert f'value="{"y" * 200}"' in html  # the search box keeps what was searched for


def test_an_unknown_kind_or_negotiation_searches_everything(client):
    round_ = RoundFactory(negotiation=NegotiationFactory(slug=SLUG), title="Ceasefire talks")
    OutcomeFactory(round=round_, text="A ceasefire.")
    expected = {"rounds": [round_url(round_.number)], "outcomes": [round_url(round_.number)]}
    assert hits(client.get(SEARCH, {"q": "ceasefire", "kind": "nonsense"})) == expected
    assert hits(client.get(SEARCH, {"q": "ceasefire", "in": "no-such-talks"})) == expected


def test_an_htmx_request_gets_only_the_results_fragment(client):
    round_ = RoundFactory(negotiation=NegotiationFactory(slug=SLUG), title="Ceasefire talks")
    response = client.get(SEARCH, {"q": "ceasefire"}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    fragment = response.content.decode().strip()
    assert fragment.startswith('<section id="results"')
    assert fragment.endswith("</section>")
    assert "<html" not in fragment and "<form" not in fragment and "<h1>" not in fragment
    assert hits(response) == {"rounds": [round_.get_absolute_url()]}
    assert "HX-Request" in response["Vary"]

    empty = client.get(SEARCH, {"q": "&&&"}, headers={"HX-Request": "true"})
    assert empty.content.decode().strip().startswith('<section id="results"')

    # a boosted link needs the whole page
    boosted = client.get(
        SEARCH, {"q": "ceasefire"}, headers={"HX-Request": "true", "HX-Boosted": "true"}
    )
    assert "<html" in boosted.content.decode()
    assert 'role="search"' in boosted.content.decode()


def test_people_search_needs_a_word_not_just_punctuation(client):
    PersonFactory(name="Ann O'Neil", aliases=["A. O."])
    assert hits(client.get(SEARCH, {"q": "..."})) == {}
    assert hits(client.get(SEARCH, {"q": "O'Neil"}))["people"]


def test_search_queries_do_not_grow_with_the_number_of_matches(client, django_assert_num_queries):
    negotiation = NegotiationFactory()
    for number in range(1, 6):
        RoundFactory(negotiation=negotiation, number=number, location="Antalya")
    with CaptureQueriesContext(connection) as five:
        client.get("/search/", {"q": "antalya"})
    for number in range(6, 51):
        RoundFactory(negotiation=negotiation, number=number, location="Antalya")
    with django_assert_num_queries(len(five)):
        client.get("/search/", {"q": "antalya"})
