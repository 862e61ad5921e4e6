"""A bounded load test against the live server: fifty readers request the reader pages and
the read API for twenty seconds while an analyst, signed in through the sign-in form,
logs and publishes rounds one after another. No request may fail with a server error,
every save must redirect, and every saved round must be in the database afterwards.

It runs on PostgreSQL (DATABASE_URL=postgres://...) and on SQLite with a file test
database. SQLite's in-memory test database cannot serve concurrent requests (see
SHARED_CONNECTION and IN_MEMORY below): there the test fails, and says why."""

import logging
import re
import statistics
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from html.parser import HTMLParser
from http.cookiejar import CookieJar
from io import StringIO

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import call_command
from django.db import connection

from negotiations.models import Issue, Person, Round
from negotiations.roles import ANALYSTS, setup_roles

pytestmark = pytest.mark.django_db(transaction=True)

SLUG = "russia-ukraine"
READERS = 50
DURATION = 20.0  # seconds of reading, at least: the readers go on until the last save is in
SAVES = 5  # spread over DURATION; a save and a publish take ~4-6 s under this load
TIMEOUT = 20.0  # for one request (the slowest take ~8 s under this load)
GIVE_UP = 15.0  # the analyst starts no save later than this after the window
PASSWORD = "load-test-password"
FIRST_NEW = 12  # the demo has rounds 1 to 11

READER_PATHS = [
    "/",
    f"/negotiations/{SLUG}/",
    f"/negotiations/{SLUG}/rounds/1/",
    f"/negotiations/{SLUG}/rounds/7/",
    f"/negotiations/{SLUG}/rounds/11/",
    f"/negotiations/{SLUG}/rounds/{FIRST_NEW}/",  # 404 until the first logged round is published
    f"/negotiations/{SLUG}/issues/",
    f"/negotiations/{SLUG}/issues/ceasefire/",
    f"/negotiations/{SLUG}/issues/prisoner-exchange/",
    "/search/?q=ceasefire",
    "/search/?q=istanbul",
    f"/api/v1/negotiations/{SLUG}/rounds",
    f"/api/v1/negotiations/{SLUG}/rounds/3",
    f"/negotiations/{SLUG}/rounds/999/",  # always 404
]


# --- A small browser: forms, cookies, no redirects followed ---------------------------------


class FormFields(HTMLParser):
    """The (name, value) pairs a browser submits for one form, before any button is added:
    named inputs (ticked boxes only), the chosen options of selects, and textareas."""

    def __init__(self, form_id: str | None = None):
        super().__init__(convert_charrefs=True)
        self.form_id = form_id
        self.inside = False
        self.fields: list[tuple[str, str]] = []
        self._select = None  # (name, multiple, options)
        self._option = None  # [value, selected, text]
        self._textarea = None  # (name, chunks)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.inside = self.form_id is None or a.get("id") == self.form_id
            return
        name = a.get("name")
        if not self.inside or "disabled" in a:
            return
        if tag == "input" and name:
            kind = (a.get("type") or "text").lower()
            if kind in {"submit", "button", "image", "reset", "file"}:
                return
            if kind in {"checkbox", "radio"}:
                if "checked" in a:
                    self.fields.append((name, a.get("value") or "on"))
                return
            self.fields.append((name, a.get("value") or ""))
        elif tag == "select" and name:
            self._select = (name, "multiple" in a, [])
        elif tag == "option" and self._select is not None:
            self._option = [a.get("value"), "selected" in a, ""]
            self._select[2].append(self._option)
        elif tag == "textarea" and name:
            self._textarea = (name, [])

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea[1].append(data)
        elif self._option is not None:
            self._option[2] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "option":
            self._option = None
        elif tag == "textarea" and self._textarea is not None:
            name, chunks = self._textarea
            text = "".join(chunks)
            self.fields.append((name, text[1:] if text.startswith("\n") else text))
            self._textarea = None
        elif tag == "select" and self._select is not None:
            name, multiple, options = self._select
            chosen = [o for o in options if o[1]]
            if not chosen and not multiple and options:
                chosen = options[:1]
            self.fields += [(name, o[0] if o[0] is not None else o[2].strip()) for o in chosen]
            self._select = None


def form_fields(page: str, form_id: str | None = None) -> list[tuple[str, str]]:
    parser = FormFields(form_id)
    parser.feed(page)
    parser.close()
    assert parser.fields, f"no form {form_id or ''} on the page"
    return parser.fields


def put(fields: list[tuple[str, str]], **values: str) -> list[tuple[str, str]]:
    """Type values into the fields (replacing what the form had), as a browser user would."""
    kept = [(name, value) for name, value in fields if name not in values]
    return kept + list(values.items())


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a 3xx comes back as an HTTPError carrying its code


class Browser:
    """A signed-in user's browser: a cookie jar, and redirects left to the caller."""

    def __init__(self, base: str):
        self.base = base
        self.cookies = CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.cookies), _NoRedirects()
        )

    def request(self, path: str, fields=None) -> tuple[int, dict, str]:
        data = urllib.parse.urlencode(fields).encode() if fields is not None else None
        try:
            with self.opener.open(self.base + path, data=data, timeout=TIMEOUT) as response:
                return response.status, dict(response.headers), response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read().decode(errors="replace")

    def sign_in(self, username: str, password: str) -> None:
        status, _, page = self.request("/accounts/login/")
        assert status == 200, status
        token = dict(form_fields(page))["csrfmiddlewaretoken"]
        fields = [("csrfmiddlewaretoken", token), ("username", username), ("password", password)]
        status, _, page = self.request("/accounts/login/", fields)
        assert status == 302, f"sign-in refused ({status}): {page[:300]}"


# --- Readers ---------------------------------------------------------------------------------


class Results:
    def __init__(self):
        self.lock = threading.Lock()
        self.statuses: Counter = Counter()
        self.latencies: list[float] = []
        self.failures: list[str] = []  # 5xx (status and path) and connection errors

    def record(self, path: str, status: int | str, seconds: float, body: str = "") -> None:
        with self.lock:
            self.statuses[status] += 1
            self.latencies.append(seconds)
            if not isinstance(status, int):
                self.failures.append(f"{status} {path}: {body[:200]}")
            elif status >= 500:
                self.failures.append(f"{status} {path}")


def read_pages(
    base: str, results: Results, deadline: float, writing: threading.Event, offset: int
) -> None:
    """Request the reader pages in turn until the deadline has passed and the analyst is
    done, so that every save happens under load."""
    n = offset
    while time.monotonic() < deadline or writing.is_set():
        path = READER_PATHS[n % len(READER_PATHS)]
        n += 1
        started = time.monotonic()
        try:
            with urllib.request.urlopen(base + path, timeout=TIMEOUT) as response:
                response.read()
                status, body = response.status, ""
        except urllib.error.HTTPError as error:
            status, body = error.code, error.read().decode(errors="replace")
        except OSError as error:  # refused, reset, timed out
            status, body = type(error).__name__, str(error)
        results.record(path, status, time.monotonic() - started, body)


# --- The analyst ------------------------------------------------------------------------------


def log_rounds(browser: Browser, ids: dict, deadline: float, saved: list, problems: list) -> None:
    """Log SAVES rounds one after another, spread over the window, publishing each."""
    interval = (deadline - time.monotonic()) / SAVES
    for i in range(SAVES):
        started = time.monotonic()
        if started > deadline + GIVE_UP:
            problems.append(f"saves {i} to {SAVES - 1} not attempted: out of time")
            return
        new = f"/log/{SLUG}/rounds/new/"
        status, _, page = browser.request(new)
        if status != 200:
            problems.append(f"GET {new}: {status}")
            continue
        fields = form_fields(page, "round-form")
        number, token = int(dict(fields)["number"]), dict(fields)["csrfmiddlewaretoken"]
        fields = put(
            fields,
            title=f"Load round {i}",
            status="held",
            start_date=f"2026-01-{i + 1:02d}",
            location=f"Geneva, room {i}",
            summary=f"Logged under load, save {i}.",
            sources="new-0",
            **{
                "new_sources-0-url": f"https://wire.example.org/load/{i}",
                "new_sources-0-title": f"Load report {i}",
                "outcomes-0-status": "raised",
                "outcomes-0-text": f"Raised in load round {i}.",
                "statements-0-person": str(ids["speaker"]),
                "statements-0-text": f"Quote number {i}.",
                "action": "save",
            },
        )
        assert dict(fields)["outcomes-0-issue"] == str(ids["first_issue"])
        status, headers, page = browser.request(new, fields)
        saved.append((i, number, status, headers.get("Location")))
        if status != 302:
            problems.append(f"save {i} (round {number}): {status} {page[:500]!r}")
            continue
        status, _, _ = browser.request(
            f"/log/{SLUG}/rounds/{number}/publish/",
            [("csrfmiddlewaretoken", token), ("publish", "1")],
        )
        if status != 302:
            problems.append(f"publish round {number}: {status}")
        time.sleep(max(0.0, interval - (time.monotonic() - started)))


# --- The test -----------------------------------------------------------------------------------

SHARED_CONNECTION = (
    "The live server shares the test's in-memory SQLite connection with every request thread "
    "(pytest-django does so when its live server starts after the test database, as "
    "tests/browser/conftest.py arranges); concurrent requests on one sqlite3 connection "
    "deadlock, so this test would hang. Give SQLite a file test database "
    '(DATABASES["default"]["TEST"]["NAME"]) so that each thread has its own connection.'
)
IN_MEMORY = (
    "On SQLite's in-memory test database each request thread opens its own shared-cache "
    'connection, and those fail at once with "database table is locked" instead of waiting '
    "(the busy timeout does not apply to shared-cache locks). Production's file database "
    'waits; give SQLite a file test database too (DATABASES["default"]["TEST"]["NAME"]).'
)


def server_errors(caplog) -> list[str]:
    """What the server logged at ERROR: the cause of each 5xx, distinct, most frequent first."""
    causes = Counter()
    for record in caplog.records:
        if record.levelno >= logging.ERROR and record.name != "django.request":
            cause = record.getMessage()
            if record.exc_info:
                cause += f" ({record.exc_info[0].__name__}: {record.exc_info[1]})"
            causes[re.sub(r" to (GET|POST) \S+:", ":", cause)] += 1
    return [f"{count} × {cause}" for cause, count in causes.most_common()]


def test_readers_and_an_analyst_at_once_get_no_server_errors(live_server, caplog):
    assert not live_server.thread.connections_override, SHARED_CONNECTION
    call_command("load_demo", stdout=StringIO())
    setup_roles()
    analyst = User.objects.create_user("loader", "loader@example.org", PASSWORD)
    analyst.groups.add(Group.objects.get(name=ANALYSTS))
    ids = {
        "speaker": Person.objects.get(slug="andriy-yermak").pk,
        "first_issue": Issue.objects.filter(negotiation__slug=SLUG).order_by("order").first().pk,
    }
    base = live_server.url
    browser = Browser(base)
    browser.sign_in("loader", PASSWORD)

    results, saved, problems = Results(), [], []
    started = time.monotonic()
    deadline = started + DURATION
    writing = threading.Event()
    writing.set()

    def write() -> None:
        try:
            log_rounds(browser, ids, deadline, saved, problems)
        except Exception as error:  # reported by the assertions below
            problems.append(f"the analyst stopped: {error!r}")
        finally:
            writing.clear()

    readers = [
        threading.Thread(target=read_pages, args=(base, results, deadline, writing, n), daemon=True)
        for n in range(READERS)
    ]
    writer = threading.Thread(target=write, daemon=True)
    for thread in [*readers, writer]:
        thread.start()
    writer.join(timeout=DURATION + GIVE_UP + 4 * TIMEOUT)
    for thread in readers:
        thread.join(timeout=2 * TIMEOUT)
    elapsed = time.monotonic() - started
    assert not any(thread.is_alive() for thread in [*readers, writer]), "a thread hung"

    requests = sum(results.statuses.values())
    p95 = statistics.quantiles(results.latencies, n=20)[-1] if len(results.latencies) > 1 else 0
    print(
        f"\n{requests} reader requests by {READERS} threads in {elapsed:.1f} s "
        f"({requests / elapsed:.0f}/s); statuses: {dict(sorted(results.statuses.items(), key=str))}"
        f"; latency p50 {statistics.median(results.latencies) * 1000:.0f} ms, "
        f"p95 {p95 * 1000:.0f} ms, max {max(results.latencies) * 1000:.0f} ms; "
        f"analyst saves: {dict(Counter(status for _, _, status, _ in saved))}"
    )

    errors = server_errors(caplog)
    hint = IN_MEMORY if connection.vendor == "sqlite" and connection.is_in_memory_db() else ""
    assert Counter(results.failures) == {}, (
        f"{len(results.failures)} of {requests} reader requests failed; the server logged:\n"
        + "\n".join(errors[:10])
        + f"\n{hint}"
    )
    assert problems == [], "\n".join([*problems, *errors[:10], hint])
    assert requests >= READERS
    assert set(results.statuses) <= {200, 301, 302, 304, 404}
    assert [status for _, _, status, _ in saved] == [302] * SAVES
    numbers = [number for _, number, _, _ in saved]
    assert numbers == list(range(FIRST_NEW, FIRST_NEW + SAVES))
    for i, number, _, location in saved:
        assert location == f"/log/{SLUG}/rounds/{number}/"
        round_ = Round.objects.get(negotiation__slug=SLUG, number=number)
        assert (round_.title, round_.summary, round_.location, round_.published) == (
            f"Load round {i}",
            f"Logged under load, save {i}.",
            f"Geneva, room {i}",
            True,
        )
        assert round_.start_date.isoformat() == f"2026-01-{i + 1:02d}"
        assert [s.url for s in round_.sources.all()] == [f"https://wire.example.org/load/{i}"]
        outcome = round_.outcomes.get()
        assert (outcome.issue_id, outcome.status, outcome.text) == (
            ids["first_issue"],
            "raised",
            f"Raised in load round {i}.",
        )
        statement = round_.statements.get()
        assert (statement.person_id, statement.text) == (ids["speaker"], f"Quote number {i}.")
