"""The benchmark's results as one markdown report, each figure checked against its target."""

from benchmarks.pages import REPEAT, SHARED, Timing
from benchmarks.serve import CONCURRENCY, SECONDS, WORKERS

MAX_QUERIES = 12
MAX_RATIO = 1.5
FAST_PAGES = {"timeline", "round", "board"}
MAX_FAST_MS = 25
MAX_IMPORT_SECONDS = 30
MIN_SHARE_OF_HEALTHZ = 0.5
MAX_WORKER_MB = 150
MAX_LCP_MS = 400
MAX_ELEMENTS = 3000
MAX_HEAP_MB = 5


def short(rounds: int) -> str:
    return f"{rounds // 1000}k" if rounds >= 1000 and rounds % 1000 == 0 else str(rounds)


def mark(ok: bool) -> str:
    return "✓" if ok else "✗"


class Report:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.missed: list[str] = []

    def add(self, *lines: str) -> None:
        self.lines.extend(lines)

    def check(self, what: str, ok: bool) -> str:
        """✓ or ✗, remembering a missed target by name."""
        if not ok:
            self.missed.append(what)
        return mark(ok)

    def text(self) -> str:
        verdict = (
            "**Targets missed:** " + "; ".join(self.missed)
            if self.missed
            else "**All targets met.**"
        )
        return "\n".join([*self.lines, "", verdict, ""])


def machine(report: Report, facts: dict) -> None:
    report.add(
        "## Parley benchmark",
        "",
        f"Machine: {facts['cpu']}, {facts['cores']} cores, {facts['ram_gb']:.0f} GB RAM; "
        f"{facts['database']}; Python {facts['python']}; Django {facts['django']}.",
    )
    if facts["database"].startswith("PostgreSQL"):
        report.add(
            "Once the data is loaded it is vacuumed and analysed (VACUUM ANALYZE), "
            "as autovacuum would."
        )


def pages(report: Report, results: dict[str, list[Timing]], sizes: list[int], many: int) -> None:
    small, large = (short(n) for n in sizes)
    report.add(
        "",
        f"### Reader pages (in process, DEBUG=0, anonymous, page cache off; "
        f"{REPEAT} requests each)",
        "",
        f"| page | median {small} (ms) | p95 {small} | queries {small} "
        f"| median {large} (ms) | p95 {large} | queries {large} | ratio | targets |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    )
    for name, (a, b) in results.items():
        ratio = b.median / a.median
        queries = a.queries == b.queries <= MAX_QUERIES
        checks = [
            f"{report.check(f'{name}: {a.queries} → {b.queries} queries', queries)} queries",
            f"{report.check(f'{name}: ratio {ratio:.2f}', ratio <= MAX_RATIO)} ratio",
        ]
        if name in FAST_PAGES:
            fast = max(a.median, b.median) <= MAX_FAST_MS
            missed = f"{name}: median {max(a.median, b.median):.1f} ms"
            checks.append(f"{report.check(missed, fast)} ≤ {MAX_FAST_MS} ms")
        label = f"{name} ¹" if name in SHARED else name
        report.add(
            f"| {label} | {a.median:.1f} | {a.p95:.1f} | {a.queries} | {b.median:.1f} "
            f"| {b.p95:.1f} | {b.queries} | {ratio:.2f} | {' · '.join(checks)} |"
        )
    fewer = [
        f"{name} ({', '.join(str(t.samples) for t in timings)})"
        for name, timings in results.items()
        if any(t.samples < REPEAT for t in timings)
    ]
    report.add(
        "",
        f"¹ The same page in both columns, with all {many + 2} negotiations loaded "
        f"(the two above and {many} small ones).",
    )
    if fewer:
        report.add(
            "",
            f"Timed fewer than {REPEAT} times, being slow (requests at each size): "
            + "; ".join(fewer)
            + ".",
        )
    report.add(
        "",
        f"Targets: the same query count at {small} and {large} rounds, at most {MAX_QUERIES}; "
        f"the median at {large} within {MAX_RATIO}× the median at {small}; timeline, round "
        f"and board medians ≤ {MAX_FAST_MS} ms.",
    )


def imports(report: Report, results: list[dict], many: dict) -> None:
    report.add(
        "",
        "### Import and export",
        "",
        "| rounds | file (MB) | rows written (+ as many history rows) | import (s) "
        "| export (s) | replace (s) | export → import → export identical |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | :---: |",
    )
    for r in results:
        report.add(
            f"| {r['rounds']:,} | {r['megabytes']:.1f} | {r['rows']:,} | {r['import']:.2f} "
            f"| {r['export']:.2f} | {r['replace']:.2f} | {'yes' if r['identical'] else 'NO'} |"
        )
    largest = results[-1]
    ok = largest["import"] <= MAX_IMPORT_SECONDS and largest["identical"]
    report.add(
        "",
        f"Import of {largest['rounds']:,} rounds: {largest['import']:.1f} s "
        f"(target ≤ {MAX_IMPORT_SECONDS} s, and a faithful round trip) "
        f"{report.check(f'import {largest["import"]:.1f} s', ok)}. "
        f"{many['count']} negotiations of {many['rounds']} rounds: {many['import']:.1f} s "
        f"({many['import'] / many['count'] * 1000:.0f} ms each).",
    )


def http(
    report: Report,
    results: dict[str, float],
    paths: dict[str, str],
    rss: list[float],
    *,
    cached: bool,
):
    cache = "reader cache in Redis" if cached else "no Redis, so no reader cache"
    report.add(
        "",
        f"### Over HTTP (gunicorn, {WORKERS} sync workers, DEBUG=0; {CONCURRENCY} clients "
        f"on loopback for {SECONDS:g} s each; anonymous; {cache})",
        "",
        "| page | path | requests/s | % of /healthz | target |",
        "| --- | --- | ---: | ---: | --- |",
    )
    healthz = results["healthz"]
    for name, rate in results.items():
        share = rate / healthz
        target = ""
        if name != "healthz":
            ok = share >= MIN_SHARE_OF_HEALTHZ
            missed = f"{name} over HTTP at {share:.0%} of /healthz"
            target = f"≥ {MIN_SHARE_OF_HEALTHZ:.0%} {report.check(missed, ok)}"
        report.add(f"| {name} | `{paths[name]}` | {rate:.0f} | {share:.0%} | {target} |")
    sizes = ", ".join(f"{mb:.0f} MB" for mb in rss) or "not found"
    ok = bool(rss) and max(rss) < MAX_WORKER_MB
    report.add(
        "",
        f"Worker RSS after the benchmark: {sizes} (target < {MAX_WORKER_MB} MB each) "
        f"{report.check(f'worker RSS {sizes}', ok)}.",
    )


def browser(report: Report, result: dict | None, name: str) -> None:
    report.add("", f"### In the browser ({name})", "")
    if result is None:
        report.add("Skipped: no Chromium at $CHROMIUM or /usr/bin/chromium.")
        return
    lcp = result["lcp"]
    lcp_text = "none reported" if lcp is None else f"{lcp:.0f} ms"
    rows = [
        (
            "largest contentful paint",
            lcp_text,
            f"≤ {MAX_LCP_MS} ms",
            report.check(f"LCP {lcp_text}", lcp is not None and lcp <= MAX_LCP_MS),
        ),
        (
            "DOM elements",
            f"{result['elements']:,.0f}",
            f"< {MAX_ELEMENTS:,}",
            report.check(
                f"{result['elements']:,.0f} DOM elements", result["elements"] < MAX_ELEMENTS
            ),
        ),
        (
            "JS heap used",
            f"{result['heap']:.1f} MB",
            f"< {MAX_HEAP_MB} MB",
            report.check(f"JS heap {result['heap']:.1f} MB", result["heap"] < MAX_HEAP_MB),
        ),
    ]
    report.add(
        f"{result['browser']}, median of {result['runs']} cold loads over HTTP.",
        "",
        "| measure | value | target | |",
        "| --- | ---: | ---: | :---: |",
        *(f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows),
    )
