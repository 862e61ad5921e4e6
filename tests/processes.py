"""Helpers for the tests that start real servers as subprocesses (test_outage: gunicorn
on a throwaway PostgreSQL; test_shared_cache: two gunicorns on one throwaway Redis)."""

import os
import socket
import subprocess
import time
from pathlib import Path

import pytest


class Deadline:
    """A time limit for a whole test: each wait takes what is left, at most `cap`."""

    def __init__(self, seconds: float, what: str):
        self.end = time.monotonic() + seconds
        self.seconds, self.what = seconds, what

    def left(self, cap: float) -> float:
        left = self.end - time.monotonic()
        if left <= 0:
            pytest.fail(f"{self.what} took longer than {self.seconds:g} s")
        return min(cap, left)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def environment(**extra: str) -> dict[str, str]:
    """This process's environment without anything naming another database server or
    cache (the suite's own DATABASE_URL, libpq's PG* variables, a shared cache)."""
    local = {"DATABASE_URL", "REDIS_URL", "CONN_MAX_AGE", "SECRET_KEY", "ALLOWED_HOSTS"}
    env = {k: v for k, v in os.environ.items() if k not in local and not k.startswith("PG")}
    return {**env, **extra}


def tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def start(command: list, log: Path, **kwargs) -> subprocess.Popen:
    """Start a server in a session of its own (so that it can be stopped with all its
    children), its output written to `log`."""
    with log.open("w") as out:
        return subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            **kwargs,
        )
