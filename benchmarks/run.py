"""`make bench`: Parley's figures at scale, printed as a markdown table.

Runs in a throwaway database (Django's test database: `test_<name>` on PostgreSQL when
DATABASE_URL points there, a temporary SQLite file otherwise), so it never touches real data.
"""

import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import setup_databases, teardown_databases  # noqa: E402

from benchmarks.synthetic import generate_document  # noqa: E402
from negotiations.interchange import export_negotiation, import_negotiation  # noqa: E402
from negotiations.models import Negotiation  # noqa: E402


def timed(function, *args, **kwargs):
    start = time.perf_counter()
    result = function(*args, **kwargs)
    return result, time.perf_counter() - start


def bench_import(rounds: int) -> dict:
    text = json.dumps(
        generate_document(slug=f"bench-{rounds}", rounds=rounds), indent=2, ensure_ascii=False
    )
    text += "\n"
    result, imported = timed(import_negotiation, text)
    exported_text, exported = timed(export_negotiation, result.negotiation)
    _, replaced = timed(import_negotiation, exported_text, replace=True)
    rows = sum(result.counts.values())
    return {
        "rounds": rounds,
        "rows": rows,
        "import": imported,
        "export": exported,
        "replace": replaced,
        "identical": exported_text == text,
        "megabytes": len(text.encode()) / 1e6,
    }


def main() -> None:
    settings.DEBUG = False  # no query log: it would grow without bound
    sizes = [int(n) for n in os.environ.get("BENCH_ROUNDS", "100,10000").split(",")]
    old_config = setup_databases(verbosity=0, interactive=False)
    try:
        results = [bench_import(n) for n in sizes]
        assert Negotiation.objects.count() == len(sizes)
    finally:
        teardown_databases(old_config, verbosity=0)

    vendor = connection.vendor
    print(
        f"\n### Import and export ({vendor}, {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()})\n"
    )
    print(
        "| rounds | file (MB) | rows written (+ as many history rows) | import (s) "
        "| export (s) | replace (s) | export → import → export identical |"
    )
    print("| ---: | ---: | ---: | ---: | ---: | ---: | :---: |")
    for r in results:
        print(
            f"| {r['rounds']:,} | {r['megabytes']:.1f} | {r['rows']:,} | {r['import']:.2f} "
            f"| {r['export']:.2f} | {r['replace']:.2f} | {'yes' if r['identical'] else 'NO'} |"
        )
    per_round = statistics.mean(r["import"] / r["rounds"] for r in results) * 1000
    print(f"\nMean import cost: {per_round:.2f} ms per round.")


if __name__ == "__main__":
    main()
