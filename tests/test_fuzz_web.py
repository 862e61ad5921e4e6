"""Fuzzing the web: every page, query parameter and form, given random and hostile input,
answers with a page, a redirect, a 4xx or a form error, never a 500; and a form that is
refused writes nothing.

Each example runs in a savepoint that is rolled back, so examples do not see each other's
writes. A view that raises reaches the test as the exception itself (the test client
re-raises it), which is how a 500 shows up here."""

import json
import os
import re
from contextlib import contextmanager
from types import SimpleNamespace
from urllib.parse import quote, urlencode

import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client
from django.utils.http import url_has_allowed_host_and_scheme
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from negotiations.editor import ROWS
from negotiations.interchange import export_negotiation
from negotiations.models import Round, Source

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


def fuzz(examples: int):
    return settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


# --- The world and helpers ----------------------------------------------------------------


class World(SimpleNamespace):
    def __repr__(self) -> str:  # keeps Hypothesis's failure reports short
        return "world"


@pytest.fixture
def world(users):
    """Border talks: issues borders and prisoners, round 1 (published, renamed once) with a
    delegation, an outcome, a demand and an offer answering it, a statement and a source;
    round 2 (published); round 3 (a draft). Signed-in clients for every role."""
    negotiation = NegotiationFactory(slug="talks", title="Border talks")
    north = PartyFactory(slug="northland", name="Northland")
    south = PartyFactory(slug="southland", name="Southland")
    nora = PersonFactory(slug="nora-north", name="Nora North", party=north, aliases=["Nora N."])
    sam = PersonFactory(slug="sam-south", name="Sam South", party=south)
    borders = IssueFactory(negotiation=negotiation, slug="borders", title="Borders", order=0)
    prisoners = IssueFactory(negotiation=negotiation, slug="prisoners", title="Prisoners", order=1)
    report = SourceFactory(negotiation=negotiation, key="wire-report", title="Border wire")
    first = RoundFactory(negotiation=negotiation, number=1, title="Opening round")
    first.title = "First round"
    first.save()
    first.sources.add(report)
    delegation = DelegationFactory(round=first, party=north)
    DelegationMemberFactory(delegation=delegation, person=nora, role="Head", is_head=True)
    OutcomeFactory(round=first, issue=borders, status="raised", text="Border came up.")
    demand = PositionFactory(round=first, party=north, issue=borders, text="The river line.")
    PositionFactory(
        round=first, party=south, issue=borders, stance="offer", text="Hills.", responds_to=demand
    )
    StatementFactory(round=first, person=sam, text="We came to listen about the border.")
    second = RoundFactory(negotiation=negotiation, number=2, title="Second round")
    OutcomeFactory(round=second, issue=prisoners, status="agreed", text="An exchange.")
    RoundFactory(negotiation=negotiation, number=3, title="Quiet draft", published=False)
    clients = {"anonymous": Client()}
    for role in ("analyst", "editor"):
        clients[role] = Client()
        clients[role].force_login(users[role])
    ids = sorted(
        {
            str(pk)
            for model in apps.get_app_config("negotiations").get_models()
            if not model.__name__.startswith("Historical")
            for pk in model._default_manager.values_list("pk", flat=True)
        }
    )
    return World(clients=clients, users=users, ids=ids, demand=demand, forms={})


@contextmanager
def undone():
    """Whatever happens inside is rolled back, an error included."""
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


def row_counts() -> dict[str, int]:
    """Rows in every table of the app, history included."""
    return {
        model._meta.label: model._default_manager.count()
        for model in apps.get_app_config("negotiations").get_models()
    }


def written(before: dict[str, int]) -> dict[str, int]:
    after = row_counts()
    return {label: after[label] - n for label, n in before.items() if after[label] != n}


def opened(world, path: str) -> dict:
    """The round form at `path` as submitting it unchanged would POST it (once per test)."""
    if path not in world.forms:
        response = world.clients["analyst"].get(path)
        assert response.status_code == 200
        world.forms[path] = form_data(response.context["editor"])
    return {key: list(v) if isinstance(v, list) else v for key, v in world.forms[path].items()}


# --- Values -------------------------------------------------------------------------------


def mostly(usual, other, odds: int = 4):
    """`usual` `odds` times out of `odds` + 1, else `other` (shrinking towards `usual`)."""
    return st.integers(0, odds).flatmap(lambda k: usual if k < odds else other)


TEXT = st.text(st.characters(codec="utf-8"), max_size=30)
ODD = [
    "", " ", "\x00", "a\x00b", "%00", "%", "%zz", "0", "-1", "1.5", "1e309", "nan", "-0",
    str(2**31), str(2**63), str(10**20), str(-(10**20)), "9" * 5000,
    "2022-03-01", "2022-02-30", "2022-13-01", "0000-01-01", "0001-01-01", "9999-12-31",
    "10000-01-01", "2022-03-01T12:00:00Z", "2022-03-01T25:61", "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59-14:00", "<script>alert(1)</script>", "' OR 1=1 --", "../../etc",
    "javascript:alert(1)", "ü" * 300, "x" * 3000, "https://example.org/" + "a" * 1500,
]  # fmt: skip
KNOWN = [
    "talks", "borders", "prisoners", "northland", "southland", "nora-north", "sam-south",
    "2022", "newest", "oldest", "in-person", "video", "held", "scheduled", "agreed",
    "demand", "rounds", "outcomes", "positions", "statements", "sources", "people",
    "parties", "border", "1", "2", "3", "on", "new-0", "new-1", "new-99",
]  # fmt: skip
VALUES = st.one_of(
    st.sampled_from(ODD),
    st.sampled_from(KNOWN),
    st.sampled_from(ODD + KNOWN),
    TEXT,
    st.integers(-(10**30), 10**30).map(str),
    st.dates().map(lambda d: d.isoformat()),
    st.datetimes().map(lambda d: d.isoformat()),
)

# --- 4. Every reader URL and query parameter ----------------------------------------------

PARAMS = [
    "issue", "party", "year", "format", "order", "page", "as_of", "compare", "q", "in",
    "kind", "chains", "history", "statements", "start", "end", "updated_since",
]  # fmt: skip
NUMBERS = st.integers(-(10**30), 10**30).map(str) | st.sampled_from(
    ["0", "-1", "1", "2", "999", str(2**63), str(10**20), "9" * 5000, "1e309", "nan", "1.0", ""]
)
DATES = st.dates().map(lambda d: d.isoformat()) | st.sampled_from(
    ["0001-01-01", "9999-12-31", "2022-02-30", "2022-13-01", "0000-01-01", "10000-01-01", ""]
)
MOMENTS = st.datetimes().map(lambda d: d.isoformat()) | st.sampled_from(
    ["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00", "2022-03-01T25:61", "now"]
)
WORDS = TEXT | st.sampled_from(["border", "border\x00", "\x00", "a\x00b", 'border -x "or', "'"])
# Each parameter's own kind of value, most of the time; any value otherwise.
TYPED = {
    **dict.fromkeys(["page", "chains", "history", "statements", "year"], NUMBERS),
    **dict.fromkeys(["as_of", "compare", "start", "end"], DATES),
    "updated_since": MOMENTS,
    "q": WORDS,
}
# Each URL with the parameters it reads; any parameter may still be sent to any URL.
PATHS = {
    "/": [],
    "/healthz": [],
    "/negotiations/{n}/": ["issue", "party", "year", "format", "order", "page"],
    "/negotiations/{n}/rounds/{r}/": [],
    "/negotiations/{n}/issues/": ["as_of", "compare", "page"],
    "/negotiations/{n}/issues/{i}/": ["page", "history", "chains"],
    "/negotiations/{n}/feed/": [],
    "/negotiations/{n}/issues/{i}/feed/": [],
    "/negotiations/{n}/export.json": [],
    "/negotiations/{n}/rounds.csv": [],
    "/negotiations/{n}/outcomes.csv": [],
    "/negotiations/{n}/positions.csv": [],
    "/negotiations/{n}/timelinejs.json": [],
    "/parties/{p}/": ["page"],
    "/people/{s}/": ["page", "statements"],
    "/search/": ["q", "in", "kind", "page"],
    "/api/v1/negotiations": [],
    "/api/v1/negotiations/{n}": [],
    "/api/v1/negotiations/{n}/rounds": ["page", "start", "end", "updated_since"],
    "/api/v1/negotiations/{n}/rounds/{r}": [],
    "/api/v1/negotiations/{n}/issues/{i}/history": ["page"],
    "/api/v1/parties": ["page"],
    "/api/v1/parties/{p}": [],
    "/api/v1/people": ["page"],
    "/api/v1/people/{s}": [],
    "/accounts/login/": ["next"],
    "/accounts/password/": [],
    "/log/": [],
    "/log/import/": [],
    "/log/{n}/rounds/new/": [],
    "/log/{n}/rounds/{r}/": [],
    "/log/{n}/rounds/{r}/history/": ["page"],
    "/log/{n}/issues/{i}/history/": ["page"],
}
SLOTS = {
    "n": ["talks"],
    "i": ["borders", "prisoners"],
    "p": ["northland", "southland"],
    "s": ["nora-north", "sam-south"],
    "r": ["1", "2", "3"],
}
UNKNOWN = ["unknown", "999", "0", "-1", str(10**20), "talks.", "%00"]
SEGMENT = st.text(st.characters(codec="utf-8"), min_size=1, max_size=12).map(
    lambda text: quote(text, safe="")
)
HTMX = [
    {},
    {"HX-Request": "true"},
    {"HX-Request": "true", "HX-Boosted": "true"},
    {"HX-Request": "true", "HX-History-Restore-Request": "true"},
]


@st.composite
def urls(draw) -> str:
    template = draw(st.sampled_from(sorted(PATHS)))
    path = re.sub(
        r"\{(\w)\}",
        lambda slot: draw(
            mostly(st.sampled_from(SLOTS[slot.group(1)]), st.sampled_from(UNKNOWN) | SEGMENT)
        ),
        template,
    )
    pairs = []
    for _ in range(draw(st.integers(0, 6))):
        anything = mostly(
            st.sampled_from(PARAMS), st.text(st.characters(codec="utf-8"), max_size=8)
        )
        key = draw(
            mostly(st.sampled_from(PATHS[template]), anything, odds=2)
            if PATHS[template]
            else anything
        )
        pairs.append((key, draw(mostly(TYPED.get(key, VALUES), VALUES, odds=2))))
    query = draw(mostly(st.just(urlencode(pairs)), TEXT))
    return f"{path}?{query}" if query else path


@fuzz(150)
@given(
    url=urls(),
    role=st.sampled_from(["anonymous", "editor"]),
    headers=st.sampled_from(HTMX),
)
def test_every_url_with_any_query_answers_without_a_server_error(world, url, role, headers):
    with undone():
        response = world.clients[role].get(url, headers=headers)
    assert response.status_code < 500, url


# --- 5. Every form ------------------------------------------------------------------------

NEXT = ["/log/", "//evil.example/", "https://evil.example/", "javascript:alert(1)", "/\\evil"]


@fuzz(30)
@given(
    fields=st.dictionaries(
        st.sampled_from(["username", "password", "next"]),
        st.sampled_from(["anna", "pw-anna", *NEXT]) | VALUES,
    ),
    address=st.sampled_from(["10.0.0.1", "10.0.0.2", "::1"]),
)
def test_the_sign_in_form_answers_any_input_without_a_server_error(world, fields, address):
    with undone():
        response = Client().post("/accounts/login/", fields, REMOTE_ADDR=address)
    assert response.status_code < 500
    if response.status_code == 302:  # signed in: never sent to another site or a script
        location = response["Location"]
        assert location.startswith("/"), location
        assert url_has_allowed_host_and_scheme(location, allowed_hosts={"testserver"}), location


@fuzz(20)
@given(
    fields=st.dictionaries(
        st.sampled_from(["old_password", "new_password1", "new_password2"]),
        st.sampled_from(["pw-anna", "treaty-ink-1922"]) | VALUES,
    )
)
def test_the_password_change_form_answers_any_input_without_a_server_error(world, fields):
    with undone():
        client = Client()
        client.force_login(world.users["analyst"])
        response = client.post("/accounts/password/", fields)
    assert response.status_code < 500
    if response.status_code == 302:
        assert response["Location"] == "/accounts/password/done/"


TOTALS = st.integers(-3, 6).map(str) | st.sampled_from(
    ["", " ", "abc", "1e3", "1.0", "0x10", "３", " 2 ", str(-(10**20)), "9" * 5000, "\x00"]
)
ROW_FIELDS = [
    "id", "party", "person", "new_person", "role", "is_head", "issue", "status", "text",
    "sources", "stance", "responds_to", "new_person_party", "said_on", "original",
    "language", "url", "title", "publisher", "author", "published_on", "DELETE",
]  # fmt: skip
ROUND_FORMS = ["/log/talks/rounds/new/", "/log/talks/rounds/1/", "/log/talks/rounds/3/"]
ACTIONS = ["save", "", "add-bogus", *[f"add-{row}" for row in ROWS]]


@fuzz(50)
@given(data=st.data())
def test_the_round_form_answers_any_mutation_with_a_form_error_or_a_save(world, data):
    path = data.draw(st.sampled_from(ROUND_FORMS))
    post = opened(world, path)
    value = VALUES | st.sampled_from(world.ids)
    for _ in range(data.draw(st.integers(0, 6))):
        kind = data.draw(st.sampled_from(["set", "set", "drop", "total", "new key"]))
        if kind == "set":
            key = data.draw(st.sampled_from(sorted(k for k in post if "TOTAL" not in k)))
            post[key] = data.draw(value | st.lists(value, max_size=3))
        elif kind == "drop":
            post.pop(data.draw(st.sampled_from(sorted(post))), None)
        elif kind == "total":
            post[f"{data.draw(st.sampled_from(ROWS))}-TOTAL_FORMS"] = data.draw(TOTALS)
        else:
            row, index = data.draw(st.sampled_from(ROWS)), data.draw(st.integers(0, 3))
            name = data.draw(st.sampled_from(ROW_FIELDS) | TEXT)
            post[f"{row}-{index}-{name}"] = data.draw(value)
    post["action"] = data.draw(st.sampled_from(ACTIONS) | TEXT)
    headers = data.draw(st.sampled_from(HTMX))
    with undone():
        before = row_counts()
        response = world.clients["analyst"].post(path, post, headers=headers)
        changed = written(before)
    assert response.status_code < 500
    if response.status_code == 302:
        assert response["Location"].startswith("/log/talks/rounds/")
    else:
        assert changed == {}, response.status_code


NUMBERS = st.sampled_from(["1", "2", "3", "999", str(10**20)]) | SEGMENT


@fuzz(15)
@given(
    number=NUMBERS,
    fields=st.dictionaries(st.sampled_from(["publish"]) | TEXT, VALUES, max_size=3),
    role=st.sampled_from(["analyst", "editor"]),
)
def test_publishing_answers_any_input_without_a_server_error(world, number, fields, role):
    with undone():
        before = row_counts()
        response = world.clients[role].post(f"/log/talks/rounds/{number}/publish/", fields)
        changed = written(before)
    assert response.status_code < 500
    assert "negotiations.Round" not in changed
    if response.status_code != 302:
        assert changed == {}


@fuzz(15)
@given(data=st.data(), number=NUMBERS)
def test_restoring_answers_any_version_without_a_server_error(world, data, number):
    versions = sorted(str(pk) for pk in Round.history.values_list("history_id", flat=True))
    version = data.draw(st.sampled_from(versions) | st.integers(0, 10**25).map(str) | SEGMENT)
    path = f"/log/talks/rounds/{number}/history/{version}/restore/"
    with undone():
        before = row_counts()
        response = world.clients["editor"].post(path)
        changed = written(before)
    assert response.status_code < 500
    assert "negotiations.Round" not in changed
    if response.status_code != 302:
        assert changed == {}


@fuzz(20)
@given(
    content=st.binary(max_size=300) | TEXT.map(str.encode),
    name=st.sampled_from(["talks.json"]) | TEXT,
    fields=st.dictionaries(st.sampled_from(["replace", "confirm", "reason"]), VALUES),
)
def test_importing_any_bytes_answers_without_a_server_error_and_writes_nothing(
    world, content, name, fields
):
    if os.path.basename(name) in {"", ".", ".."}:  # no file name to keep ("/", "a/..")
        name = "file"
    upload = SimpleUploadedFile(name, content, content_type="application/json")
    with undone():
        before = row_counts()
        response = world.clients["editor"].post("/log/import/", {**fields, "file": upload})
        changed = written(before)
    assert response.status_code < 500
    imported = response.status_code == 200 and response.context["result"] is not None
    if not imported:
        assert changed == {}


# --- What the fuzzing found, pinned -------------------------------------------------------


def answers(client: Client, requests: list[tuple[str, str, dict]]) -> dict[str, int]:
    """The status of each request, each in its own rolled-back savepoint; a view that
    raises counts as the 500 it would be."""
    client.raise_request_exception = False
    statuses = {}
    for method, path, data in requests:
        with undone():
            statuses[f"{method} {path}"] = getattr(client, method)(path, data).status_code
    return statuses


def test_an_api_page_far_past_the_last_is_not_a_server_error(world):
    paths = [
        "/api/v1/negotiations/talks/rounds",
        "/api/v1/negotiations/talks/issues/borders/history",
        "/api/v1/parties",
        "/api/v1/people",
    ]
    found = answers(Client(), [("get", path, {"page": str(10**20)}) for path in paths])
    assert {request: status for request, status in found.items() if status >= 500} == {}


def test_an_updated_since_at_the_edge_of_the_calendar_is_not_a_server_error(world):
    edges = ["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00"]
    found = answers(
        Client(),
        [("get", "/api/v1/negotiations/talks/rounds", {"updated_since": e}) for e in edges],
    )
    assert {request: status for request, status in found.items() if status >= 500} == {}


def test_a_nul_character_in_a_search_or_an_api_slug_is_not_a_server_error(world):
    requests = [
        ("get", "/search/", {"q": "border\x00"}),
        ("get", "/search/", {"q": "border\x00", "kind": "people"}),
        ("get", "/negotiations/talks/", {"q": "\x00", "issue": "\x00"}),
        ("get", "/api/v1/negotiations/talks%00", {}),
        ("get", "/api/v1/negotiations/talks%00/rounds", {}),
        ("get", "/api/v1/negotiations/talks/issues/borders%00/history", {}),
        ("get", "/api/v1/parties/northland%00", {}),
        ("get", "/api/v1/people/nora-north%00", {}),
    ]
    found = answers(Client(), requests)
    assert {request: status for request, status in found.items() if status >= 500} == {}


def test_adding_a_row_when_the_row_count_is_not_a_number_is_not_a_server_error(world):
    path = "/log/talks/rounds/1/"
    requests = [
        ("post", path, {**opened(world, path), "action": f"add-{row}", f"{row}-TOTAL_FORMS": n})
        for row in ROWS
        for n in ("abc", "1e3")
    ]
    before = row_counts()
    found = answers(world.clients["analyst"], requests)
    assert {request: status for request, status in found.items() if status >= 500} == {}
    assert written(before) == {}


def test_a_position_cannot_be_made_to_answer_itself(world):
    path = "/log/talks/rounds/1/"
    post = opened(world, path)
    assert post["positions-0-id"] == str(world.demand.pk)
    post["positions-0-responds_to"] = str(world.demand.pk)
    before = row_counts()
    [status] = answers(world.clients["analyst"], [("post", path, post)]).values()
    assert status == 400  # the form again, with an error
    assert written(before) == {}


def test_a_new_source_link_longer_than_its_column_is_a_form_error(world):
    path = "/log/talks/rounds/1/"
    post = opened(world, path)
    url = "https://news.example.org/" + "a" * 1200  # a valid link; the column holds 1000
    assert len(url) > Source._meta.get_field("url").max_length
    post |= {"new_sources-TOTAL_FORMS": "1", "new_sources-0-url": url, "sources": ["new-0"]}
    before = row_counts()
    [status] = answers(world.clients["analyst"], [("post", path, post)]).values()
    assert status == 400
    assert written(before) == {}


def test_importing_a_file_with_a_long_name_and_no_reason_keeps_the_reason_in_its_column(
    world,
):
    document = json.loads(export_negotiation(Round.objects.get(number=1).negotiation))
    document["negotiation"]["slug"] = "copied-talks"
    name = "border-talks-" + "x" * 120 + ".json"
    upload = SimpleUploadedFile(name, json.dumps(document).encode())
    client = world.clients["editor"]
    client.raise_request_exception = False
    with undone():
        response = client.post("/log/import/", {"file": upload, "reason": ""})
        reasons = list(Round.history.filter(title="First round").values_list(
            "history_change_reason", flat=True))  # fmt: skip
    assert response.status_code == 200
    column = Round.history.model._meta.get_field("history_change_reason").max_length
    assert all(len(reason or "") <= column for reason in reasons), reasons


def test_a_host_id_too_big_for_the_database_is_a_form_error(world):
    path = "/log/talks/rounds/1/"
    post = {**opened(world, path), "hosts": [str(2**63)]}
    before = row_counts()
    [status] = answers(world.clients["analyst"], [("post", path, post)]).values()
    assert status == 400
    assert written(before) == {}


def test_a_head_row_sent_without_its_id_is_a_form_error_that_keeps_the_input(world):
    """Without its id the head's row reads as a second head, beside the saved one the
    form no longer names: the database refuses, and the analyst gets the form back."""
    path = "/log/talks/rounds/1/"
    post = opened(world, path)
    post.pop("members-0-id")
    post["title"] = "Typed before the clash"
    before = row_counts()
    response = world.clients["analyst"].post(path, post)
    assert response.status_code == 400
    page = response.content.decode()
    assert "Nothing was saved: these rows clash" in page
    assert 'value="Typed before the clash"' in page
    assert written(before) == {}
