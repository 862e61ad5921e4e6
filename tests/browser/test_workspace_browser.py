"""Analysts in a real browser: sign in, log a whole round in one form (htmx rows that keep
what was typed), save a draft readers cannot see, publish it, meet a conflict with another
analyst, fix errors, work with the keyboard alone, and no accessibility violations."""

import re
from io import StringIO

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import call_command
from playwright.sync_api import expect

from negotiations.models import Person, Position, Round
from negotiations.roles import ANALYSTS, EDITORS, setup_roles

from .conftest import describe

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
PASSWORD = "a long and secret pass phrase"

LOGIN = "/accounts/login/"
WORKSPACE = "/log/"
NEW_ROUND = "/log/russia-ukraine/rounds/new/"
ROUND_11 = "/log/russia-ukraine/rounds/11/"
ROUND_12 = "/log/russia-ukraine/rounds/12/"
HISTORY_11 = ROUND_11 + "history/"
IMPORT = "/log/import/"
READER_TIMELINE = "/negotiations/russia-ukraine/"
READER_ROUND_12 = "/negotiations/russia-ukraine/rounds/12/"
READER_BOARD = "/negotiations/russia-ukraine/issues/"

NEGOTIATION = "Russia–Ukraine direct talks (2022 and 2025)"
DEMO_ROUND_COUNT = 11
ROUND_11_TITLE = "Istanbul 2025: third meeting"

# The only console errors a page may log: its own status, when it is not 200.
STATUS_LOGS = {
    400: "Failed to load resource: the server responded with a status of 400 (Bad Request)",
    404: "Failed to load resource: the server responded with a status of 404 (Not Found)",
    409: "Failed to load resource: the server responded with a status of 409 (Conflict)",
}

# What the analyst types for round 12 (negotiations/demo/russia-ukraine.json ends at 11).
TITLE = "Istanbul 2025: fourth meeting"
LOCATION = "Çırağan Palace, Istanbul"
SUMMARY = "A short closed session: another prisoner swap, no ceasefire and no summit date."
SOURCE_1 = {
    "Link": "https://example.org/news/istanbul-fourth-meeting",
    "Title": "Fourth Istanbul meeting ends in an hour",
    "Publisher": "Example Wire",
    "Author": "A. Reporter",
    "Published": "2025-09-10",
}
SOURCE_2 = {
    "Link": "https://example.net/2025/09/10/swap",
    "Title": "Kyiv and Moscow agree a new swap",
    "Publisher": "Example Daily",
    "Author": "",
    "Published": "2025-09-11",
}
NEW_1 = f"New: {SOURCE_1['Title']} · {SOURCE_1['Publisher']}"
NEW_2 = f"New: {SOURCE_2['Title']} · {SOURCE_2['Publisher']}"
NEW_PERSON = "Oleksandr Testenko"
OUTCOMES = {  # issue: (status, what was reported, sources cited)
    "Prisoner exchanges": ("Agreed", "Another exchange of 1,000 for 1,000.", [NEW_2]),
    "Ceasefire": ("Stalled", "No truce; Moscow offered none.", [NEW_1]),
    "Meeting of the presidents": ("Under discussion", "Kyiv asked again.", [NEW_1, NEW_2]),
}
POSITION_TEXT = "Kyiv asked for a summit before any detailed settlement."
ANSWERED = "R11: Russia reject on Meeting of the presidents"
QUOTE = "We are ready to meet at the level of leaders."


# -- Fixtures and helpers -------------------------------------------------------------------


@pytest.fixture
def demo(live_server):
    call_command("load_demo", stdout=StringIO())
    return live_server.url


@pytest.fixture
def accounts(demo):
    """Two analysts (anna, ben) and an editor (eddie), all with PASSWORD."""
    setup_roles()
    for username, group in [("anna", ANALYSTS), ("ben", ANALYSTS), ("eddie", EDITORS)]:
        user = User.objects.create_user(username, f"{username}@example.org", PASSWORD)
        user.groups.add(Group.objects.get(name=group))
    return demo


def console_errors(page) -> list[str]:
    """Console errors (a CSP refusal shows up here) collected from now on."""
    messages = []
    page.on("console", lambda m: messages.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: messages.append(str(e)))
    return messages


@pytest.fixture
def errors(page):
    return console_errors(page)


@pytest.fixture
def new_page(browser):
    """Pages in browser contexts of their own (another person, or a signed-out reader)."""
    contexts = []

    def make(viewport=DESKTOP, **options):
        context = browser.new_context(viewport=viewport, **options)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def sign_in(page, base: str, username: str) -> None:
    page.goto(base + LOGIN)
    field(page, "Username").fill(username)
    field(page, "Password").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.locator(".account")).to_contain_text(f"Signed in as {username}")


def save(page, name: str = "Save as draft") -> None:
    with page.expect_navigation():
        page.get_by_role("button", name=name, exact=True).click()


def add_row(page, name: str) -> None:
    """Press an "Add a …" button; htmx sends the form and swaps in the new one."""
    with page.expect_response(
        lambda r: r.request.method == "POST" and r.request.headers.get("hx-request") == "true"
    ) as response:
        page.get_by_role("button", name=name, exact=True).click()
    assert response.value.status == 200


def group(page, name: str):
    return page.get_by_role("group", name=name, exact=True)


def field(scope, label: str):
    """The control labelled `label` (a required field's label ends with a hidden "*")."""
    return scope.get_by_label(re.compile(rf"^{re.escape(label)}( \*)?$"))


def selected_labels(select) -> list[str]:
    return select.evaluate("s => [...s.selectedOptions].map(o => o.textContent.trim())")


def fill_source(page, row: str, values: dict) -> None:
    scope = group(page, row)
    for label, value in values.items():
        field(scope, label).fill(value)


def expect_source(page, row: str, values: dict) -> None:
    scope = group(page, row)
    for label, value in values.items():
        expect(field(scope, label)).to_have_value(value)


def fill_facts(page) -> None:
    facts = group(page, "The round")
    field(facts, "Status").select_option(label="Held")
    field(facts, "Start date").fill("2025-09-10")
    field(facts, "End date").fill("2025-09-10")
    field(facts, "Format").select_option(label="In person")
    field(facts, "Title").fill(TITLE)
    field(facts, "Location").fill(LOCATION)
    group(page, "Hosts").get_by_label("Turkey", exact=True).check()
    field(facts, "Summary").fill(SUMMARY)


def expect_facts(page) -> None:
    facts = group(page, "The round")
    expect(field(facts, "Number")).to_have_value("12")
    expect(field(facts, "Status")).to_have_value("held")
    expect(field(facts, "Start date")).to_have_value("2025-09-10")
    expect(field(facts, "End date")).to_have_value("2025-09-10")
    expect(field(facts, "Format")).to_have_value("in-person")
    expect(field(facts, "Title")).to_have_value(TITLE)
    expect(field(facts, "Location")).to_have_value(LOCATION)
    expect(group(page, "Hosts").get_by_label("Turkey", exact=True)).to_be_checked()
    expect(group(page, "Hosts").get_by_label("Russia", exact=True)).not_to_be_checked()
    expect(field(facts, "Summary")).to_have_value(SUMMARY)


def fill_members(page) -> None:
    first = group(page, "Member 1")
    field(first, "Delegation of").select_option(label="Russia")
    field(first, "Person").select_option(label="Vladimir Medinsky")
    field(first, "Role").fill("Head of delegation")
    field(first, "Head").check()
    second = group(page, "Member 2")
    field(second, "Delegation of").select_option(label="Ukraine")
    field(second, "or a new person").fill(NEW_PERSON)
    field(second, "Role").fill("Head of delegation; new this round")
    field(second, "Head").check()


def expect_members(page) -> None:
    first = group(page, "Member 1")
    expect(field(first, "Delegation of").locator("option:checked")).to_have_text("Russia")
    expect(field(first, "Person").locator("option:checked")).to_have_text("Vladimir Medinsky")
    expect(field(first, "Role")).to_have_value("Head of delegation")
    expect(field(first, "Head")).to_be_checked()
    second = group(page, "Member 2")
    expect(field(second, "Delegation of").locator("option:checked")).to_have_text("Ukraine")
    expect(field(second, "Person")).to_have_value("")
    expect(field(second, "or a new person")).to_have_value(NEW_PERSON)
    expect(field(second, "Role")).to_have_value("Head of delegation; new this round")
    expect(field(second, "Head")).to_be_checked()


def answered_position() -> Position:
    return Position.objects.get(
        round__negotiation__slug="russia-ukraine",
        round__number=11,
        party__slug="russia",
        issue__slug="leaders-meeting",
    )


# -- Logging a round, from sign-in to publication -------------------------------------------


def test_an_analyst_logs_a_round_as_a_draft_that_readers_see_only_once_published(
    page, accounts, new_page, errors
):
    base = accounts
    page.set_viewport_size(DESKTOP)
    sign_in(page, base, "anna")
    with page.expect_navigation():
        page.get_by_role("link", name="Workspace", exact=True).click()
    assert page.url == base + WORKSPACE
    expect(page.get_by_role("heading", level=1)).to_have_text("Workspace")
    with page.expect_navigation():
        page.get_by_role("link", name=f"Log a round of {NEGOTIATION}", exact=True).click()
    assert page.url == base + NEW_ROUND
    expect(page.get_by_role("heading", level=1)).to_have_text("Log a round")
    expect(field(group(page, "The round"), "Number")).to_have_value("12")

    # The round's facts and a first new source; "Add a source" gives a second row.
    fill_facts(page)
    fill_source(page, "New source 1", SOURCE_1)
    expect(group(page, "New source 2")).to_have_count(0)
    add_row(page, "Add a source")
    expect(group(page, "New source 2")).to_be_visible()
    expect_facts(page)
    expect_source(page, "New source 1", SOURCE_1)
    round_sources = field(group(page, "The round"), "Sources for the round")
    expect(round_sources.get_by_role("option", name=NEW_1, exact=True)).to_have_count(1)

    # The second source and two delegations; "Add a member" gives a third row.
    fill_source(page, "New source 2", SOURCE_2)
    fill_members(page)
    expect(group(page, "Member 3")).to_have_count(0)
    add_row(page, "Add a member")
    expect(group(page, "Member 3")).to_be_visible()
    expect_facts(page)
    expect_source(page, "New source 1", SOURCE_1)
    expect_source(page, "New source 2", SOURCE_2)
    expect_members(page)
    expect(round_sources.get_by_role("option", name=NEW_2, exact=True)).to_have_count(1)
    third = group(page, "Member 3")
    field(third, "Delegation of").select_option(label="Russia")
    field(third, "Person").select_option(label="Mikhail Galuzin")
    field(third, "Role").fill("Deputy Minister of Foreign Affairs")

    # The round cites both new sources; three outcomes cite them too.
    round_sources.select_option(label=[NEW_1, NEW_2])
    for issue, (status, text, sources) in OUTCOMES.items():
        row = group(page, issue)
        field(row, "Status").select_option(label=status)
        field(row, "What was reported").fill(text)
        field(row, "Sources").select_option(label=sources)

    # A position that answers Russia's rejection of a summit in round 11.
    position = group(page, "Position 1")
    field(position, "Party").select_option(label="Ukraine")
    field(position, "Issue").select_option(label="Meeting of the presidents")
    field(position, "Stance").select_option(label="Demand")
    field(position, "Text").fill(POSITION_TEXT)
    answers = field(position, "Answers")
    option = answers.get_by_role("option", name=re.compile("^" + re.escape(ANSWERED)))
    expect(option).to_have_count(1)
    answers.select_option(option.get_attribute("value"))
    field(position, "Sources").select_option(label=NEW_1)

    # A statement by a known speaker.
    statement = group(page, "Statement 1")
    field(statement, "Speaker").select_option(label="Rustem Umerov")
    field(statement, "Said on").fill("2025-09-10")
    field(statement, "Quote").fill(QUOTE)
    field(statement, "Original wording").fill("Ми готові до зустрічі на рівні лідерів.")
    field(statement, "Language").fill("uk")
    field(statement, "Sources").select_option(label=NEW_2)

    # One more row (an empty statement) keeps everything typed so far, the selects too.
    add_row(page, "Add a statement")
    expect(group(page, "Statement 2")).to_be_visible()
    expect_facts(page)
    expect_members(page)
    expect(field(group(page, "Member 3"), "Person").locator("option:checked")).to_have_text(
        "Mikhail Galuzin"
    )
    assert selected_labels(round_sources) == [NEW_1, NEW_2]
    for issue, (status, text, sources) in OUTCOMES.items():
        row = group(page, issue)
        expect(field(row, "Status").locator("option:checked")).to_have_text(status)
        expect(field(row, "What was reported")).to_have_value(text)
        assert selected_labels(field(row, "Sources")) == sources, issue
    expect(field(position, "Text")).to_have_value(POSITION_TEXT)
    assert selected_labels(answers)[0].startswith(ANSWERED)
    expect(field(statement, "Quote")).to_have_value(QUOTE)
    assert selected_labels(field(statement, "Sources")) == [NEW_2]

    save(page)
    assert page.url == base + ROUND_12
    expect(page.get_by_role("status")).to_contain_text(
        f"Logged round 12: {TITLE}. It is a draft, not yet visible to readers."
    )
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Round 12: {TITLE}")
    expect(page.get_by_role("button", name="Publish", exact=True)).to_be_visible()

    # Everything was saved, linked where it was chosen.
    round_ = Round.objects.get(negotiation__slug="russia-ukraine", number=12)
    assert (round_.published, round_.title, round_.summary) == (False, TITLE, SUMMARY)
    assert sorted(s.title for s in round_.sources.all()) == sorted(
        [SOURCE_1["Title"], SOURCE_2["Title"]]
    )
    heads = {d.party.slug: [m.person.name for m in d.members.all() if m.is_head]
             for d in round_.delegations.all()}  # fmt: skip
    assert heads == {"russia": ["Vladimir Medinsky"], "ukraine": [NEW_PERSON]}
    assert Person.objects.get(name=NEW_PERSON).party.slug == "ukraine"
    cited = {o.issue.title: sorted(s.title for s in o.sources.all()) for o in round_.outcomes.all()}
    assert cited == {
        "Prisoner exchanges": [SOURCE_2["Title"]],
        "Ceasefire": [SOURCE_1["Title"]],
        "Meeting of the presidents": sorted([SOURCE_1["Title"], SOURCE_2["Title"]]),
    }
    assert round_.positions.get().responds_to == answered_position()
    assert [s.title for s in round_.statements.get().sources.all()] == [SOURCE_2["Title"]]
    assert round_.statements.count() == 1  # the empty second row saved nothing

    # A reader, signed out in a browser of their own, cannot see the draft.
    reader = new_page()
    response = reader.goto(base + READER_ROUND_12)
    assert response.status == 404
    reader.goto(base + READER_TIMELINE)
    expect(reader.get_by_role("status")).to_have_text(f"{DEMO_ROUND_COUNT} rounds.")
    expect(reader.get_by_role("heading", name=TITLE)).to_have_count(0)

    with page.expect_navigation():
        page.get_by_role("button", name="Publish", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("Round 12 is published: readers can see it.")
    expect(page.get_by_role("button", name="Unpublish (back to draft)")).to_be_visible()

    # Now the reader finds it on the timeline, on its own page and on the board.
    reader.reload()
    expect(reader.get_by_role("status")).to_have_text(f"{DEMO_ROUND_COUNT + 1} rounds.")
    with reader.expect_navigation():
        reader.get_by_role("link", name=TITLE, exact=True).click()
    assert reader.url == base + READER_ROUND_12
    expect(reader.get_by_role("heading", level=1)).to_have_text(TITLE)
    article = reader.locator("main")
    for text in [
        "Vladimir Medinsky",
        NEW_PERSON,
        "Mikhail Galuzin",
        QUOTE,
        POSITION_TEXT,
        SOURCE_1["Title"],
        SOURCE_2["Title"],
        *(text for _, text, _ in OUTCOMES.values()),
    ]:
        expect(article).to_contain_text(text)
    reader.goto(base + READER_BOARD)
    board = reader.get_by_role("table", name=re.compile("^Issues by round"))
    expect(board.get_by_role("link", name=re.compile(r"^Round R12\b"))).to_have_count(1)
    assert errors == []


# -- Two analysts, one round ----------------------------------------------------------------


def test_a_second_analyst_who_saves_over_a_newer_version_sees_the_conflict_and_keeps_input(
    page, accounts, new_page, errors, screenshot
):
    base = accounts
    page.set_viewport_size(DESKTOP)
    sign_in(page, base, "anna")
    ben = new_page()
    ben_errors = console_errors(ben)
    sign_in(ben, base, "ben")
    page.goto(base + ROUND_11)
    ben.goto(base + ROUND_11)
    expect(field(group(ben, "The round"), "Title")).to_have_value(ROUND_11_TITLE)

    anna_title = "Istanbul 2025: third meeting (Anna's edit)"
    field(group(page, "The round"), "Title").fill(anna_title)
    save(page, "Save changes")
    expect(page.get_by_role("status")).to_contain_text(f"Saved round 11: {anna_title}.")

    ben_title = "Istanbul 2025: third meeting (Ben's edit)"
    ben_summary = "Ben's summary: a swap of 1,200 for 1,200 and nothing else."
    field(group(ben, "The round"), "Title").fill(ben_title)
    field(group(ben, "The round"), "Summary").fill(ben_summary)
    with ben.expect_navigation() as navigation:
        ben.get_by_role("button", name="Save changes", exact=True).click()
    assert navigation.value.status == 409

    conflict = ben.get_by_role("alert").filter(
        has=ben.get_by_role("heading", name="Someone else saved this round while you were editing")
    )
    expect(conflict).to_be_visible()
    expect(conflict).to_contain_text("anna")
    facts = conflict.get_by_role("table", name=re.compile("^The round's facts"))
    title_row = facts.get_by_role("row").filter(
        has=ben.get_by_role("rowheader", name="Title", exact=True)
    )
    expect(title_row).to_have_count(1)
    # When Ben opened it, as Anna saved it, as Ben typed it. Checked at the end of the test,
    # so that the steps after the conflict are exercised even while this is wrong.
    title_cells = title_row.get_by_role("cell").all_inner_texts()
    # Nothing Ben typed is lost.
    expect(field(group(ben, "The round"), "Title")).to_have_value(ben_title)
    expect(field(group(ben, "The round"), "Summary")).to_have_value(ben_summary)
    screenshot(ben, "conflict-desktop")
    assert Round.objects.get(number=11, negotiation__slug="russia-ukraine").title == anna_title

    save(ben, "Save changes")
    assert ben.url == base + ROUND_11
    expect(ben.get_by_role("status")).to_contain_text(f"Saved round 11: {ben_title}.")
    saved = Round.objects.get(number=11, negotiation__slug="russia-ukraine")
    assert (saved.title, saved.summary) == (ben_title, ben_summary)

    # The history has both edits, with their authors, newest first.
    with ben.expect_navigation():
        ben.get_by_role("link", name="History", exact=True).click()
    assert ben.url == base + HISTORY_11
    entries = ben.locator(".history-entry").filter(
        has=ben.locator(".history-head", has_text=re.compile(r" · Round "))
    )
    expect(entries.first).to_contain_text("ben")
    expect(entries.first).to_contain_text(ben_title)
    expect(entries.nth(1)).to_contain_text("anna")
    expect(entries.nth(1)).to_contain_text(anna_title)
    screenshot(ben, "history-desktop")
    assert errors == []
    assert ben_errors == [STATUS_LOGS[409]]
    assert title_cells == [ROUND_11_TITLE, anna_title, ben_title], (
        "the conflict table's Title row (opened, saved now by them, yours)"
    )


def test_the_conflict_screen_shows_exactly_what_the_other_analyst_changed(page, accounts, new_page):
    base = accounts
    sign_in(page, base, "anna")
    ben = new_page()
    sign_in(ben, base, "ben")
    page.goto(base + ROUND_11)
    ben.goto(base + ROUND_11)
    location = field(group(page, "The round"), "Location")
    opened = location.input_value()
    location.fill("Dolmabahçe Palace, Istanbul")
    save(page, "Save changes")  # Anna changes the place, nothing else

    field(group(ben, "The round"), "Title").fill("Ben's title")
    with ben.expect_navigation() as navigation:
        ben.get_by_role("button", name="Save changes", exact=True).click()
    assert navigation.value.status == 409
    conflict = ben.locator("section.conflict")
    expect(conflict).to_be_visible()
    facts = conflict.get_by_role("table", name=re.compile("^The round's facts"))
    shown = {
        "facts": [
            row.locator("th, td").all_inner_texts()
            for row in facts.locator("tbody").get_by_role("row").all()
        ],
        "their other changes": conflict.locator("li").all_inner_texts(),
    }
    # Only Anna's new place, next to what Ben opened and what his form still holds (else
    # his next save silently puts the old place back); Ben's own new title is not a
    # difference with Anna, and the rows the demo import wrote before Ben opened the
    # round are not Anna's changes.
    assert shown == {
        "facts": [["Location", opened, "Dolmabahçe Palace, Istanbul", opened]],
        "their other changes": [],
    }


# -- Errors ---------------------------------------------------------------------------------


def test_an_end_date_before_the_start_is_shown_at_the_field_and_at_the_top_and_input_is_kept(
    page, accounts, errors
):
    base = accounts
    sign_in(page, base, "anna")
    page.goto(base + NEW_ROUND)
    facts = group(page, "The round")
    field(facts, "Start date").fill("2025-09-10")
    field(facts, "End date").fill("2025-09-01")
    field(facts, "Title").fill(TITLE)
    field(facts, "Summary").fill(SUMMARY)
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name="Save as draft", exact=True).click()
    assert navigation.value.status == 400
    message = "The round cannot end before it starts."

    summary = page.locator("#error-summary")
    expect(summary).to_have_attribute("role", "alert")
    expect(summary.get_by_role("heading")).to_have_text("1 thing to fix before saving")
    link = summary.get_by_role("link", name=f"End date: {message}", exact=True)
    expect(link).to_have_attribute("href", "#id_end_date")

    end = field(facts, "End date")
    expect(end.locator("xpath=..")).to_contain_text(message)  # next to the field
    expect(end).to_have_accessible_description(re.compile(re.escape(message)))
    expect(end).to_have_value("2025-09-01")
    expect(field(facts, "Start date")).to_have_value("2025-09-10")
    expect(field(facts, "Title")).to_have_value(TITLE)
    expect(field(facts, "Summary")).to_have_value(SUMMARY)

    link.click()
    expect(page).to_have_url(re.compile("#id_end_date$"))
    expect(end).to_be_in_viewport()
    assert not Round.objects.filter(number=12).exists()
    assert errors == [STATUS_LOGS[400]]


# -- Accessibility --------------------------------------------------------------------------


def _errors_page(page, base):
    sign_in(page, base, "anna")
    page.goto(base + NEW_ROUND)
    facts = group(page, "The round")
    field(facts, "Start date").fill("2025-09-10")
    field(facts, "End date").fill("2025-09-01")
    field(group(page, "Statement 1"), "Language").fill("uk")  # a quote is missing too
    save(page)
    return 400


def _conflict_page(page, base):
    sign_in(page, base, "anna")
    page.goto(base + ROUND_11)
    round_ = Round.objects.get(negotiation__slug="russia-ukraine", number=11)
    round_.title = "Saved by someone else meanwhile"
    round_.save()
    field(group(page, "The round"), "Title").fill("Anna's title")
    save(page, "Save changes")
    return 409


def _history_page(page, base):
    sign_in(page, base, "eddie")  # an editor, who also sees the restore buttons
    page.goto(base + ROUND_11)
    field(group(page, "The round"), "Title").fill("Edited once")
    save(page, "Save changes")
    page.goto(base + HISTORY_11)
    return 200


def _visit(path, username=None):
    def setup(page, base):
        if username:
            sign_in(page, base, username)
        return page.goto(base + path).status

    return setup


WORKSPACE_PAGES = [
    pytest.param(_visit(LOGIN), DESKTOP, id="login"),
    pytest.param(_visit(WORKSPACE, "anna"), DESKTOP, id="workspace"),
    pytest.param(_visit(NEW_ROUND, "anna"), DESKTOP, id="round-form"),
    pytest.param(_visit(NEW_ROUND, "anna"), PHONE, id="round-form-phone"),
    pytest.param(_visit(ROUND_11, "anna"), DESKTOP, id="round-edit"),
    pytest.param(_errors_page, DESKTOP, id="round-form-errors"),
    pytest.param(_conflict_page, DESKTOP, id="conflict"),
    pytest.param(_history_page, DESKTOP, id="history"),
    pytest.param(_visit(IMPORT, "eddie"), DESKTOP, id="import"),
]


@pytest.mark.parametrize(("setup", "viewport"), WORKSPACE_PAGES)
def test_workspace_pages_have_no_accessibility_violations(
    page, accounts, setup, viewport, axe_violations, errors
):
    page.set_viewport_size(viewport)
    status = setup(page, accounts)
    violations = axe_violations(page)
    assert violations == [], describe(violations)
    assert errors == ([STATUS_LOGS[status]] if status in STATUS_LOGS else [])


DARK_PAGES = [
    p for p in WORKSPACE_PAGES if p.id in {"workspace", "round-form-errors", "conflict", "history"}
]


@pytest.mark.parametrize(("setup", "viewport"), DARK_PAGES)
def test_workspace_pages_keep_their_contrast_in_dark_mode(
    page, accounts, setup, viewport, axe_violations
):
    page.emulate_media(color_scheme="dark")
    page.set_viewport_size(viewport)
    setup(page, accounts)
    background = page.evaluate("getComputedStyle(document.documentElement).backgroundColor")
    assert background == "rgb(19, 22, 28)", "the dark palette is not in use"
    violations = axe_violations(page)
    assert violations == [], describe(violations)


# -- The keyboard ---------------------------------------------------------------------------


def tab_to(page, target, presses: int = 40) -> None:
    for _ in range(presses):
        page.keyboard.press("Tab")
        if target.evaluate("element => element === document.activeElement"):
            break
    expect(target).to_be_focused()


def test_an_analyst_adds_a_member_with_the_keyboard_and_keeps_what_was_typed(
    page, accounts, errors
):
    base = accounts
    sign_in(page, base, "anna")
    page.goto(base + NEW_ROUND)
    fill_facts(page)
    fill_members(page)
    # From the last control of the last row, the next stop is the "Add a member" button.
    group(page, "Member 2").get_by_role("checkbox", name="Remove", exact=True).focus()
    add = page.get_by_role("button", name="Add a member", exact=True)
    tab_to(page, add, presses=1)

    with page.expect_response(lambda r: r.request.headers.get("hx-request") == "true"):
        page.keyboard.press("Enter")
    new_row = group(page, "Member 3")
    expect(new_row).to_be_visible()
    expect_facts(page)
    expect_members(page)
    # Focus stays where the keyboard user was working: in the new row, ready to fill it.
    expect(field(new_row, "Delegation of")).to_be_focused()
    page.keyboard.press("Tab")
    expect(field(new_row, "Person")).to_be_focused()
    page.keyboard.type("Mikhail")
    expect(field(new_row, "Person").locator("option:checked")).to_have_text("Mikhail Galuzin")

    # Space on the button works as well.
    tab_to(page, add)
    with page.expect_response(lambda r: r.request.headers.get("hx-request") == "true"):
        page.keyboard.press("Space")
    expect(group(page, "Member 4")).to_be_visible()
    expect_members(page)
    assert errors == []


def test_without_javascript_add_a_member_reloads_the_form_with_what_was_typed(accounts, new_page):
    base = accounts
    page = new_page(java_script_enabled=False)
    sign_in(page, base, "anna")
    page.goto(base + NEW_ROUND)
    fill_facts(page)
    fill_members(page)
    with page.expect_navigation():
        page.get_by_role("button", name="Add a member", exact=True).click()
    expect(group(page, "Member 3")).to_be_visible()
    expect_facts(page)
    expect_members(page)


# -- Screenshots and layout -----------------------------------------------------------------

OVERFLOWING = """() => {
  const width = document.documentElement.clientWidth;
  return [...document.body.querySelectorAll('*')]
    .filter((el) => el.getBoundingClientRect().right > width + 1)
    .slice(0, 10)
    .map((el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
      + ' (right edge ' + Math.round(el.getBoundingClientRect().right) + 'px)');
}"""


@pytest.mark.parametrize(("name", "viewport"), [("desktop", DESKTOP), ("phone", PHONE)])
def test_the_round_form_fits_the_screen(page, accounts, screenshot, name, viewport, errors):
    base = accounts
    page.set_viewport_size(viewport)
    sign_in(page, base, "anna")
    page.goto(base + NEW_ROUND)
    fill_facts(page)
    fill_members(page)
    page.evaluate("window.scrollTo(0, 0)")  # the sticky save bar then sits under the facts
    assert screenshot(page, f"round-form-{name}").stat().st_size > 0
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= viewport["width"], (
        f"the round form scrolls sideways at {viewport['width']}px ({width}px wide): "
        f"{page.evaluate(OVERFLOWING)}"
    )
    assert errors == []
