"""`make bench`: Parley's figures at scale, as a markdown report with a mark per target.

Runs in a throwaway database (Django's test database: `test_<name>` on PostgreSQL when
DATABASE_URL points there, a temporary SQLite file otherwise), so it never touches real
data. It imports synthetic negotiations of 100 and 10,000 rounds and 200 of 20 rounds,
times the reader pages in process, serves them with gunicorn to time them over HTTP and,
where Chromium is installed, loads the 10,000-round timeline in it. The report is printed
and written to benchmarks/latest.md; progress goes to stderr. The exit status is 0 even
when a target is missed: the report says which.

Settings: BENCH_ROUNDS (two sizes, default 100,10000), BENCH_REPEAT (timed requests per
page, 30), BENCH_SECONDS and BENCH_CONCURRENCY (HTTP load, 5 s and 4 clients),
BENCH_BROWSER_RUNS (5).
"""

import os
import platform
import sqlite3
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[0] = str(ROOT)  # the project, not benchmarks/, so nothing here shadows a module
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# Measure what production runs: DEBUG off (no template debugging, hashed static files),
# whatever `make`'s local default says; plain HTTP on loopback.
os.environ.update(
    DEBUG="0",
    SECRET_KEY=os.environ.get("BENCH_SECRET_KEY", "parley-benchmark-only-not-a-real-secret-0123"),
    ALLOWED_HOSTS="testserver,127.0.0.1",
    SECURE_SSL_REDIRECT="0",
)

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import setup_databases, teardown_databases  # noqa: E402
from django.urls import reverse  # noqa: E402

from benchmarks import browser, data, pages, report, serve  # noqa: E402
from negotiations.models import Negotiation  # noqa: E402

MANY = 200  # small negotiations, on the home page and in search
MANY_ROUNDS = 20
OUTPUT = ROOT / "benchmarks" / "latest.md"


def log(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


def machine() -> dict:
    cpuinfo = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    cpu = next(
        (line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if "model name" in line),
        platform.processor() or platform.machine(),
    )
    meminfo = Path("/proc/meminfo").read_text() if Path("/proc/meminfo").exists() else ""
    ram_kb = next((int(line.split()[1]) for line in meminfo.splitlines() if "MemTotal" in line), 0)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            database = f"PostgreSQL {cursor.fetchone()[0].split()[0]}"
    else:
        database = f"SQLite {sqlite3.sqlite_version}"
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "ram_gb": ram_kb / 1024**2,
        "database": database,
        "python": platform.python_version(),
        "django": django.get_version(),
    }


def main() -> None:
    settings.DEBUG = False  # no query log (it would grow without bound), production errors
    # The hashed static files the pages link, as `make serve` collects them.
    call_command("collectstatic", interactive=False, verbosity=0)
    sizes = [int(n) for n in os.environ.get("BENCH_ROUNDS", "100,10000").split(",")]
    if len(sizes) != 2:
        raise SystemExit("BENCH_ROUNDS takes two sizes, e.g. 100,10000")
    old_config = setup_databases(verbosity=0, interactive=False)
    try:
        facts = machine()
        imported = []
        for rounds in sizes:
            log(f"importing, exporting and replacing {rounds:,} rounds")
            imported.append(data.bench_import(rounds))
        log(f"importing {MANY} negotiations of {MANY_ROUNDS} rounds")
        many = data.import_many(MANY, MANY_ROUNDS)
        data.analyze()
        assert Negotiation.objects.count() == MANY + 2
        large = Negotiation.objects.get(slug=imported[-1]["slug"])

        log("timing the reader pages in process")
        timings = pages.measure([Negotiation.objects.get(slug=r["slug"]) for r in imported])

        log("serving with gunicorn")
        paths = {
            "healthz": reverse("healthz"),
            "timeline": reverse("negotiation", args=[large.slug]),
            "board": reverse("board", args=[large.slug]),
        }
        with serve.redis() as redis_url, serve.gunicorn(redis_url) as server:
            log("load over HTTP")
            rates = serve.measure(server, paths)
            log("loading the timeline in Chromium")
            seen = browser.measure(server.url(paths["timeline"]))
            rss = serve.worker_rss(server.pid)
    finally:
        teardown_databases(old_config, verbosity=0)

    out = report.Report()
    report.machine(out, facts)
    report.pages(out, timings, sizes, MANY)
    report.imports(out, imported, many)
    report.http(out, rates, paths, rss, cached=redis_url is not None)
    report.browser(out, seen, f"the timeline at {sizes[-1]:,} rounds")
    text = out.text()
    print(text)
    OUTPUT.write_text(text)


if __name__ == "__main__":
    main()
