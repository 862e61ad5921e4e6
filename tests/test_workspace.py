"""The analysts' workspace (/log/): who may open and write what, CSRF, logging and editing
rounds in one form, conflicts between two analysts, history and restore, import, sign-in."""

import datetime
import html
import json
import re
from io import StringIO
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import models, transaction
from django.test import Client, RequestFactory

from negotiations import derived
from negotiations.editor import RoundEditor
from negotiations.interchange import export_negotiation
from negotiations.models import (
    Negotiation,
    Outcome,
    Person,
    Round,
    Source,
    Statement,
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
from .roundform import form_data

pytestmark = pytest.mark.django_db

ROLES = ["anonymous", "outsider", "analyst", "editor", "admin"]
NEW = "/log/talks/rounds/new/"
FIRST = "/log/talks/rounds/1/"
DRAFT = "/log/talks/rounds/2/"


# --- Helpers ----------------------------------------------------------------------------


@pytest.fixture
def world(users):
    """Border talks with two issues, a published round 1 (renamed once, so that it has an
    earlier version to restore) holding a delegation, an outcome, two positions and a
    statement, and a draft round 2."""
    negotiation = NegotiationFactory(slug="talks", title="Border talks")
    north = PartyFactory(slug="northland", name="Northland")
    south = PartyFactory(slug="southland", name="Southland")
    nora = PersonFactory(slug="nora-north", name="Nora North", party=north)
    sam = PersonFactory(slug="sam-south", name="Sam South", party=south)
    borders = IssueFactory(negotiation=negotiation, slug="borders", title="Borders", order=0)
    prisoners = IssueFactory(negotiation=negotiation, slug="prisoners", title="Prisoners", order=1)
    report = SourceFactory(negotiation=negotiation, key="wire-report", title="Wire report")
    first = RoundFactory(negotiation=negotiation, number=1, title="Opening round")
    first.title = "First round"
    first.save()
    delegation = DelegationFactory(round=first, party=north)
    DelegationMemberFactory(delegation=delegation, person=nora, role="Head", is_head=True)
    outcome = OutcomeFactory(round=first, issue=borders, status="raised", text="It came up.")
    demand = PositionFactory(
        round=first, party=north, issue=borders, stance="demand", text="The river line."
    )
    offer = PositionFactory(
        round=first, party=south, issue=prisoners, stance="offer", text="An exchange."
    )
    quote = StatementFactory(round=first, person=sam, text="We came to listen.")
    draft = RoundFactory(negotiation=negotiation, number=2, title="Quiet draft", published=False)
    return SimpleNamespace(**locals())


def client_for(users, role: str, **kwargs) -> Client:
    client = Client(**kwargs)
    if role != "anonymous":
        client.force_login(users[role])
    return client


def row_counts() -> dict[str, int]:
    """Rows in every table of the app, history included."""
    return {
        model._meta.label: model._default_manager.count()
        for model in apps.get_app_config("negotiations").get_models()
    }


def written(before: dict[str, int]) -> dict[str, int]:
    """How many rows each table gained (or lost) since `before`."""
    after = row_counts()
    return {label: after[label] - count for label, count in before.items() if after[label] != count}


def _raw(value):
    if isinstance(value, models.Model):
        return str(value.pk)
    if isinstance(value, list | tuple):
        return [_raw(v) for v in value]
    return "" if value is None else str(value)


def put(data: dict, prefix: str = "", index: int = 0, **values) -> dict:
    """Type values into the round's facts, or into row `index` of a formset (growing its
    TOTAL_FORMS when the row is new). True ticks a box, False clears it."""
    for name, value in values.items():
        key = f"{prefix}-{index}-{name}" if prefix else name
        if value is True:
            data[key] = "on"
        elif value is False:
            data.pop(key, None)
        else:
            data[key] = _raw(value)
    if prefix:
        total = f"{prefix}-TOTAL_FORMS"
        data[total] = str(max(int(data[total]), index + 1))
    return data


def opened(client: Client, path: str) -> dict:
    """GET the round form and return what submitting it unchanged would POST."""
    response = client.get(path)
    assert response.status_code == 200
    return form_data(response.context["editor"])


def text_of(response) -> str:
    return html.unescape(response.content.decode())


def history_entry(page: str, containing: str) -> str:
    """The one history entry (<li>) of a page that contains `containing`."""
    entries = [e.split("</li>")[0] for e in page.split('<li class="history-entry">')[1:]]
    found = [e for e in entries if containing in e]
    assert len(found) == 1, f"{len(found)} history entries contain {containing!r}"
    return found[0]


def upload(text: str, name: str = "talks.json") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode(), content_type="application/json")


def document(negotiation: Negotiation, **changes) -> dict:
    doc = json.loads(export_negotiation(negotiation))
    doc["negotiation"].update(changes)
    return doc


# --- 1. Who may open and write what --------------------------------------------------------

PAGES = {
    "workspace": "/log/",
    "import form": "/log/import/",
    "new round form": NEW,
    "round form": FIRST,
    "round history": "/log/talks/rounds/1/history/",
    "issue history": "/log/talks/issues/borders/history/",
}


def _new_round(w):
    data = form_data(RoundEditor.for_request(w.negotiation))
    return NEW, put(data, title="Third round", start_date="2022-03-20")


def _edit_round(w):
    data = form_data(RoundEditor.for_request(w.negotiation, Round.objects.get(pk=w.first.pk)))
    return FIRST, put(data, title="Edited title")


def _restore(w):
    created = w.first.history.order_by("history_id").first()
    return f"/log/talks/rounds/1/history/{created.history_id}/restore/", {}


def _import(w):
    doc = document(w.negotiation, slug="imported-talks")
    return "/log/import/", {"file": upload(json.dumps(doc)), "reason": ""}


def _round(pk) -> Round:
    return Round.objects.get(pk=pk)


# name: (request, did it take effect, status when allowed)
WRITES = {
    "save a new round": (_new_round, lambda w: w.negotiation.rounds.filter(number=3).exists(), 302),
    "save an edit": (_edit_round, lambda w: _round(w.first.pk).title == "Edited title", 302),
    "publish": (lambda w: (f"{DRAFT}publish/", {"publish": "1"}),
                lambda w: _round(w.draft.pk).published, 302),
    "unpublish": (lambda w: (f"{FIRST}publish/", {"publish": "0"}),
                  lambda w: not _round(w.first.pk).published, 302),
    "restore": (_restore, lambda w: _round(w.first.pk).title == "Opening round", 302),
    "import": (_import, lambda w: Negotiation.objects.filter(slug="imported-talks").exists(), 200),
}  # fmt: skip
ONLY_EDITORS = {"import form", "restore", "import"}


def _refusal(role: str, what: str):
    """What `role` gets for `what` if refused, or None if allowed."""
    if role == "anonymous":
        return "sign in"
    if role == "outsider" or (role == "analyst" and what in ONLY_EDITORS):
        return 403
    return None


def _answer(response, path: str):
    if response.status_code == 302 and response["Location"].startswith("/accounts/login/"):
        assert response["Location"] == f"/accounts/login/?next={path}"
        return "sign in"
    return response.status_code


@pytest.mark.parametrize("name", PAGES)
def test_each_workspace_page_opens_only_for_roles_with_its_permission(world, users, name):
    path = PAGES[name]
    answers = {role: _answer(client_for(users, role).get(path), path) for role in ROLES}
    assert answers == {role: _refusal(role, name) or 200 for role in ROLES}


@pytest.mark.parametrize("write", WRITES)
def test_each_write_is_refused_without_its_permission_and_then_changes_nothing(world, users, write):
    request, took_effect, allowed_status = WRITES[write]
    answers = {}
    for role in ROLES:
        with transaction.atomic():  # each role tries on the same data
            before = row_counts()
            path, data = request(world)
            response = client_for(users, role).post(path, data)
            answers[role] = (_answer(response, path), took_effect(world), bool(written(before)))
            transaction.set_rollback(True)
    expected = {}
    for role in ROLES:
        refused = _refusal(role, write)
        expected[role] = (refused, False, False) if refused else (allowed_status, True, True)
    assert answers == expected


# --- 2. CSRF ------------------------------------------------------------------------------


def test_every_post_is_refused_without_a_csrf_token(world, users):
    client = client_for(users, "editor", enforce_csrf_checks=True)
    before = row_counts()
    answers = {}
    for name, (request, _, _) in WRITES.items():
        path, data = request(world)
        answers[name] = client.post(path, data).status_code
    answers["sign out"] = client.post("/accounts/logout/").status_code
    assert answers == dict.fromkeys([*WRITES, "sign out"], 403)
    assert written(before) == {}
    assert client.get("/log/").status_code == 200  # still signed in


def test_the_pages_htmx_headers_carry_a_csrf_token_that_is_accepted(world, users):
    client = client_for(users, "editor", enforce_csrf_checks=True)
    page = client.get(DRAFT).content.decode()
    found = re.search(r"<body hx-headers='([^']*)'>", page)
    assert found, "no hx-headers on <body>"
    token = json.loads(found.group(1))["X-CSRFToken"]
    assert len(token) == 64
    data = put(opened(client, DRAFT), action="add-members")
    added = client.post(DRAFT, data, headers={"HX-Request": "true", "X-CSRFToken": token})
    assert added.status_code == 200
    published = client.post(f"{DRAFT}publish/", {"publish": "1"}, headers={"X-CSRFToken": token})
    assert published.status_code == 302
    assert _round(world.draft.pk).published


# --- 3. Logging a new round ---------------------------------------------------------------


def test_the_new_round_form_suggests_the_next_free_number(world, users):
    RoundFactory(negotiation=world.negotiation, number=7)
    response = client_for(users, "analyst").get(NEW)
    assert response.context["editor"].facts["number"].value() == 8
    assert 'name="number" value="8"' in response.content.decode()


def log_third_round(world, client: Client):
    w = world
    data = opened(client, NEW)
    assert data["number"] == "3"
    put(
        data,
        title="Third round",
        status="held",
        start_date="2022-03-20",
        end_date="2022-03-21",
        location="Geneva",
        format="in-person",
        summary="Long day.",
        hosts=[w.south],
        sources=["new-0"],
    )
    put(
        data,
        "new_sources",
        0,
        url="https://wire.example.org/geneva",
        title="Talks end in Geneva",
        publisher="Wire",
        published_on="2022-03-21",
    )
    put(data, "members", 0, party=w.north, person=w.nora, role="Head", is_head=True)
    put(data, "members", 1, party=w.north, new_person="Nils North", role="Adviser")
    put(data, "members", 2, party=w.south, person=w.sam, role="Head", is_head=True)
    assert data["outcomes-0-issue"] == str(w.borders.pk)
    put(data, "outcomes", 0, status="partially-agreed", text="A map was drawn.", sources=["new-0"])
    put(
        data,
        "positions",
        0,
        party=w.south,
        issue=w.borders,
        stance="reject",
        text="Not the river.",
        responds_to=w.demand,
    )
    put(
        data,
        "statements",
        0,
        person=w.sam,
        said_on="2022-03-21",
        text="We will be back.",
        original="Wir kommen wieder.",
        language="de",
    )
    return client.post(NEW, data)


def test_logging_a_round_saves_a_draft_with_everything_typed_into_the_form(world, users):
    w = world
    response = log_third_round(world, client_for(users, "analyst"))
    assert response.status_code == 302
    assert response["Location"] == "/log/talks/rounds/3/"
    round_ = Round.objects.get(negotiation=w.negotiation, number=3)
    assert (round_.title, round_.published, round_.version) == ("Third round", False, 1)
    assert (round_.start_date, round_.end_date) == (
        datetime.date(2022, 3, 20),
        datetime.date(2022, 3, 21),
    )
    assert (round_.location, round_.format) == ("Geneva", "in-person")
    assert list(round_.hosts.all()) == [w.south]

    nils = Person.objects.get(name="Nils North")
    assert nils.party == w.north
    delegations = {
        d.party.name: [(m.person.name, m.role, m.is_head) for m in d.members.order_by("id")]
        for d in round_.delegations.all()
    }
    assert delegations == {
        "Northland": [("Nora North", "Head", True), ("Nils North", "Adviser", False)],
        "Southland": [("Sam South", "Head", True)],
    }

    source = Source.objects.get(url="https://wire.example.org/geneva")
    assert (source.negotiation, source.title, source.publisher) == (
        w.negotiation,
        "Talks end in Geneva",
        "Wire",
    )
    assert list(round_.sources.all()) == [source]
    outcome = round_.outcomes.get()  # the issue left at "no outcome" has none
    assert (outcome.issue, outcome.status, outcome.text) == (
        w.borders,
        "partially-agreed",
        "A map was drawn.",
    )
    assert list(outcome.sources.all()) == [source]

    position = round_.positions.get()
    assert (position.party, position.issue, position.stance, position.responds_to) == (
        w.south,
        w.borders,
        "reject",
        w.demand,
    )
    statement = round_.statements.get()
    assert (statement.person, statement.text, statement.original, statement.language) == (
        w.sam,
        "We will be back.",
        "Wir kommen wieder.",
        "de",
    )
    assert statement.said_on == datetime.date(2022, 3, 21)


def test_readers_see_a_logged_round_only_once_it_is_published(world, users, client):
    analyst = client_for(users, "analyst")
    logged = log_third_round(world, analyst)
    page = analyst.get(logged["Location"])
    assert "Logged round 3: Third round. It is a draft" in text_of(page)

    assert client.get("/negotiations/talks/rounds/3/").status_code == 404
    assert "Third round" not in client.get("/negotiations/talks/").content.decode()

    published = analyst.post("/log/talks/rounds/3/publish/", {"publish": "1"})
    assert published.status_code == 302
    assert Round.objects.get(negotiation=world.negotiation, number=3).published
    assert client.get("/negotiations/talks/rounds/3/").status_code == 200
    assert "Third round" in client.get("/negotiations/talks/").content.decode()


def test_a_logged_round_works_out_its_issues_once_and_again_when_published(
    world, users, monkeypatch
):
    calls = []
    for name in ("refresh_moves", "refresh_chains"):
        real = getattr(derived, name)
        monkeypatch.setattr(
            derived,
            name,
            lambda issues, real=real, name=name: (calls.append((name, set(issues))), real(issues)),
        )
    w = world
    analyst = client_for(users, "analyst")
    data = put(opened(analyst, NEW), title="Third round", status="held", start_date="2022-03-20")
    assert [data[f"outcomes-{i}-issue"] for i in (0, 1)] == [str(w.borders.pk), str(w.prisoners.pk)]
    put(data, "outcomes", 0, status="stalled")
    put(data, "outcomes", 1, status="agreed")
    put(data, "positions", 0, party=w.south, issue=w.borders, stance="reject", responds_to=w.demand)
    put(data, "positions", 1, party=w.north, issue=w.prisoners, stance="accept")
    assert analyst.post(NEW, data).status_code == 302
    both = {w.borders.pk, w.prisoners.pk}
    # One pass for the whole form, not one per outcome or position saved.
    assert calls == [("refresh_moves", both), ("refresh_chains", both)]
    changes = Outcome.objects.filter(issue__in=both, move__isnull=False)
    assert list(changes.values_list("round__number", "status")) == [(1, "raised")], (
        "a draft changes nothing readers see"
    )

    calls.clear()
    analyst.post("/log/talks/rounds/3/publish/", {"publish": "1"})
    assert calls == [("refresh_moves", both), ("refresh_chains", both)]
    assert sorted(changes.values_list("round__number", "issue__slug", "status", "move")) == [
        (1, "borders", "raised", 1),
        (3, "borders", "stalled", 2),
        (3, "prisoners", "agreed", 1),
    ]


# --- 4. Validation errors keep the input --------------------------------------------------


def _two_heads(w, data):
    put(data, "members", 0, party=w.north, person=w.nora, is_head=True)
    put(data, "members", 1, party=w.north, new_person="Nils North", is_head=True)


# case: (what is typed wrong, the error shown, a typed value that must still be there)
INVALID = {
    "the end before the start": (
        lambda w, data: put(data, end_date="2022-03-19"),
        "The round cannot end before it starts.",
        'value="2022-03-19"',
    ),
    "a number that is taken": (
        lambda w, data: put(data, number=1),
        "Round 1 already exists in this negotiation.",
        'name="number" value="1"',
    ),
    "two heads for one party": (
        _two_heads,
        "Northland's delegation already has a head.",
        'value="Nils North"',
    ),
    "a statement without a speaker": (
        lambda w, data: put(data, "statements", 0, person=None),
        "Pick the speaker, or type a new speaker's name.",
        "A quote typed by hand</textarea>",
    ),
    "an outcome with text but no status": (
        lambda w, data: put(data, "outcomes", 1, status="", text="Reported, but how?"),
        "Choose a status, or clear the text and sources.",
        "Reported, but how?</textarea>",
    ),
}


@pytest.mark.parametrize("case", INVALID)
def test_an_invalid_new_round_is_refused_with_the_error_and_everything_typed(world, users, case):
    type_wrong, message, typed = INVALID[case]
    client = client_for(users, "analyst")
    data = put(opened(client, NEW), title="A title typed by hand", start_date="2022-03-20")
    put(data, "statements", 0, person=world.sam, text="A quote typed by hand")
    type_wrong(world, data)
    before = row_counts()

    response = client.post(NEW, data)

    assert response.status_code == 400
    page = text_of(response)
    assert "to fix before saving" in page
    assert page.count(message) == 2  # next to the field and in the summary
    assert 'value="A title typed by hand"' in page
    assert "A quote typed by hand</textarea>" in page
    assert typed in page
    assert written(before) == {}


def test_an_invalid_edit_is_refused_and_leaves_the_round_as_it_was(world, users):
    client = client_for(users, "analyst")
    data = put(opened(client, FIRST), title="Typed, not saved", end_date="2022-01-01")
    before = row_counts()
    response = client.post(FIRST, data)
    assert response.status_code == 400
    page = text_of(response)
    assert "The round cannot end before it starts." in page
    assert 'value="Typed, not saved"' in page
    assert written(before) == {}
    assert (_round(world.first.pk).title, _round(world.first.pk).version) == ("First round", 2)


# --- 5. Adding a row ----------------------------------------------------------------------


def _half_typed(world, client: Client) -> dict:
    data = put(opened(client, NEW), title="Typed before adding", start_date="2022-03-20")
    return put(data, "statements", 0, person=world.sam, text="Quote typed before adding")


def test_adding_a_row_keeps_what_was_typed_and_saves_nothing(world, users):
    client = client_for(users, "analyst")
    data = put(_half_typed(world, client), action="add-statements")
    before = row_counts()
    response = client.post(NEW, data)
    assert response.status_code == 200
    assert response.context["editor"].forms["statements"].total_form_count() == 2
    page = text_of(response)
    assert page.lstrip().startswith("<!doctype html>")
    assert 'name="statements-TOTAL_FORMS" value="2"' in page
    assert 'value="Typed before adding"' in page
    assert "Quote typed before adding</textarea>" in page
    assert 'name="statements-1-text"' in page
    assert written(before) == {}


def test_adding_a_row_with_htmx_returns_only_the_form_with_what_was_typed(world, users):
    client = client_for(users, "analyst")
    data = put(_half_typed(world, client), action="add-members")
    before = row_counts()
    response = client.post(NEW, data, headers={"HX-Request": "true"})
    assert response.status_code == 200
    page = text_of(response)
    assert page.lstrip().startswith('<form id="round-form"')
    assert page.rstrip().endswith("</form>")
    assert "<body" not in page
    assert 'name="members-TOTAL_FORMS" value="3"' in page
    assert 'name="members-2-party"' in page
    assert 'value="Typed before adding"' in page
    assert "Quote typed before adding</textarea>" in page
    assert written(before) == {}


# --- 6. Editing ---------------------------------------------------------------------------


def test_removing_a_position_deletes_it_and_leaves_the_other_rows_alone(world, users):
    client = client_for(users, "analyst")
    data = opened(client, FIRST)
    assert data["positions-1-id"] == str(world.offer.pk)
    put(data, "positions", 1, DELETE=True)
    before = row_counts()
    response = client.post(FIRST, data)
    assert response.status_code == 302
    assert list(_round(world.first.pk).positions.all()) == [world.demand]
    assert written(before) == {
        "negotiations.Position": -1,
        "negotiations.HistoricalPosition": 1,
        "negotiations.HistoricalRound": 1,
    }
    assert _round(world.first.pk).version == 3


def test_changing_an_outcomes_status_saves_only_that_outcome(world, users):
    client = client_for(users, "analyst")
    data = put(opened(client, FIRST), "outcomes", 0, status="agreed")
    before = row_counts()
    assert client.post(FIRST, data).status_code == 302
    outcome = Outcome.objects.get(pk=world.outcome.pk)
    assert (outcome.status, outcome.text) == ("agreed", "It came up.")
    assert written(before) == {
        "negotiations.HistoricalOutcome": 1,
        "negotiations.HistoricalRound": 1,
    }
    assert outcome.history.latest().history_user == users["analyst"]


def test_saving_a_round_unchanged_only_adds_a_version_of_the_round(world, users):
    client = client_for(users, "analyst")
    before = row_counts()
    assert client.post(FIRST, opened(client, FIRST)).status_code == 302
    assert written(before) == {"negotiations.HistoricalRound": 1}
    assert _round(world.first.pk).version == 3


def test_clearing_an_outcomes_status_removes_the_outcome(world, users):
    client = client_for(users, "analyst")
    data = put(opened(client, FIRST), "outcomes", 0, status="", text="")
    assert client.post(FIRST, data).status_code == 302
    assert not Outcome.objects.filter(pk=world.outcome.pk).exists()


# --- 7. Conflicts -------------------------------------------------------------------------


def _two_editing(users, path: str = FIRST):
    """Anna and Eddie open the same round; Anna renames it and saves first."""
    anna, eddie = client_for(users, "analyst"), client_for(users, "editor")
    hers, his = opened(anna, path), opened(eddie, path)
    assert hers["version"] == his["version"]
    assert anna.post(path, put(hers, title="Anna's title")).status_code == 302
    return eddie, his


def test_a_save_begun_on_an_older_version_gets_a_conflict_page_with_both_versions(world, users):
    eddie, his = _two_editing(users)
    put(his, title="Eddie's title")
    before = row_counts()
    conflict = eddie.post(FIRST, his)

    assert conflict.status_code == 409
    assert written(before) == {}
    assert _round(world.first.pk).title == "Anna's title"
    page = text_of(conflict)
    assert "Someone else saved this round while you were editing" in page
    assert "<strong>anna</strong> saved version 3" in page
    assert "You began from version 2" in page
    # Field | when you opened it | saved now by them | yours
    assert (
        '<tr><th scope="row">Title</th><td>First round</td><td>Anna\'s title</td>'
        "<td>Eddie's title</td></tr>"
    ) in page


def test_the_conflict_page_keeps_what_was_typed_and_a_second_save_succeeds(world, users):
    eddie, his = _two_editing(users)
    put(his, title="Eddie's title", location="Eddie's typed place")
    put(his, "statements", 0, text="Eddie's typed quote")
    conflict = eddie.post(FIRST, his)
    assert conflict.status_code == 409
    page = text_of(conflict)
    assert 'value="Eddie\'s title"' in page
    assert 'value="Eddie\'s typed place"' in page
    assert "Eddie's typed quote</textarea>" in page
    editor = conflict.context["editor"]
    assert editor.facts["version"].value() == "3"
    assert 'name="version" value="3"' in page

    again = eddie.post(FIRST, form_data(editor))

    assert again.status_code == 302
    round_ = _round(world.first.pk)
    assert (round_.title, round_.location, round_.version) == (
        "Eddie's title",
        "Eddie's typed place",
        4,
    )
    assert Statement.objects.get(pk=world.quote.pk).text == "Eddie's typed quote"


def test_the_conflict_page_lists_no_other_changes_when_they_changed_only_the_facts(world, users):
    assert log_third_round(world, client_for(users, "analyst")).status_code == 302
    eddie, his = _two_editing(users, "/log/talks/rounds/3/")
    conflict = eddie.post("/log/talks/rounds/3/", put(his, location="Bern"))
    assert conflict.status_code == 409
    page = text_of(conflict)
    # The rows logged with version 1 were there when Eddie opened it: not "their" changes.
    assert "Their other changes" not in page


# --- 8. History and restore ---------------------------------------------------------------


def test_the_history_page_shows_each_change_field_by_field_with_its_author(world, users):
    client = client_for(users, "analyst")
    data = put(opened(client, FIRST), title="Renamed by Anna", location="Vienna")
    assert client.post(FIRST, data).status_code == 302
    page = text_of(client.get("/log/talks/rounds/1/history/"))
    entry = history_entry(page, "<del>First round</del> → <ins>Renamed by Anna</ins>")
    assert "<strong>anna</strong>" in entry
    assert "Round <em>Renamed by Anna</em> changed" in entry
    assert "<dt>Title</dt><dd><del>First round</del> → <ins>Renamed by Anna</ins></dd>" in entry
    assert "<dt>Location</dt><dd><del>Istanbul</del> → <ins>Vienna</ins></dd>" in entry
    created = history_entry(page, "Round <em>Opening round</em> added")
    assert "<strong>an import or script</strong>" in created
    assert "Restore the facts" not in page  # analysts cannot restore


def test_an_editor_restores_an_earlier_title_as_a_new_version(world, users):
    client = client_for(users, "editor")
    created = world.first.history.order_by("history_id").first()
    history_page = client.get("/log/talks/rounds/1/history/").content.decode()
    restore_path = f"/log/talks/rounds/1/history/{created.history_id}/restore/"
    assert f'action="{restore_path}"' in history_page

    response = client.post(restore_path)

    assert response.status_code == 302
    assert response["Location"] == "/log/talks/rounds/1/history/"
    round_ = _round(world.first.pk)
    assert (round_.title, round_.version, round_.published) == ("Opening round", 3, True)
    latest = round_.history.latest()
    assert latest.history_user == users["editor"]
    assert latest.history_change_reason.startswith("Restored the version of ")
    page = text_of(client.get(response["Location"]))
    assert "(now version 3)" in page
    entry = history_entry(page, "Restored the version of")
    assert "<strong>eddie</strong>" in entry
    assert "<dt>Title</dt><dd><del>First round</del> → <ins>Opening round</ins></dd>" in entry


def test_an_analyst_cannot_restore(world, users):
    created = world.first.history.order_by("history_id").first()
    path = f"/log/talks/rounds/1/history/{created.history_id}/restore/"
    assert client_for(users, "analyst").post(path).status_code == 403
    assert _round(world.first.pk).title == "First round"


def test_the_issue_history_lists_status_changes_with_their_author(world, users):
    client = client_for(users, "analyst")
    data = put(opened(client, FIRST), "outcomes", 0, status="agreed")
    assert client.post(FIRST, data).status_code == 302
    page = text_of(client.get("/log/talks/issues/borders/history/"))
    changed = history_entry(page, "<del>Raised</del> → <ins>Agreed</ins>")
    assert "<strong>anna</strong>" in changed
    assert '<a href="/log/talks/rounds/1/">First round</a> changed' in changed
    assert "<dt>Status</dt>" in changed
    added = history_entry(page, " added")
    assert "<strong>an import or script</strong>" in added
    assert "<dt>Status</dt><dd><ins>Raised</ins></dd>" in added


# --- 9. Import ----------------------------------------------------------------------------


@pytest.fixture
def demo(users) -> Negotiation:
    call_command("load_demo", stdout=StringIO())
    return Negotiation.objects.get(slug="russia-ukraine")


def test_an_editor_imports_a_valid_file(demo, users):
    text = json.dumps(document(demo, slug="russia-ukraine-copy"))
    client = client_for(users, "editor")
    response = client.post("/log/import/", {"file": upload(text, "copy.json"), "reason": ""})
    assert response.status_code == 200
    page = text_of(response)
    assert f"Imported “{demo.title}”" in page
    copy = Negotiation.objects.get(slug="russia-ukraine-copy")
    assert copy.rounds.count() == demo.rounds.count() == 11
    record = Round.history.filter(negotiation_id=copy.pk).first()
    assert record.history_user == users["editor"]
    assert record.history_change_reason == "Imported copy.json"
    assert Negotiation.objects.get(slug="russia-ukraine").title == demo.title


def test_an_invalid_file_lists_every_problem_with_its_path_and_imports_nothing(demo, users):
    doc = document(demo, slug="broken-copy")
    doc["rounds"][0]["status"] = "adjourned"
    doc["rounds"][1]["start_date"] = "29 March"
    doc["rounds"][2]["hosts"] = ["atlantis"]
    before = row_counts()
    response = client_for(users, "editor").post("/log/import/", {"file": upload(json.dumps(doc))})
    assert response.status_code == 400
    page = text_of(response)
    assert "3 problems: nothing was imported" in page
    assert '<li>rounds[0].status: "adjourned" is not one of:' in page
    assert '<li>rounds[1].start_date: "29 March" is not a date in the form YYYY-MM-DD</li>' in page
    assert '<li>rounds[2].hosts[0]: unknown party "atlantis"</li>' in page
    assert written(before) == {}


def test_a_file_for_an_existing_negotiation_is_refused_unless_replacing(demo, users):
    doc = document(demo, title="Retitled talks")
    before = row_counts()
    response = client_for(users, "editor").post("/log/import/", {"file": upload(json.dumps(doc))})
    assert response.status_code == 400
    assert 'negotiation.slug: a negotiation "russia-ukraine" already exists' in text_of(response)
    assert written(before) == {}


def test_replacing_without_confirming_is_refused(demo, users):
    doc = document(demo, title="Retitled talks")
    before = row_counts()
    response = client_for(users, "editor").post(
        "/log/import/", {"file": upload(json.dumps(doc)), "replace": "on"}
    )
    assert response.status_code == 400
    assert "Tick this box to confirm the replacement." in text_of(response)
    assert written(before) == {}
    assert Negotiation.objects.get(slug="russia-ukraine").title == demo.title


def test_replacing_with_confirmation_replaces_the_negotiation(demo, users):
    doc = document(demo, title="Retitled talks")
    response = client_for(users, "editor").post(
        "/log/import/",
        {"file": upload(json.dumps(doc)), "replace": "on", "confirm": "on", "reason": "Fix"},
    )
    assert response.status_code == 200
    page = text_of(response)
    assert "Imported “Retitled talks”" in page
    assert "The earlier data was replaced." in page
    replaced = Negotiation.objects.get(slug="russia-ukraine")
    assert (replaced.title, replaced.rounds.count()) == ("Retitled talks", 11)
    assert replaced.pk != demo.pk


def test_a_file_over_the_size_limit_is_refused(demo, users, settings):
    settings.PARLEY_IMPORT_MAX_BYTES = 1000
    text = json.dumps(document(demo, slug="too-big"))
    response = client_for(users, "editor").post("/log/import/", {"file": upload(text)})
    assert response.status_code == 400
    assert f"The file is {len(text.encode()):,} bytes; the limit is 1,000." in text_of(response)
    assert not Negotiation.objects.filter(slug="too-big").exists()


# --- 10. Header and signing in ------------------------------------------------------------


def test_the_header_shows_an_analyst_who_is_signed_in_and_a_workspace_link(world, users):
    page = client_for(users, "analyst").get("/").content.decode()
    assert "Signed in as <strong>anna</strong>" in page
    assert '<a href="/log/">Workspace</a>' in page
    assert ">Sign out</button>" in page
    assert ">Admin</a>" not in page


def test_the_header_offers_no_workspace_to_a_user_without_a_role(world, users):
    page = client_for(users, "outsider").get("/").content.decode()
    assert "Signed in as <strong>olga</strong>" in page
    assert 'href="/log/"' not in page


def test_the_header_offers_readers_a_sign_in_link_back_to_the_page(world, client):
    page = client.get("/negotiations/talks/").content.decode()
    assert '<a href="/accounts/login/?next=/negotiations/talks/">Sign in</a>' in page
    assert "Signed in as" not in page
    assert 'href="/log/"' not in page


def test_signing_in_leads_to_the_page_that_asked_for_it(world, users, client):
    sent = client.get("/log/talks/rounds/1/history/")
    assert sent["Location"] == "/accounts/login/?next=/log/talks/rounds/1/history/"
    form = client.get(sent["Location"]).content.decode()
    assert '<input type="hidden" name="next" value="/log/talks/rounds/1/history/">' in form
    response = client.post(
        "/accounts/login/",
        {"username": "anna", "password": "pw-anna", "next": "/log/talks/rounds/1/history/"},
    )
    assert response.status_code == 302
    assert response["Location"] == "/log/talks/rounds/1/history/"
    assert client.get(response["Location"]).status_code == 200


def test_a_wrong_password_keeps_the_reader_signed_out(world, users, client):
    response = client.post(
        "/accounts/login/", {"username": "anna", "password": "wrong", "next": "/log/"}
    )
    assert response.status_code == 200
    assert "Please enter a correct username and password" in text_of(response)
    assert client.get("/log/").status_code == 302


def test_signing_out_ends_the_session(world, users):
    client = client_for(users, "analyst")
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.get("/log/")["Location"] == "/accounts/login/?next=/log/"


def test_a_signed_in_user_changes_their_password(world, users, client):
    assert client.get("/accounts/password/")["Location"].startswith("/accounts/login/")
    anna = client_for(users, "analyst")
    assert anna.get("/accounts/password/").status_code == 200
    response = anna.post(
        "/accounts/password/",
        {
            "old_password": "pw-anna",
            "new_password1": "treaty-ink-1922",
            "new_password2": "treaty-ink-1922",
        },
    )
    assert response["Location"] == "/accounts/password/done/"
    assert anna.get("/log/").status_code == 200  # still signed in
    # django-axes needs the request to count sign-ins by address.
    assert client.login(
        request=RequestFactory().get("/"), username="anna", password="treaty-ink-1922"
    )
