"""What a reader's browser pays for a page: largest contentful paint, DOM size and JS
heap, measured in headless Chromium (Playwright) where Chromium is installed."""

import os
import statistics
from pathlib import Path

RUNS = int(os.environ.get("BENCH_BROWSER_RUNS", "5"))
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# The latest largest-contentful-paint entry, once the page has loaded.
LCP = """() => new Promise((resolve) => {
  new PerformanceObserver((list) => {
    const entries = list.getEntries();
    resolve(entries[entries.length - 1].startTime);
  }).observe({type: "largest-contentful-paint", buffered: true});
  setTimeout(() => resolve(null), 3000);
})"""


def chromium() -> str | None:
    for candidate in (os.environ.get("CHROMIUM"), "/usr/bin/chromium"):
        if candidate and Path(candidate).is_file():
            return candidate
    return None


def load(browser, url: str) -> dict:
    """One cold load, in a fresh context (no cache, no cookies)."""
    context = browser.new_context()
    try:
        page = context.new_page()
        cdp = context.new_cdp_session(page)
        cdp.send("Performance.enable")
        response = page.goto(url, wait_until="load")
        if response is None or response.status != 200:
            raise AssertionError(f"GET {url} in Chromium did not answer 200")
        lcp = page.evaluate(LCP)
        elements = page.evaluate("document.getElementsByTagName('*').length")
        metrics = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
        return {"lcp": lcp, "elements": elements, "heap": metrics["JSHeapUsedSize"] / 1e6}
    finally:
        context.close()


def measure(url: str) -> dict | None:
    """The median of RUNS loads of `url`, or None without Chromium."""
    executable = chromium()
    if executable is None:
        return None
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=FLAGS)
        try:
            loads = [load(browser, url) for _ in range(RUNS)]
            version = browser.version
        finally:
            browser.close()
    lcps = [run["lcp"] for run in loads if run["lcp"] is not None]
    return {
        "browser": f"Chromium {version}",
        "runs": RUNS,
        "lcp": statistics.median(lcps) if lcps else None,
        "elements": statistics.median(run["elements"] for run in loads),
        "heap": statistics.median(run["heap"] for run in loads),
    }
