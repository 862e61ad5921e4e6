"""Readers in a real browser: the pages work under the Content Security Policy, with the
keyboard alone, without JavaScript, at phone width, and without accessibility violations."""

import re
from io import StringIO

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from negotiations.models import Negotiation
from tests.factories import RoundFactory

from .conftest import describe

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}

TIMELINE = "/negotiations/russia-ukraine/"
ROUND_3 = "/negotiations/russia-ukraine/rounds/3/"
BOARD = "/negotiations/russia-ukraine/issues/"
MISSING = "/negotiations/nope/"

# Rounds of the demo that record an outcome or a position on humanitarian corridors,
# newest first (negotiations/demo/russia-ukraine.json).
CORRIDOR_ROUNDS = [
    "Foreign ministers in Antalya",
    "Third round: Belovezhskaya Pushcha",
    "Second round: Belovezhskaya Pushcha",
]
DEMO_ROUND_COUNT = 11

# The only console error a page may log: the 404 page's own status.
NOT_FOUND_LOG = "Failed to load resource: the server responded with a status of 404 (Not Found)"

# Elements wider than the viewport that are not inside a region that scrolls by itself.
OVERFLOWING = """() => {
  const width = document.documentElement.clientWidth;
  const scrolls = (el) => {
    for (let a = el.parentElement; a; a = a.parentElement) {
      const x = getComputedStyle(a).overflowX;
      if ((x === 'auto' || x === 'scroll' || x === 'hidden') && a !== document.body
          && a !== document.documentElement) return true;
    }
    return false;
  };
  return [...document.body.querySelectorAll('*')]
    .filter((el) => el.getBoundingClientRect().right > width + 1 && !scrolls(el))
    .slice(0, 10)
    .map((el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
      + (el.className && typeof el.className === 'string' ? '.' + el.className.trim()
        .split(/\\s+/).join('.') : '')
      + ' (right edge ' + Math.round(el.getBoundingClientRect().right) + 'px)');
}"""


@pytest.fixture
def demo(live_server):
    call_command("load_demo", stdout=StringIO())
    return live_server.url


@pytest.fixture
def errors(page):
    """Console errors (a CSP refusal shows up here) collected while the test runs."""
    messages = []
    page.on("console", lambda m: messages.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: messages.append(str(e)))
    return messages


@pytest.fixture
def no_js_page(browser):
    """A page in a browser context with JavaScript switched off."""
    context = browser.new_context(java_script_enabled=False, viewport=DESKTOP)
    yield context.new_page()
    context.close()


@pytest.fixture
def many_rounds(demo):
    """Thirty more published rounds, so the timeline has two pages (25 a page)."""
    negotiation = Negotiation.objects.get(slug="russia-ukraine")
    for i in range(30):
        RoundFactory(negotiation=negotiation, number=100 + i, title=f"Extra round {100 + i}")
    return demo


def round_titles(page) -> list[str]:
    return page.locator("#round-list").get_by_role("heading", level=3).all_inner_texts()


# -- Filtering the timeline with htmx -------------------------------------------------------


def test_a_reader_filters_the_timeline_by_issue_and_only_the_round_list_is_replaced(
    page, demo, errors
):
    page.goto(demo + TIMELINE)
    expect(page.get_by_role("status")).to_have_text(f"{DEMO_ROUND_COUNT} rounds.")
    # Markers that a full page load would wipe out: on the window, on the heading, on the list.
    page.evaluate(
        "window.__marker = 1; document.querySelector('h1').__marker = 1;"
        "document.getElementById('round-list').__marker = 1"
    )

    with page.expect_response(
        lambda r: (
            "issue=humanitarian-corridors" in r.url
            and r.request.headers.get("hx-request") == "true"
        )
    ):
        page.get_by_label("Issue", exact=True).select_option("humanitarian-corridors")

    expect(page).to_have_url(re.compile(r"[?&]issue=humanitarian-corridors(&|$)"))
    expect(page.get_by_role("status")).to_have_text("3 rounds match these filters.")
    assert round_titles(page) == CORRIDOR_ROUNDS
    for badges in page.locator("#round-list .badges").all():
        expect(badges).to_contain_text("Humanitarian corridors")
    # The page was not reloaded, the heading is the same element, the list a new one.
    assert page.evaluate("window.__marker") == 1
    assert page.evaluate("document.querySelector('h1').__marker") == 1
    assert page.evaluate("document.getElementById('round-list').__marker") is None
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Russia–Ukraine direct talks (2022 and 2025)"
    )
    assert errors == []


def test_the_back_button_returns_a_reader_from_a_filtered_timeline_to_all_rounds(
    page, demo, errors
):
    page.goto(demo + TIMELINE)
    page.get_by_label("Issue", exact=True).select_option("humanitarian-corridors")
    expect(page).to_have_url(re.compile(r"[?&]issue=humanitarian-corridors(&|$)"))
    expect(page.get_by_role("status")).to_have_text("3 rounds match these filters.")

    page.go_back()

    expect(page).to_have_url(demo + TIMELINE)
    expect(page.get_by_role("status")).to_have_text(f"{DEMO_ROUND_COUNT} rounds.")
    assert len(round_titles(page)) == DEMO_ROUND_COUNT
    # The whole page is back, not just the list.
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Russia–Ukraine direct talks (2022 and 2025)"
    )
    expect(page.get_by_label("Issue", exact=True)).to_be_visible()
    expect(page.get_by_role("contentinfo")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_count(1)
    assert errors == []


# -- The board, back in time ----------------------------------------------------------------


def test_a_reader_moves_the_board_back_to_7_march_2022_and_sees_that_days_statuses(
    page, demo, errors
):
    page.goto(demo + BOARD)
    # Today, the corridors stand where round 4 (Antalya) left them.
    corridors = page.get_by_role("row").filter(
        has=page.get_by_role("rowheader", name="Humanitarian corridors", exact=True)
    )
    expect(corridors.get_by_role("cell").first).to_have_text("Under discussion")

    page.get_by_label("As of", exact=True).fill("2022-03-07")
    with page.expect_navigation():
        page.get_by_role("button", name="Show", exact=True).click()

    assert "as_of=2022-03-07" in page.url
    expect(page.get_by_role("status")).to_contain_text("As of 7 March 2022:")
    board = page.get_by_role("table", name=re.compile("^Issues by round"))
    headers = board.get_by_role("columnheader")
    expect(headers.nth(1)).to_have_text("Status then")
    # The status column of the corridors' row: partially agreed in round 3, that day.
    expect(corridors.get_by_role("cell").first).to_have_text("Partially agreed")
    # Rounds 1 to 3 only; round 4 was held on 10 March.
    expect(headers).to_have_count(2 + 3)
    for number in (1, 2, 3):
        expect(board.get_by_role("link", name=re.compile(rf"^Round R{number}\b"))).to_have_count(1)
    expect(board.get_by_role("link", name=re.compile(r"^Round R4\b"))).to_have_count(0)
    expect(page.get_by_role("link", name=re.compile(r"^Round R4\b"))).to_have_count(0)
    assert errors == []


# -- The keyboard alone ---------------------------------------------------------------------


def tab_to(page, link, presses: int = 80) -> None:
    for _ in range(presses):
        page.keyboard.press("Tab")
        if link.evaluate("element => element === document.activeElement"):
            break
    expect(link).to_be_focused()


def test_reader_opens_a_negotiation_with_the_keyboard_alone(page, demo, errors):
    page.goto(demo + "/")
    link = page.get_by_role("link", name="Russia–Ukraine direct talks (2022 and 2025)", exact=True)
    tab_to(page, link, presses=10)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith(TIMELINE)
    expect(
        page.get_by_role("heading", level=3, name="Third round: Belovezhskaya Pushcha")
    ).to_be_visible()
    expect(page.get_by_text("Humanitarian corridors: Partially agreed").first).to_be_visible()
    assert errors == []


def test_a_reader_opens_a_round_from_the_timeline_with_the_keyboard_alone(page, demo, errors):
    page.goto(demo + TIMELINE)
    link = page.get_by_role("link", name="Third round: Belovezhskaya Pushcha", exact=True)
    tab_to(page, link)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith(ROUND_3)
    expect(page.get_by_role("heading", level=1)).to_have_text("Third round: Belovezhskaya Pushcha")
    assert errors == []


# -- Without JavaScript ---------------------------------------------------------------------


def test_without_javascript_a_reader_still_filters_the_timeline_with_the_apply_button(
    no_js_page, demo
):
    page = no_js_page
    page.goto(demo + TIMELINE)
    page.get_by_label("Issue", exact=True).select_option("humanitarian-corridors")
    with page.expect_navigation():
        page.get_by_role("button", name="Apply", exact=True).click()

    assert re.search(r"[?&]issue=humanitarian-corridors(&|$)", page.url), page.url
    expect(page.get_by_role("status")).to_have_text("3 rounds match these filters.")
    assert round_titles(page) == CORRIDOR_ROUNDS
    expect(page.get_by_label("Issue", exact=True)).to_have_value("humanitarian-corridors")


def test_without_javascript_a_reader_still_pages_through_the_timeline(no_js_page, many_rounds):
    page = no_js_page
    total = DEMO_ROUND_COUNT + 30
    page.goto(many_rounds + TIMELINE)
    expect(page.get_by_role("status")).to_have_text(f"{total} rounds, showing 1–25.")
    assert len(round_titles(page)) == 25
    pages = page.get_by_role("navigation", name="Pages")
    expect(pages).to_contain_text("Page 1 of 2")

    with page.expect_navigation():
        pages.get_by_role("link", name=re.compile("^Next")).click()

    assert re.search(r"[?&]page=2(&|$)", page.url), page.url
    expect(page.get_by_role("status")).to_have_text(f"{total} rounds, showing 26–{total}.")
    expect(pages).to_contain_text("Page 2 of 2")
    titles = round_titles(page)
    assert len(titles) == total - 25
    # Newest first: the demo's 2022 rounds are at the end of the second page.
    assert titles[-1] == "First round: Gomel region, Belarus"
    expect(pages.get_by_role("link", name=re.compile("^Next"))).to_have_count(0)
    expect(pages.get_by_role("link", name=re.compile("Previous"))).to_have_count(1)


# -- Accessibility on every page type -------------------------------------------------------

PAGES = [
    pytest.param("/", DESKTOP, id="home"),
    pytest.param(TIMELINE, DESKTOP, id="timeline"),
    pytest.param(TIMELINE + "?issue=humanitarian-corridors", DESKTOP, id="timeline-filtered"),
    pytest.param(ROUND_3, DESKTOP, id="round"),
    pytest.param(BOARD, DESKTOP, id="board"),
    pytest.param(BOARD + "?as_of=2022-03-07", DESKTOP, id="board-as-of"),
    pytest.param(BOARD + "?as_of=2022-03-29&compare=2022-03-07", DESKTOP, id="board-changes"),
    pytest.param(BOARD + "humanitarian-corridors/", DESKTOP, id="issue"),
    pytest.param("/parties/russia/", DESKTOP, id="party"),
    pytest.param("/people/vladimir-medinsky/", DESKTOP, id="person"),
    pytest.param("/search/?q=corridor", DESKTOP, id="search"),
    pytest.param(MISSING, DESKTOP, id="not-found"),
    pytest.param(TIMELINE, PHONE, id="timeline-phone"),
    pytest.param(ROUND_3, PHONE, id="round-phone"),
    pytest.param(BOARD, PHONE, id="board-phone"),
]


@pytest.mark.parametrize(("path", "viewport"), PAGES)
def test_reader_pages_have_no_accessibility_violations(
    page, demo, path, viewport, axe_violations, errors
):
    page.set_viewport_size(viewport)
    response = page.goto(demo + path)
    assert response.status == (404 if path == MISSING else 200)
    violations = axe_violations(page)
    assert violations == [], describe(violations)
    expected = [NOT_FOUND_LOG] if path == MISSING else []
    assert errors == expected  # a CSP refusal would show up here


@pytest.mark.parametrize("path", ["/", TIMELINE, ROUND_3, BOARD, BOARD + "ceasefire/"])
def test_reader_pages_keep_their_contrast_in_dark_mode(page, demo, path, axe_violations):
    page.emulate_media(color_scheme="dark")
    page.goto(demo + path)
    background = page.evaluate("getComputedStyle(document.documentElement).backgroundColor")
    assert background == "rgb(19, 22, 28)", "the dark palette is not in use"
    violations = axe_violations(page)
    assert violations == [], describe(violations)


def test_the_accessibility_check_does_catch_a_violation(page, demo, axe_violations):
    page.goto(demo + "/")
    page.evaluate("document.querySelector('main').append(document.createElement('input'))")
    assert "label" in {violation["id"] for violation in axe_violations(page)}


# -- Screenshots and layout -----------------------------------------------------------------


@pytest.mark.parametrize(("name", "viewport"), [("desktop", DESKTOP), ("phone", PHONE)])
@pytest.mark.parametrize(
    ("kind", "path"), [("timeline", TIMELINE), ("round", ROUND_3), ("board", BOARD)]
)
def test_the_timeline_a_round_and_the_board_fit_the_screen(
    page, demo, screenshot, kind, path, name, viewport, errors
):
    page.set_viewport_size(viewport)
    page.goto(demo + path)
    assert screenshot(page, f"{kind}-{name}").stat().st_size > 0
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= viewport["width"], (
        f"the {kind} page scrolls sideways at {viewport['width']}px ({width}px wide): "
        f"{page.evaluate(OVERFLOWING)}"
    )
    assert errors == []
