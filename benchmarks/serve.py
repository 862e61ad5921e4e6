"""Parley over HTTP: gunicorn (2 workers, DEBUG=0) on loopback, serving the benchmark's
throwaway database, a bounded load generator, and the workers' memory afterwards.

(Not named http.py: that would shadow the standard library's http package.)
"""

import contextlib
import http.client
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
WORKERS = 2
SECONDS = float(os.environ.get("BENCH_SECONDS", "5"))
CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", "4"))


@dataclass
class Server:
    port: int
    pid: int

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


def database_url() -> str:
    """The throwaway database, as a DATABASE_URL for the server's processes."""
    name = settings.DATABASES["default"]["NAME"]
    if connection.vendor == "sqlite":
        return f"sqlite:///{name}"
    return urlsplit(os.environ["DATABASE_URL"])._replace(path=f"/{name}").geturl()


def server_environment() -> dict[str, str]:
    return {
        **os.environ,  # REDIS_URL, READER_CACHE_SECONDS and the like pass through
        "DEBUG": "0",
        "SECRET_KEY": "parley-benchmark-only-not-a-real-secret-key-0123456789",
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",  # plain HTTP on loopback
        "DATABASE_URL": database_url(),
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def redis():
    """The Redis the servers share for the reader cache, as production has: REDIS_URL's,
    or else a throwaway redis-server on a free port (None when there is neither)."""
    if os.environ.get("REDIS_URL"):
        yield os.environ["REDIS_URL"]
        return
    binary = shutil.which("redis-server")
    if binary is None:
        yield None
        return
    port = free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port)):
                break
            time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=10)


@contextlib.contextmanager
def gunicorn(redis_url: str | None = None):
    """Collect the static files (manifest storage needs them under DEBUG=0), start
    gunicorn, wait for /healthz, and stop it cleanly afterwards."""
    env = server_environment()
    if redis_url:
        env["REDIS_URL"] = redis_url
    subprocess.run(
        [BIN / "python", "manage.py", "collectstatic", "--no-input", "--verbosity", "0"],
        cwd=ROOT,
        env=env,
        check=True,
    )
    port = free_port()
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            [
                *(BIN / "gunicorn", "config.wsgi", "--workers", str(WORKERS)),
                *("--bind", f"127.0.0.1:{port}", "--no-control-socket"),
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            server = Server(port, process.pid)
            wait_until_up(server, process, log)
            yield server
        finally:
            process.terminate()
            process.wait(timeout=60)


def wait_until_up(server: Server, process: subprocess.Popen, log) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if request(server.port, "/healthz") == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    log.seek(0)
    raise RuntimeError(f"gunicorn did not answer /healthz:\n{log.read().decode()}")


def request(port: int, path: str) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def throughput(server: Server, path: str, seconds: float = SECONDS) -> float:
    """Requests per second for `seconds`, from CONCURRENCY clients that each send one
    request at a time on their own connection; every answer must be 200."""
    deadline = time.perf_counter() + seconds
    counts = [0] * CONCURRENCY
    errors: list[str] = []

    def client(i: int) -> None:
        # gunicorn's sync workers close each connection; http.client reopens it.
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        try:
            while time.perf_counter() < deadline and not errors:
                conn.request("GET", path)
                response = conn.getresponse()
                response.read()
                if response.status != 200:
                    errors.append(f"GET {path} answered {response.status}, not 200")
                    return
                counts[i] += 1
        except OSError as error:
            errors.append(f"GET {path}: {error}")
        finally:
            conn.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(CONCURRENCY)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    if errors:
        raise AssertionError(errors[0])
    return sum(counts) / elapsed


def measure(server: Server, paths: dict[str, str]) -> dict[str, float]:
    """Requests per second for each path, after a one-second warm-up of each."""
    for path in paths.values():
        throughput(server, path, seconds=1)
    return {name: throughput(server, path) for name, path in paths.items()}


def worker_rss(master_pid: int) -> list[float]:
    """Resident memory (MB) of each process whose parent is the gunicorn master."""
    sizes = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            fields = dict(
                line.split(":", 1) for line in (entry / "status").read_text().splitlines()
            )
        except (OSError, ValueError):
            continue
        if fields.get("PPid", "").strip() == str(master_pid) and "VmRSS" in fields:
            sizes.append(int(fields["VmRSS"].split()[0]) / 1024)
    return sorted(sizes)
