"""Feeds and downloads: Atom feeds, parley/1, CSV tables and TimelineJS events. Readers
get published rounds only; editors get the drafts too in the parley/1 file."""

import csv
import datetime
import io
import json
import re
import xml.etree.ElementTree as ET
from io import StringIO
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from negotiations.interchange import export_negotiation, import_negotiation, read_document
from negotiations.models import (
    Negotiation,
    OutcomeCitation,
    PositionCitation,
    Round,
    RoundCitation,
    StatementCitation,
)

from .factories import (
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
BASE = f"/negotiations/{SLUG}"
SERVER = "http://testserver"
ATOM = "{http://www.w3.org/2005/Atom}"


def round_url(number: int) -> str:
    return f"{SERVER}{BASE}/rounds/{number}/"


@pytest.fixture
def talks() -> dict:
    """Published rounds 1, 2, 4 (dated) and 5 (undated, scheduled); round 3 is a draft,
    with its own outcome, position, statement, speaker and a source only it cites."""
    negotiation = NegotiationFactory(
        slug=SLUG, title="Black Sea <i>talks</i>", summary="Grain & <em>ports</em>."
    )
    grain = IssueFactory(negotiation=negotiation, slug="grain-corridor", title="Grain corridor")
    ports = IssueFactory(negotiation=negotiation, slug="ports", title="Ports")
    turkey = PartyFactory(slug="turkey", name="Turkey")
    ukraine = PartyFactory(slug="ukraine", name="Ukraine")
    russia = PartyFactory(slug="russia", name="Russia")

    def make(number, title, start, end=None, **extra):
        return RoundFactory(
            negotiation=negotiation,
            number=number,
            title=title,
            start_date=start,
            end_date=end or start,
            **extra,
        )

    first = make(1, "Opening in Istanbul", D(2022, 3, 1), summary='He said "no", then\nleft.')
    second = make(
        2,
        "Talks <b>resume</b> & go on",
        D(2022, 3, 10),
        D(2022, 3, 12),
        location="Antalya <i>Riviera</i>",
        summary="<script>alert(1)</script>",
    )
    draft = make(3, "Secret draft round", D(2022, 3, 20), published=False, summary="Hush.")
    fourth = make(4, "Third session", D(2022, 3, 15), location="")
    undated = make(5, "Next session", None, status=Round.Status.SCHEDULED, location="", format=None)
    first.hosts.add(turkey)
    DelegationMemberFactory(
        delegation__round=second,
        delegation__party=ukraine,
        person=PersonFactory(slug="delegate", party=ukraine),
        is_head=True,
    )

    opening = SourceFactory(negotiation=negotiation, key="opening", url="https://ex.org/opening")
    shared = SourceFactory(negotiation=negotiation, key="shared", url="https://ex.org/shared")
    secret = SourceFactory(negotiation=negotiation, key="secret", url="https://ex.org/secret")
    uncited = SourceFactory(negotiation=negotiation, key="uncited", url="https://ex.org/uncited")
    RoundCitation.objects.create(round=first, source=opening)
    RoundCitation.objects.create(round=second, source=shared)
    RoundCitation.objects.create(round=draft, source=shared)
    RoundCitation.objects.create(round=draft, source=secret)

    raised = OutcomeFactory(round=first, issue=grain, status="raised", text="Turkey offered.")
    OutcomeCitation.objects.create(outcome=raised, source=opening)
    OutcomeCitation.objects.create(outcome=raised, source=shared)
    OutcomeFactory(round=first, issue=ports, status="under-discussion", text="")
    OutcomeFactory(round=second, issue=grain, status="agreed", text="Signed the <grain> deal.")
    OutcomeFactory(round=second, issue=ports, status="raised", text="")
    OutcomeFactory(round=draft, issue=grain, status="breached", text="Draft outcome.")
    OutcomeFactory(round=fourth, issue=grain, status="agreed", text="Still agreed.")

    demand = PositionFactory(
        round=first, party=ukraine, issue=grain, key="safe-passage", text="Demands passage."
    )
    PositionCitation.objects.create(position=demand, source=opening)
    PositionFactory(
        round=second, party=russia, issue=grain, stance="offer", responds_to=demand,
        text="Offers inspections.",
    )  # fmt: skip
    hidden = PositionFactory(
        round=draft, party=russia, issue=grain, key="draft-offer", text="Draft position."
    )
    PositionFactory(
        round=fourth, party=ukraine, issue=grain, stance="accept", responds_to=hidden,
        text="Accepts the offer.",
    )  # fmt: skip
    said = StatementFactory(round=first, person=PersonFactory(slug="speaker", party=ukraine))
    StatementCitation.objects.create(statement=said, source=opening)
    StatementFactory(
        round=draft, person=PersonFactory(slug="draft-speaker"), text="Draft statement."
    )
    return {
        "negotiation": negotiation,
        "rounds": [first, second, draft, fourth, undated],
        "sources": {"opening": opening, "shared": shared, "secret": secret, "uncited": uncited},
    }


DRAFT_MARKERS = ["Secret draft round", "Draft outcome", "Draft position", "Draft statement",
                 "draft-speaker", "draft-offer", "ex.org/secret", "breached", "Hush"]  # fmt: skip


def assert_no_drafts(body: str) -> None:
    assert [marker for marker in DRAFT_MARKERS if marker in body] == []


# --- 6. Atom feeds ----------------------------------------------------------------------


def atom(response) -> ET.Element:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    root = ET.fromstring(response.content)
    assert root.tag == f"{ATOM}feed"
    for name in ["id", "title", "updated"]:
        assert (root.findtext(f"{ATOM}{name}") or "").strip(), name
    datetime.datetime.fromisoformat(root.findtext(f"{ATOM}updated"))
    for entry in root.findall(f"{ATOM}entry"):
        for name in ["id", "title", "updated"]:
            assert (entry.findtext(f"{ATOM}{name}") or "").strip(), name
        datetime.datetime.fromisoformat(entry.findtext(f"{ATOM}updated"))
        assert entry.find(f"{ATOM}link").get("href").startswith(SERVER)
    ids = [entry.findtext(f"{ATOM}id") for entry in root.findall(f"{ATOM}entry")]
    assert len(ids) == len(set(ids))
    return root


def entries(root: ET.Element) -> list[dict]:
    return [
        {
            "title": entry.findtext(f"{ATOM}title"),
            "link": entry.find(f"{ATOM}link").get("href"),
            "summary": entry.findtext(f"{ATOM}summary") or "",
        }
        for entry in root.findall(f"{ATOM}entry")
    ]


def test_the_rounds_feed_has_one_entry_per_published_round_newest_first(client, talks):
    response = client.get(f"{BASE}/feed/")
    root = atom(response)
    assert root.findtext(f"{ATOM}title") == "Black Sea <i>talks</i>: rounds"
    shown = entries(root)
    # undated (here: scheduled) rounds come first, as on the timeline, then by date
    assert [e["link"] for e in shown] == [round_url(n) for n in [5, 4, 2, 1]]
    assert shown[1]["title"] == "Round 4: Third session"
    opening = shown[3]["summary"]
    assert "Grain corridor: Raised — Turkey offered." in opening
    assert "Ports: Under discussion" in opening
    assert "Grain corridor: Agreed — Signed the &lt;grain&gt; deal." in shown[2]["summary"]
    assert "<script>" not in shown[2]["summary"]
    assert_no_drafts(response.content.decode())


def test_the_issue_feed_has_one_entry_per_status_change(client, talks):
    root = atom(client.get(f"{BASE}/issues/grain-corridor/feed/"))
    shown = entries(root)
    # raised (1) → agreed (2); still agreed in 4 is no change; the draft's breach is hidden
    assert [e["link"] for e in shown] == [round_url(2), round_url(1)]
    assert shown[0]["title"].startswith("Grain corridor: Agreed")
    assert "Raised → Agreed" in shown[0]["summary"]
    assert "Signed the &lt;grain&gt; deal." in shown[0]["summary"]
    assert_no_drafts(ET.tostring(root, encoding="unicode"))

    ports = entries(atom(client.get(f"{BASE}/issues/ports/feed/")))
    assert [e["link"] for e in ports] == [round_url(2), round_url(1)]
    assert "Under discussion → Raised" in ports[0]["summary"]


@pytest.mark.parametrize("feed", [f"{BASE}/feed/", f"{BASE}/issues/grain-corridor/feed/"])
def test_feed_and_entry_ids_are_absolute_iris(client, talks, feed):
    """RFC 4287, 4.2.6: atom:id is an IRI, and an IRI is never a relative reference."""
    root = atom(client.get(feed))
    ids = [root.findtext(f"{ATOM}id")]
    ids += [entry.findtext(f"{ATOM}id") for entry in root.findall(f"{ATOM}entry")]
    assert len(ids) > 1
    assert [i for i in ids if not urlsplit(i).scheme] == []


def test_an_undated_round_s_entry_reads_well(client, talks):
    undated = entries(atom(client.get(f"{BASE}/feed/")))[0]
    assert undated["link"] == round_url(5)
    assert "Scheduled." in undated["summary"]
    # no date, place or format: the entry must not open with a stray ". "
    assert not re.match(r"<p>\s*[.,]", undated["summary"]), undated["summary"]


def test_an_issue_without_outcomes_has_an_empty_feed(client, talks):
    IssueFactory(negotiation=talks["negotiation"], slug="crimea", title="Crimea")
    assert entries(atom(client.get(f"{BASE}/issues/crimea/feed/"))) == []
    assert client.get("/negotiations/nope/feed/").status_code == 404
    assert client.get(f"{BASE}/issues/nope/feed/").status_code == 404


@pytest.mark.parametrize(
    "url, feed",
    [(f"{BASE}/", f"{BASE}/feed/"), (f"{BASE}/issues/ports/", f"{BASE}/issues/ports/feed/")],
)
def test_the_pages_link_their_feeds(client, talks, url, feed):
    html = client.get(url).content.decode()
    links = re.findall(r"<link [^>]*>", html)
    alternate = [
        link for link in links
        if 'rel="alternate"' in link and 'type="application/atom+xml"' in link
    ]  # fmt: skip
    assert len(alternate) == 1
    assert f'href="{feed}"' in alternate[0]
    atom(client.get(feed))


# --- 7. parley/1 ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "who, drafts",
    [(None, False), ("outsider", False), ("analyst", False), ("editor", True), ("admin", True)],
)
def test_export_json_has_drafts_only_for_editors(client, users, talks, who, drafts):
    if who:
        client.force_login(users[who])
    response = client.get(f"{BASE}/export.json")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert f'filename="{SLUG}.parley.json"' in response["Content-Disposition"]
    assert "Cookie" in response["Vary"]
    document = json.loads(response.content)
    assert document["format"] == "parley/1"
    numbers = [r["number"] for r in document["rounds"]]
    keys = {s["key"] for s in document["sources"]}
    people = {p["slug"] for p in document["people"]}
    if drafts:
        assert numbers == [1, 2, 3, 4, 5]
        assert document["rounds"][2]["published"] is False
        assert keys == {"opening", "shared", "secret", "uncited"}
        assert people == {"delegate", "speaker", "draft-speaker"}
        assert response.content.decode() == export_negotiation(talks["negotiation"])
    else:
        assert numbers == [1, 2, 4, 5]
        assert "secret" not in keys and "shared" in keys
        assert people == {"delegate", "speaker"}
        assert_no_drafts(response.content.decode())
        assert response.content.decode() == export_negotiation(
            talks["negotiation"], include_drafts=False
        )


@pytest.fixture
def demo(db) -> Negotiation:
    call_command("load_demo", stdout=StringIO())
    return Negotiation.objects.get(slug="russia-ukraine")


def test_without_drafts_every_export_is_the_same_bytes(client, users, demo):
    assert not demo.rounds.filter(published=False).exists()
    expected = export_negotiation(demo).encode()
    command = StringIO()
    call_command("export_negotiation", demo.slug, stdout=command)
    assert command.getvalue().encode() == expected
    assert client.get(f"/negotiations/{demo.slug}/export.json").content == expected
    client.force_login(users["editor"])
    assert client.get(f"/negotiations/{demo.slug}/export.json").content == expected


def test_without_drafts_the_reader_file_is_the_full_file(client, talks):
    talks["rounds"][2].delete()
    body = client.get(f"{BASE}/export.json").content
    assert body == export_negotiation(talks["negotiation"]).encode()


@pytest.mark.parametrize("who", [None, "editor"])
def test_the_exported_file_imports_again(client, users, talks, who):
    if who:
        client.force_login(users[who])
    document = json.loads(client.get(f"{BASE}/export.json").content)
    document["negotiation"]["slug"] = "black-sea-copy"
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    read_document(text)  # raises InvalidDocument listing any problem
    result = import_negotiation(text)
    assert result.warnings == []
    # and it exports to the very same file
    assert export_negotiation(result.negotiation) == text


# --- 8. CSV -----------------------------------------------------------------------------


def table(response) -> list[dict]:
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith("attachment;")
    body = response.content.decode("utf-8")
    assert_no_drafts(body)
    rows = list(csv.reader(io.StringIO(body, newline="")))
    header, *records = rows
    assert all(len(record) == len(header) for record in records)
    return header, [dict(zip(header, record, strict=True)) for record in records]


def test_rounds_csv_has_one_row_per_published_round(client, talks):
    header, rows = table(client.get(f"{BASE}/rounds.csv"))
    assert header == ["number", "title", "status", "start_date", "end_date", "location",
                      "format", "hosts", "summary", "source_urls", "url"]  # fmt: skip
    assert [row["number"] for row in rows] == ["1", "2", "4", "5"]
    first, second, _, undated = rows
    assert first["start_date"] == first["end_date"] == "2022-03-01"
    assert (second["start_date"], second["end_date"]) == ("2022-03-10", "2022-03-12")
    assert first["summary"] == 'He said "no", then\nleft.'
    assert second["title"] == "Talks <b>resume</b> & go on"
    assert first["hosts"] == "Turkey"
    assert first["source_urls"] == "https://ex.org/opening"
    assert second["source_urls"] == "https://ex.org/shared"
    assert first["url"] == round_url(1)
    assert (undated["start_date"], undated["status"], undated["format"]) == ("", "scheduled", "")


def test_outcomes_csv_has_one_row_per_published_outcome(client, talks):
    header, rows = table(client.get(f"{BASE}/outcomes.csv"))
    assert header == ["round", "round_date", "issue", "status", "text", "source_urls"]
    assert [(r["round"], r["issue"], r["status"]) for r in rows] == [
        ("1", "Grain corridor", "raised"),
        ("1", "Ports", "under-discussion"),
        ("2", "Grain corridor", "agreed"),
        ("2", "Ports", "raised"),
        ("4", "Grain corridor", "agreed"),
    ]
    assert rows[0]["round_date"] == "2022-03-01"
    assert rows[0]["source_urls"].split() == ["https://ex.org/opening", "https://ex.org/shared"]
    assert rows[2]["text"] == "Signed the <grain> deal."


def test_positions_csv_has_one_row_per_published_position(client, talks):
    header, rows = table(client.get(f"{BASE}/positions.csv"))
    assert header == ["round", "round_date", "party", "issue", "stance", "text",
                      "responds_to_round", "source_urls"]  # fmt: skip
    assert [(r["round"], r["party"], r["stance"]) for r in rows] == [
        ("1", "Ukraine", "demand"),
        ("2", "Russia", "offer"),
        ("4", "Ukraine", "accept"),
    ]
    assert rows[0]["source_urls"] == "https://ex.org/opening"
    assert rows[1]["round_date"] == "2022-03-10"
    assert rows[1]["responds_to_round"] == "1"
    assert rows[2]["responds_to_round"] == ""  # it answers a draft's position


# --- 9. TimelineJS ----------------------------------------------------------------------


def test_timelinejs_document_has_the_published_dated_rounds(client, talks):
    response = client.get(f"{BASE}/timelinejs.json")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    body = response.content.decode()
    assert_no_drafts(body)
    assert "<b>" not in body and "<script>" not in body and "<i>" not in body
    document = json.loads(body)
    assert set(document) == {"title", "events"}
    assert document["title"]["text"]["headline"] == "Black Sea &lt;i&gt;talks&lt;/i&gt;"
    assert "Grain &amp; &lt;em&gt;ports&lt;/em&gt;." in document["title"]["text"]["text"]

    events = document["events"]
    assert [e["unique_id"] for e in events] == ["round-1", "round-2", "round-4"]
    for event in events:
        assert set(event) <= {"start_date", "end_date", "text", "unique_id", "group"}
        for date in [event["start_date"], event.get("end_date")]:
            if date is not None:
                assert set(date) == {"year", "month", "day"}
                assert all(type(value) is int for value in date.values())
        assert isinstance(event["text"]["headline"], str) and event["text"]["headline"]
        assert isinstance(event["text"]["text"], str)
        assert event["group"] == "Held"
    first, second, fourth = events
    assert first["start_date"] == {"year": 2022, "month": 3, "day": 1}
    assert "end_date" not in first and "end_date" not in fourth
    assert second["end_date"] == {"year": 2022, "month": 3, "day": 12}
    assert second["text"]["headline"] == (
        "Talks &lt;b&gt;resume&lt;/b&gt; &amp; go on — Antalya &lt;i&gt;Riviera&lt;/i&gt;"
    )
    assert "<li>Grain corridor: Agreed</li>" in second["text"]["text"]
    assert "&lt;script&gt;" in second["text"]["text"]
    assert f'<a href="{round_url(2)}">' in second["text"]["text"]


# --- 10. Query counts -------------------------------------------------------------------


def test_feed_and_export_query_counts_are_the_same_for_5_and_50_rounds(client):
    negotiation = NegotiationFactory(slug=SLUG)
    issue = IssueFactory(negotiation=negotiation, slug="grain-corridor")
    party, person = PartyFactory(), PersonFactory()
    source = SourceFactory(negotiation=negotiation)

    def add_rounds(how_many: int) -> None:
        for _ in range(how_many):
            round_ = RoundFactory(negotiation=negotiation)
            round_.hosts.add(party)
            RoundCitation.objects.create(round=round_, source=source)
            status = "agreed" if round_.number % 2 else "stalled"  # a change every round
            outcome = OutcomeFactory(round=round_, issue=issue, status=status)
            OutcomeCitation.objects.create(outcome=outcome, source=source)
            position = PositionFactory(round=round_, issue=issue, party=party)
            PositionCitation.objects.create(position=position, source=source)
            StatementFactory(round=round_, person=person)
            DelegationMemberFactory(delegation__round=round_, person=person)

    urls = [f"{BASE}/feed/", f"{BASE}/issues/grain-corridor/feed/", f"{BASE}/rounds.csv",
            f"{BASE}/outcomes.csv", f"{BASE}/positions.csv", f"{BASE}/timelinejs.json",
            f"{BASE}/export.json"]  # fmt: skip

    def query_counts() -> dict[str, int]:
        found = {}
        for url in urls:
            with CaptureQueriesContext(connection) as queries:
                assert client.get(url).status_code == 200
            found[url] = len(queries)
        return found

    add_rounds(5)
    five = query_counts()
    add_rounds(45)
    assert query_counts() == five
    assert len(entries(atom(client.get(f"{BASE}/feed/")))) == 50
