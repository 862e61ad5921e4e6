"""Playwright drives Debian's Chromium against pytest-django's live server."""

import json
import os
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop; Django's ORM must still be usable in tests.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": os.environ.get("CHROMIUM", "/usr/bin/chromium"),
        "args": [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }


@pytest.fixture
def axe_violations():
    """Run axe-core in the page; return its violations (WCAG 2.1 A and AA rules)."""

    def check(page) -> list[dict]:
        # evaluate() is not subject to the page's Content Security Policy, which (rightly)
        # refuses an injected inline script.
        page.evaluate(AXE.read_text(encoding="utf-8"))
        result = page.evaluate(
            "async () => await axe.run(document, {runOnly: "
            "{type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}})"
        )
        return [
            {"id": v["id"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"]][:5]}
            for v in result["violations"]
        ]

    return check


@pytest.fixture
def screenshot():
    """Save a screenshot as a test artifact (test-artifacts/NAME.png)."""

    def save(page, name: str) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return save


def describe(violations: list[dict]) -> str:
    return json.dumps(violations, indent=2)


@pytest.fixture(scope="session")
def _no_stray_connections(django_db_setup, django_db_blocker):
    """Once the live server has stopped, end the database sessions left open in other
    threads and contexts (Playwright's greenlets each get their own Django connection),
    so that PostgreSQL can drop the test database."""
    yield
    from django.db import connection

    if connection.vendor == "postgresql":
        with django_db_blocker.unblock(), connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        connection.close()


@pytest.fixture(scope="session")
def live_server(django_db_setup, _no_stray_connections, live_server):
    """pytest-django's live server, set up after (so stopped before) the test database
    and the clean-up above."""
    return live_server
