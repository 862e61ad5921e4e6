"""The benchmark's data: synthetic parley/1 documents, imported and timed."""

import json
import time

from django.db import connection

from benchmarks.synthetic import generate_document
from negotiations.interchange import export_negotiation, import_negotiation


def timed(function, *args, **kwargs):
    start = time.perf_counter()
    result = function(*args, **kwargs)
    return result, time.perf_counter() - start


def as_text(document: dict) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def bench_import(rounds: int) -> dict:
    """Import one negotiation of `rounds` rounds, export it, and import the export over it.

    Each size has parties and people of its own, so that a person's page shows only the
    rounds of that size."""
    text = as_text(
        generate_document(slug=f"bench-{rounds}", rounds=rounds, shared_prefix=f"r{rounds}")
    )
    result, imported = timed(import_negotiation, text)
    exported_text, exported = timed(export_negotiation, result.negotiation)
    _, replaced = timed(import_negotiation, exported_text, replace=True)
    return {
        "slug": f"bench-{rounds}",
        "rounds": rounds,
        "rows": sum(result.counts.values()),
        "import": imported,
        "export": exported,
        "replace": replaced,
        "identical": exported_text == text,
        "megabytes": len(text.encode()) / 1e6,
    }


def import_many(count: int, rounds: int) -> dict:
    """`count` small negotiations sharing their parties and people; the time of all imports."""
    start = time.perf_counter()
    for i in range(count):
        document = generate_document(
            slug=f"small-{i:03d}", rounds=rounds, seed=i, shared_prefix="small"
        )
        import_negotiation(as_text(document))
    return {"count": count, "rounds": rounds, "import": time.perf_counter() - start}


def analyze() -> None:
    """Do what autovacuum would shortly after the imports (it is off on some servers,
    this one included): reclaim the rows the replace deleted, and give the planner
    statistics on the new ones (without them it takes the tables for nearly empty)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
