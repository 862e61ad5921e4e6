"""Database outages: while the database is down, /healthz answers 503 and pages show a friendly
503 page; when it comes back, the app recovers without a restart.

The unit tests make every database access fail (``ensure_connection`` raises), so they also
prove the 503 page is rendered without the database. The end-to-end test starts its own
throwaway PostgreSQL cluster (own data directory, own port, 127.0.0.1 only), serves Parley from
it with gunicorn, stops and restarts the cluster under the running server, and removes
everything afterwards. It never touches the database the rest of the suite uses, and needs no
``db`` fixture.
"""

import contextlib
import json
import logging
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from unittest import mock

import pytest
from django.conf import settings as django_settings
from django.db import OperationalError, ProgrammingError
from django.db.backends.base.base import BaseDatabaseWrapper
from django.http import HttpResponse
from django.test import Client
from django.urls import include, path

from .processes import Deadline, environment, free_port, start, tail

BASE_DIR = Path(__file__).resolve().parent.parent
FRIENDLY = "Parley is briefly unavailable"
MIDDLEWARE = "negotiations.outage.DatabaseOutageMiddleware"


# ---- the middleware, with the database made unreachable in-process --------------------------


def _session_writer(request):
    request.session["seen"] = True  # saved by SessionMiddleware on the way out
    return HttpResponse("ok")


# Used by the tests marked ``urls(__name__)``: the site, plus a view whose only database access
# happens inside a middleware (the session save), after the view has returned.
urlpatterns = [
    path("outage-test/session/", _session_writer),
    path("", include("config.urls")),
]


@pytest.fixture
def database_down():
    """Every attempt to use the database fails as if the server were down."""
    error = OperationalError('connection to server at "127.0.0.1", port 5432 failed: refused')
    with mock.patch.object(BaseDatabaseWrapper, "ensure_connection", side_effect=error) as down:
        yield down


def _assert_friendly_503(response, down=None):
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert "no-cache" in response["Cache-Control"]
    assert response["Content-Type"].startswith("text/html")
    body = response.content.decode()
    assert FRIENDLY in body
    assert "Traceback" not in body
    assert "OperationalError" not in body
    if down is not None:
        assert down.called, "the request never reached the database"


def test_middleware_is_installed_right_after_security_middleware():
    assert MIDDLEWARE in django_settings.MIDDLEWARE, (
        f"add {MIDDLEWARE!r} to MIDDLEWARE in config/settings.py, "
        "right after 'django.middleware.security.SecurityMiddleware'"
    )
    position = django_settings.MIDDLEWARE.index(MIDDLEWARE)
    assert django_settings.MIDDLEWARE[position - 1] == (
        "django.middleware.security.SecurityMiddleware"
    )


def test_a_page_answers_503_while_the_database_is_down(client, database_down, caplog):
    with caplog.at_level(logging.ERROR, logger="negotiations.outage"):
        response = client.get("/")
    _assert_friendly_503(response, database_down)
    body = response.content.decode()
    assert "try again in a minute" in body
    assert 'href="/"' in body  # "Try this page again"
    assert "/static/css/parley.css" in body
    assert "<script" not in body and "style=" not in body  # nothing the strict CSP would block
    assert "default-src 'self'" in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"
    [record] = [r for r in caplog.records if r.name == "negotiations.outage"]
    assert "GET /" in record.getMessage()
    assert "OperationalError" in record.getMessage()


def test_a_negotiation_page_for_a_signed_in_reader(client, database_down):
    client.cookies["sessionid"] = "a" * 32  # the session (and so the user) is in the database
    response = client.get("/negotiations/some-talks/?page=2")
    _assert_friendly_503(response, database_down)
    assert 'href="/negotiations/some-talks/?page=2"' in response.content.decode()


def test_a_form_post_says_it_may_not_have_been_saved(client, database_down):
    response = client.post("/accounts/login/", {"username": "anna", "password": "secret"})
    _assert_friendly_503(response, database_down)
    body = response.content.decode()
    assert "may not have been saved" in body
    assert "Try this page again" not in body


def test_json_clients_get_json(client, database_down):
    response = client.get("/", headers={"Accept": "application/json"})
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert response.json()["status"] == "unavailable"


def test_healthz_answers_503_json(client, database_down):
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "unreachable"}


@pytest.mark.urls(__name__)
def test_a_failure_inside_another_middleware_is_a_503_too(database_down):
    # The session is saved by SessionMiddleware after the view; Django turns that error into
    # a 500 before it reaches the outage middleware, which swaps it for the 503.
    client = Client(raise_request_exception=False)
    response = client.get("/outage-test/session/")
    _assert_friendly_503(response, database_down)


def test_a_programming_error_is_not_hidden_behind_a_503(client):
    error = ProgrammingError('relation "negotiations_negotiation" does not exist')
    with mock.patch.object(BaseDatabaseWrapper, "ensure_connection", side_effect=error):
        with pytest.raises(ProgrammingError):
            client.get("/")
        response = Client(raise_request_exception=False).get("/")
    assert response.status_code == 500
    assert "Retry-After" not in response
    assert FRIENDLY not in response.content.decode()


# ---- end to end: a real PostgreSQL cluster stopped and restarted under a running server ------

TIME_LIMIT = 60  # seconds for the whole end-to-end test, cluster set-up and clean-up included


def _installed_pg_bin() -> Path:
    """The newest PostgreSQL server binaries Debian installed (15 on this machine)."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: p.parts)
    return found[-1].parent if found else Path("/usr/lib/postgresql/15/bin")


PG_BIN = Path(os.environ.get("PARLEY_PG_BIN") or _installed_pg_bin())
AS_ROOT = os.geteuid() == 0  # initdb and postgres refuse to run as root


class Cluster:
    """A throwaway PostgreSQL cluster in ``base``: trust auth, 127.0.0.1 only, fsync off."""

    def __init__(self, base: Path, deadline: Deadline):
        self.base = base
        self.data = base / "data"
        self.log = base / "postgres.log"
        self.port = free_port()
        self.deadline = deadline
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/parley"

    @staticmethod
    def command(program: str, *args: str) -> list[str]:
        command = [str(PG_BIN / program), *args]
        return ["runuser", "-u", "postgres", "--", *command] if AS_ROOT else command

    def _run(self, *args: str, timeout: float = 30) -> None:
        result = subprocess.run(
            self.command(*args),
            cwd=self.base,
            env=environment(),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=self.deadline.left(timeout),
        )
        assert result.returncode == 0, (
            f"{' '.join(args)} failed:\n{result.stdout}\n{result.stderr}\n{tail(self.log)}"
        )

    def init(self) -> None:
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "--auth=trust",
            "--username=postgres",
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",
            "--no-instructions",
        )

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.base} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "start")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop", timeout=10)

    def create_database(self) -> None:
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "parley")

    def kill(self) -> None:
        """Clean-up: stop the cluster if it is still running, however the test ended."""
        pid_file = self.data / "postmaster.pid"
        if not pid_file.exists():
            return
        stop = self.command("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        subprocess.run(stop, env=environment(), capture_output=True, timeout=15, check=False)
        if pid_file.exists():  # pg_ctl could not stop it: kill the postmaster outright
            with contextlib.suppress(OSError, ValueError, IndexError):
                os.kill(int(pid_file.read_text().split()[0]), signal.SIGKILL)


def _requirements() -> None:
    missing = [name for name in ("initdb", "pg_ctl", "createdb") if not (PG_BIN / name).is_file()]
    if missing:
        pytest.fail(
            f"PostgreSQL server binaries missing from {PG_BIN} ({', '.join(missing)}); install "
            "postgresql-15 (or set PARLEY_PG_BIN to the directory holding initdb and pg_ctl)"
        )
    if AS_ROOT:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            pytest.fail(
                "running as root, and PostgreSQL refuses to run as root: the test runs it as "
                "the 'postgres' OS user, which does not exist (install postgresql, or run the "
                "tests as an ordinary user)"
            )
        if not shutil.which("runuser"):
            pytest.fail("running as root needs `runuser` (util-linux) to start PostgreSQL")


class Server:
    """Parley under gunicorn: one sync worker, persistent database connections."""

    def __init__(self, base: Path, database_url: str, deadline: Deadline):
        self.base = base
        self.port = free_port()
        self.log = base / "gunicorn.log"
        self.deadline = deadline
        self.process: subprocess.Popen | None = None
        self.env = environment(
            DEBUG="1",  # without the middleware an outage would show Django's traceback page
            DATABASE_URL=database_url,
            CONN_MAX_AGE="60",  # keep connections across requests: they go stale in the outage
            DJANGO_SETTINGS_MODULE="config.settings",
            LOG_LEVEL="WARNING",
            PYTHONUNBUFFERED="1",
            # The pages must reach the database: the reader cache would answer them from
            # memory all through the outage (tests/test_reader_cache.py covers the cache).
            READER_CACHE_SECONDS="0",
        )

    def manage(self, *args: str) -> None:
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=BASE_DIR,
            env=self.env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=self.deadline.left(40),
        )
        assert result.returncode == 0, f"manage.py {' '.join(args)}:\n{result.stderr}"

    def start(self) -> None:
        bind = f"--bind=127.0.0.1:{self.port}"
        options = [bind, "--workers=1", "--timeout=30", "--no-control-socket"]
        self.process = start(
            [sys.executable, "-m", "gunicorn", "config.wsgi", *options],
            self.log,
            cwd=BASE_DIR,
            env=self.env,
        )
        end = time.monotonic() + self.deadline.left(20)
        while time.monotonic() < end:
            assert self.process.poll() is None, f"gunicorn exited:\n{tail(self.log)}"
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.1)
        pytest.fail(f"gunicorn did not start listening:\n{tail(self.log)}")

    def workers(self) -> set[int]:
        assert self.process is not None
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return set(map(int, children.read_text().split())) if children.exists() else set()

    def get(self, path: str) -> tuple[int, dict[str, str], str]:
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}")
        try:
            with urllib.request.urlopen(request, timeout=self.deadline.left(10)) as response:
                return response.status, dict(response.headers), response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read().decode()

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=5)


@pytest.fixture
def outage_stack() -> Iterator[tuple[Cluster, Server]]:
    _requirements()
    deadline = Deadline(TIME_LIMIT - 5, "the outage test")  # leave time for the clean-up
    base = Path(tempfile.mkdtemp(prefix="parley-outage-", dir="/tmp" if AS_ROOT else None))
    cluster = Cluster(base, deadline)
    server = Server(base, cluster.url, deadline)
    try:
        if AS_ROOT:
            shutil.chown(base, user="postgres", group="postgres")
        cluster.init()
        cluster.start()
        cluster.create_database()
        server.manage("migrate", "--no-input")
        server.manage("load_demo")
        server.start()
        yield cluster, server
    finally:
        server.stop()
        cluster.kill()
        shutil.rmtree(base, ignore_errors=True)


def test_outage_and_recovery_against_a_throwaway_postgresql(outage_stack):
    started = time.monotonic()
    cluster, server = outage_stack
    pages = ["/", "/negotiations/russia-ukraine/"]

    def logs() -> str:
        return f"\n--- gunicorn ---\n{tail(server.log)}\n--- postgres ---\n{tail(cluster.log)}"

    status, _, body = server.get("/healthz")
    assert (status, json.loads(body)["status"]) == (200, "ok"), logs()
    for page in pages:
        assert server.get(page)[0] == 200, f"{page}{logs()}"
    workers = server.workers()

    cluster.stop()

    status, headers, body = server.get("/healthz")
    assert status == 503, logs()
    assert json.loads(body) == {"status": "unavailable", "database": "unreachable"}
    for page in pages:
        status, headers, body = server.get(page)
        assert status == 503, f"{page}: {status}{logs()}"
        assert headers["Retry-After"] == "30"
        assert FRIENDLY in body, body
        assert "Traceback" not in body and "OperationalError" not in body
    assert "Database unavailable, answered 503 to GET /" in server.log.read_text()

    cluster.start()

    end = time.monotonic() + 10
    while (status := server.get("/healthz")[0]) != 200 and time.monotonic() < end:
        time.sleep(0.2)
    assert status == 200, f"/healthz still {status} after the database came back{logs()}"
    for page in pages:
        assert server.get(page)[0] == 200, f"{page} after recovery{logs()}"
    assert server.process.poll() is None, "the app server must not have restarted"
    assert server.workers() == workers, "the gunicorn worker was replaced instead of recovering"
    assert time.monotonic() - started < TIME_LIMIT
