"""Readers in a real browser: the pages work under the Content Security Policy, with the
keyboard alone, and without accessibility violations."""

from io import StringIO

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from .conftest import describe

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


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


@pytest.mark.parametrize("path", ["/", "/negotiations/russia-ukraine/", "/negotiations/nope/"])
def test_reader_pages_have_no_accessibility_violations(page, demo, path, axe_violations, errors):
    page.goto(demo + path)
    violations = axe_violations(page)
    assert violations == [], describe(violations)
    assert errors == [] or path == "/negotiations/nope/", errors  # the 404 logs its status


def test_reader_opens_a_negotiation_with_the_keyboard_alone(page, demo, errors):
    page.goto(demo + "/")
    link = page.get_by_role("link", name="Russia–Ukraine direct talks (2022 and 2025)")
    for _ in range(10):
        page.keyboard.press("Tab")
        if link.evaluate("element => element === document.activeElement"):
            break
    expect(link).to_be_focused()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith("/negotiations/russia-ukraine/")
    expect(
        page.get_by_role("heading", level=3, name="Third round: Belovezhskaya Pushcha")
    ).to_be_visible()
    expect(page.get_by_text("Humanitarian corridors: Partially agreed").first).to_be_visible()
    assert errors == []


@pytest.mark.parametrize(("name", "viewport"), [("desktop", DESKTOP), ("phone", PHONE)])
def test_timeline_screenshots(page, demo, screenshot, name, viewport):
    page.set_viewport_size(viewport)
    page.goto(demo + "/negotiations/russia-ukraine/")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= viewport["width"], "the timeline scrolls sideways"
    assert screenshot(page, f"timeline-{name}").stat().st_size > 0


def test_the_accessibility_check_does_catch_a_violation(page, demo, axe_violations):
    page.goto(demo + "/")
    page.evaluate("document.querySelector('main').append(document.createElement('input'))")
    assert "label" in {violation["id"] for violation in axe_violations(page)}
