"""Server time and query count of each reader page, in process.

Django's test client, anonymous, with the page cache off (`READER_CACHE_SECONDS=0`): the
figures are what a page costs when it has to be built. Each page is requested a few
times to warm up, once with its queries counted, then `BENCH_REPEAT` times timed; a page
so slow that this would take more than BUDGET seconds is timed fewer times (at least
MIN_SAMPLES), so that a slow page cannot make the run endless.
"""

import math
import os
import statistics
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import connection
from django.db.models import Count
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from negotiations.models import DelegationMember, Negotiation, Round

REPEAT = int(os.environ.get("BENCH_REPEAT", "30"))
WARM_UP = 3
BUDGET = 10  # seconds
MIN_SAMPLES = 3

# Pages that are the same whatever the negotiation: the home page lists every negotiation.
SHARED = {"home", "search, all negotiations"}


@dataclass
class Timing:
    median: float  # milliseconds
    p95: float
    queries: int
    samples: int


def reader_pages(negotiation: Negotiation) -> dict[str, str]:
    """The reader pages of one negotiation, by name: the round page shows a round from
    the middle, the board as of that round's date, the person page the head of
    delegation who led the most delegations, the search a word every round uses."""
    slug = negotiation.slug
    published = Round.objects.filter(negotiation=negotiation, published=True)
    middle = published.order_by("number")[published.count() // 2]
    issue = negotiation.issues.order_by("order", "id").first()
    leader = (
        DelegationMember.objects.filter(is_head=True, delegation__round__negotiation=negotiation)
        .values("person__slug")
        .annotate(led=Count("id"))
        .order_by("-led", "person__slug")
        .first()
    )
    return {
        "home": reverse("home"),
        "timeline": reverse("negotiation", args=[slug]),
        "timeline page 2": reverse("negotiation", args=[slug]) + "?page=2",
        "round": reverse("round", args=[slug, middle.number]),
        "board": reverse("board", args=[slug]),
        "board as_of": reverse("board", args=[slug]) + f"?as_of={middle.start_date.isoformat()}",
        "issue": reverse("issue", args=[slug, issue.slug]),
        "person": reverse("person", args=[leader["person__slug"]]),
        "search": reverse("search") + f"?q=round&in={slug}",
        "search, all negotiations": reverse("search") + "?q=round",
        "API rounds list": reverse("api:rounds", kwargs={"slug": slug}),
    }


def get(client: Client, url: str) -> None:
    response = client.get(url)
    if response.status_code != 200:
        raise AssertionError(f"GET {url} answered {response.status_code}, not 200")


def nearest_rank(samples: list[float], percent: int) -> float:
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(percent / 100 * len(ordered)) - 1)]


def time_page(client: Client, url: str) -> Timing:
    start = time.perf_counter()
    for _ in range(WARM_UP):
        get(client, url)
        if time.perf_counter() - start > BUDGET:
            break
    with CaptureQueriesContext(connection) as queries:
        get(client, url)
    count = len(queries)  # now: the next request's request_started empties the query log
    if not count:
        raise AssertionError(f"GET {url} ran no query: was it served from a cache?")
    samples: list[float] = []
    while len(samples) < REPEAT and (len(samples) < MIN_SAMPLES or sum(samples) < BUDGET * 1000):
        start = time.perf_counter()
        get(client, url)
        samples.append((time.perf_counter() - start) * 1000)
    return Timing(statistics.median(samples), nearest_rank(samples, 95), count, len(samples))


def measure(negotiations: list[Negotiation]) -> dict[str, list[Timing]]:
    """Each page's timing for each negotiation, in the order given."""
    client = Client()
    results: dict[str, list[Timing]] = {}
    hosts = [*settings.ALLOWED_HOSTS, "testserver"]  # the test client's host name
    with override_settings(READER_CACHE_SECONDS=0, ALLOWED_HOSTS=hosts):
        for negotiation in negotiations:
            for name, url in reader_pages(negotiation).items():
                timings = results.setdefault(name, [])
                # A shared page is timed once and shown for every negotiation.
                timings.append(timings[0] if name in SHARED and timings else time_page(client, url))
    return results
