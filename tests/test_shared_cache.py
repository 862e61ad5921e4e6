"""Two app servers sharing one Redis see each other's invalidations of the reader cache.

End to end, like tests/test_outage.py: a throwaway ``redis-server`` (own port, 127.0.0.1
only, nothing written to disk), a SQLite file with the demo negotiation, and two gunicorn
servers, A and B, on both. A page rendered by A is served from the cache by B; an analyst
who unpublishes a round on B makes A render the timeline again without it, and publishing
it again on B brings it back on A. Everything is removed afterwards; the outer test
database (SQLite or PostgreSQL) is never touched, and no ``db`` fixture is needed.
"""

import http.client
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Iterator
from http.cookies import SimpleCookie
from pathlib import Path

import pytest

from .processes import Deadline, environment, free_port, start, tail

BASE_DIR = Path(__file__).resolve().parent.parent
TIME_LIMIT = 60  # seconds for the whole test, set-up and clean-up included
# Behind a load balancer both servers are asked for the same public name; the cache key
# includes the host, so the test sends the same one to both.
HOST = "parley.test"
SLUG = "russia-ukraine"
TIMELINE = f"/negotiations/{SLUG}/"
ANALYST, PASSWORD = "shared-cache-analyst", "a long test password 4711"


def _stop(*processes: subprocess.Popen | None) -> None:
    """Stop processes started in sessions of their own, and everything they started: all
    signalled first, then waited for (gunicorn takes a second or so to shut down)."""
    running = [p for p in processes if p is not None and p.poll() is None]
    for process in running:
        os.killpg(process.pid, signal.SIGTERM)
    for process in running:
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)


class Redis:
    """A throwaway redis-server: 127.0.0.1 only, no persistence."""

    def __init__(self, base: Path, deadline: Deadline):
        self.port = free_port()
        self.log = base / "redis.log"
        self.base = base
        self.deadline = deadline
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.fail(
                "redis-server is not installed: `make install` installs it "
                "(or: sudo apt-get install redis-server)"
            )
        command = [binary, "--port", str(self.port), "--bind", "127.0.0.1"]
        command += ["--save", "", "--appendonly", "no", "--dir", str(self.base)]
        self.process = start(command, self.log, cwd=self.base)
        end = time.monotonic() + self.deadline.left(10)
        while time.monotonic() < end:
            assert self.process.poll() is None, f"redis-server exited:\n{tail(self.log)}"
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(64).startswith(b"+PONG"):
                        return
            except OSError:
                pass
            time.sleep(0.05)
        pytest.fail(f"redis-server did not answer PING:\n{tail(self.log)}")


class Server:
    """Parley under gunicorn, one sync worker, on the shared database and Redis."""

    def __init__(self, name: str, base: Path, env: dict[str, str], deadline: Deadline):
        self.name = name
        self.port = free_port()
        self.log = base / f"gunicorn-{name}.log"
        self.env = env
        self.deadline = deadline
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        options = [
            f"--bind=127.0.0.1:{self.port}",
            "--workers=1",
            "--timeout=30",
            "--no-control-socket",
            "--access-logfile=-",  # each request in the log that failures show
        ]
        self.process = start(
            [sys.executable, "-m", "gunicorn", "config.wsgi", *options],
            self.log,
            cwd=BASE_DIR,
            env=self.env,
        )

    def wait_until_listening(self) -> None:
        assert self.process is not None
        end = time.monotonic() + self.deadline.left(20)
        while time.monotonic() < end:
            assert self.process.poll() is None, f"gunicorn {self.name} exited:\n{tail(self.log)}"
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.05)
        pytest.fail(f"gunicorn {self.name} did not start listening:\n{tail(self.log)}")


class Response:
    def __init__(self, server: Server, method: str, path: str, raw: http.client.HTTPResponse):
        self.request = f"{method} {path} on {server.name}"
        self.status = raw.status
        self.headers = raw.headers
        self.text = raw.read().decode()

    @property
    def cache(self) -> str | None:
        return self.headers.get("X-Cache")

    def without_nonce(self) -> str:
        nonce = re.search(r"'nonce-([^']+)'", self.headers.get("Content-Security-Policy", ""))
        return self.text.replace(nonce.group(1), "") if nonce else self.text


class Browser:
    """An HTTP client for one server with a cookie jar of its own (no redirects followed)."""

    def __init__(self, server: Server):
        self.server = server
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, form: dict[str, str] | None = None) -> Response:
        headers = {"Host": HOST}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Origin"] = f"http://{HOST}"
        timeout = self.server.deadline.left(15)
        connection = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=timeout)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = Response(self.server, method, path, connection.getresponse())
        finally:
            connection.close()
        for header in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                if morsel.value and morsel["max-age"] != "0":
                    self.cookies[name] = morsel.value
                else:
                    self.cookies.pop(name, None)
        return response

    def get(self, path: str) -> Response:
        return self.request("GET", path)

    def post(self, path: str, form: dict[str, str]) -> Response:
        return self.request(
            "POST", path, {"csrfmiddlewaretoken": self.cookies["csrftoken"], **form}
        )

    def sign_in(self, username: str, password: str) -> Response:
        page = self.get("/accounts/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        assert page.status == 200 and token and "csrftoken" in self.cookies, page.text[:2000]
        form = {"csrfmiddlewaretoken": token.group(1), "username": username, "password": password}
        return self.request("POST", "/accounts/login/", form)


@pytest.fixture(scope="module")
def stack() -> Iterator[tuple[Redis, Server, Server]]:
    deadline = Deadline(TIME_LIMIT - 5, "the shared cache test")  # leave time for the clean-up
    base = Path(tempfile.mkdtemp(prefix="parley-shared-cache-"))
    redis = Redis(base, deadline)
    env = environment(
        DEBUG="1",
        ALLOWED_HOSTS=HOST,
        DATABASE_URL=f"sqlite:///{base / 'parley.sqlite3'}",
        REDIS_URL=redis.url,
        READER_CACHE_SECONDS="600",
        CONN_MAX_AGE="0",
        DJANGO_SETTINGS_MODULE="config.settings",
        LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
    )
    a, b = Server("A", base, env, deadline), Server("B", base, env, deadline)

    def manage(*args: str) -> None:
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=BASE_DIR,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=deadline.left(40),
        )
        assert result.returncode == 0, f"manage.py {' '.join(args)}:\n{result.stderr}"

    try:
        redis.start()
        # One process for the whole set-up: each manage.py start costs seconds.
        manage(
            "shell",
            "-c",
            "from django.contrib.auth import get_user_model\n"
            "from django.contrib.auth.models import Group\n"
            "from django.core.management import call_command\n"
            "from negotiations.roles import ANALYSTS\n"
            "call_command('migrate', interactive=False, verbosity=0)\n"
            "call_command('setup_roles', verbosity=0)\n"
            "call_command('load_demo', verbosity=0)\n"
            f"user = get_user_model().objects.create_user({ANALYST!r}, password={PASSWORD!r})\n"
            "user.groups.add(Group.objects.get(name=ANALYSTS))\n",
        )
        a.start()
        b.start()
        a.wait_until_listening()
        b.wait_until_listening()
        yield redis, a, b
    finally:
        _stop(a.process, b.process, redis.process)
        shutil.rmtree(base, ignore_errors=True)


def _published_round(timeline: Response) -> tuple[int, str]:
    """The number and (escaped) title of the first round the timeline lists."""
    found = re.search(r'<h3 id="round-(\d+)-title"><a href="[^"]*">([^<]+)</a></h3>', timeline.text)
    assert found, f"no round on the timeline:\n{timeline.text[:3000]}"
    return int(found.group(1)), found.group(2)


def test_two_app_servers_sharing_redis_see_each_others_invalidations(stack):
    redis, a, b = stack
    reader_a, reader_b, analyst_b = Browser(a), Browser(b), Browser(b)

    def logs() -> str:
        return "".join(
            f"\n--- {name} ---\n{tail(log)}"
            for name, log in [("gunicorn A", a.log), ("gunicorn B", b.log), ("redis", redis.log)]
        )

    def check(response: Response, status: int, cache: str | None) -> Response:
        assert (response.status, response.cache) == (status, cache), (
            f"{response.request}: got {response.status}, X-Cache {response.cache!r}; "
            f"expected {status}, X-Cache {cache!r}{logs()}"
        )
        return response

    # A renders the timeline; B serves A's page from the shared cache.
    first = check(reader_a.get(TIMELINE), 200, "miss")
    second = check(reader_b.get(TIMELINE), 200, "hit")
    assert second.without_nonce() == first.without_nonce(), "B served a different page"
    assert second.headers["ETag"] == first.headers["ETag"]
    number, title = _published_round(first)
    round_page = f"/negotiations/{SLUG}/rounds/{number}/"
    heading = f'id="round-{number}-title"'
    check(reader_a.get(round_page), 200, "miss")
    check(reader_b.get(round_page), 200, "hit")

    # An analyst signs in on B; signed-in requests bypass the cache.
    signed_in = analyst_b.sign_in(ANALYST, PASSWORD)
    assert signed_in.status == 302 and "sessionid" in analyst_b.cookies, (
        f"sign-in on B failed: {signed_in.status}\n{signed_in.text[:2000]}{logs()}"
    )
    check(analyst_b.get(TIMELINE), 200, None)

    # Unpublished on B: gone from A's timeline and round page at once.
    publish = f"/log/{SLUG}/rounds/{number}/publish/"
    check(analyst_b.post(publish, {"publish": "0"}), 302, None)
    after = check(reader_a.get(TIMELINE), 200, "miss")
    assert heading not in after.text and title not in after.text, (
        f"round {number} ({title}) still on A's timeline after B unpublished it{logs()}"
    )
    check(reader_a.get(round_page), 404, None)
    hidden = check(reader_b.get(TIMELINE), 200, "hit")
    assert heading not in hidden.text

    # Published again on B: back on A, and A's new page is what B serves.
    check(analyst_b.post(publish, {"publish": "1"}), 302, None)
    again = check(reader_a.get(TIMELINE), 200, "miss")
    assert heading in again.text and title in again.text, (
        f"round {number} ({title}) missing from A's timeline after B published it{logs()}"
    )
    shown = check(reader_b.get(TIMELINE), 200, "hit")
    assert heading in shown.text and title in shown.text
    check(reader_a.get(round_page), 200, "miss")
    check(analyst_b.get(round_page), 200, None)
