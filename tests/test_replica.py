"""The optional read replica (negotiations/routers.py): reader traffic reads from the
``replica`` alias; writes, signed-in users, POSTs and transactions use ``default``.

In the test settings ``replica`` is a test mirror of ``default``: a second connection to the
same test database. Data a test writes is visible through it only once committed, so the
tests that read through it are transactional."""

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.conf import settings as django_settings
from django.core.cache import caches
from django.db import connections, router, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext

from negotiations import cache as reader_cache
from negotiations.models import Negotiation, Outcome, Round
from negotiations.routers import ReplicaRouter, primary

from .factories import IssueFactory, NegotiationFactory, OutcomeFactory, RoundFactory
from .roundform import form_data

ROUTER = "negotiations.routers.ReplicaRouter"
PINNING = "negotiations.routers.PrimaryPinningMiddleware"
AUTHENTICATION = "django.contrib.auth.middleware.AuthenticationMiddleware"

both_databases = pytest.mark.django_db(transaction=True, databases=["default", "replica"])


@pytest.fixture
def routed(settings):
    """The settings of a deployment with DATABASE_REPLICA_URL set."""
    settings.DATABASE_ROUTERS = [ROUTER]
    if PINNING not in settings.MIDDLEWARE:
        after = settings.MIDDLEWARE.index(AUTHENTICATION) + 1
        settings.MIDDLEWARE = [*settings.MIDDLEWARE[:after], PINNING, *settings.MIDDLEWARE[after:]]
    # A page served from a cache runs no query at all; these tests want to see the queries.
    for alias in django_settings.CACHES:
        caches[alias].clear()
    # And no page is rendered from the primary for having come just after a write.
    settings.REPLICA_LAG_SECONDS = 0


@contextmanager
def queries() -> Iterator[dict[str, CaptureQueriesContext]]:
    """The queries run on each alias inside the block."""
    captured = {alias: CaptureQueriesContext(connections[alias]) for alias in connections}
    for context in captured.values():
        context.__enter__()
    try:
        yield captured
    finally:
        for context in captured.values():
            context.__exit__(None, None, None)


def sql(context: CaptureQueriesContext) -> list[str]:
    return [query["sql"] for query in context.captured_queries]


@pytest.fixture
def talks(db):
    negotiation = NegotiationFactory(slug="talks", title="Border talks")
    issue = IssueFactory(negotiation=negotiation, slug="borders", title="Borders")
    first = RoundFactory(negotiation=negotiation, number=1, title="Opening round")
    OutcomeFactory(round=first, issue=issue, status="raised")
    return negotiation


# Each reader page, and text it shows only if it found the fixture's rows.
READER_PAGES = {
    "/": "Border talks",
    "/negotiations/talks/": "Opening round",
    "/negotiations/talks/rounds/1/": "Opening round",
    "/negotiations/talks/issues/": "Borders",
    "/api/v1/negotiations/talks/rounds": "Opening round",
}


@both_databases
@pytest.mark.parametrize(("path", "shows"), READER_PAGES.items())
def test_an_anonymous_readers_page_reads_only_from_the_replica(routed, talks, client, path, shows):
    with queries() as ran:
        response = client.get(path)
    assert response.status_code == 200
    assert shows in response.content.decode()  # the replica sees committed rows
    assert sql(ran["replica"]), "no query on the replica"
    assert sql(ran["default"]) == []


SIGNED_IN_PAGES = [
    *[("analyst", path) for path in READER_PAGES],
    ("analyst", "/log/"),
    ("editor", "/admin/negotiations/round/"),
]


@both_databases
@pytest.mark.parametrize(("role", "path"), SIGNED_IN_PAGES)
def test_signed_in_users_pages_read_only_from_the_primary(routed, talks, users, role, path):
    signed_in = Client()
    signed_in.force_login(users[role])
    with queries() as ran:
        response = signed_in.get(path)
    assert response.status_code == 200
    assert sql(ran["default"])
    assert sql(ran["replica"]) == []
    # The pin ends with the request: the next reader is served from the replica again.
    assert router.db_for_read(Round) == "replica"


@both_databases
def test_saving_a_round_in_the_workspace_reads_and_writes_on_the_primary(routed, talks, users):
    analyst = Client()
    analyst.force_login(users["analyst"])
    data = form_data(analyst.get("/log/talks/rounds/1/").context["editor"])
    data["title"] = "Opening round, renamed"
    with queries() as ran:
        response = analyst.post("/log/talks/rounds/1/", data)
    assert response.status_code == 302
    assert Round.objects.get(number=1).title == "Opening round, renamed"
    assert any(query.startswith("UPDATE") for query in sql(ran["default"]))
    assert sql(ran["replica"]) == []


@both_databases
def test_a_post_without_a_session_reads_from_the_primary(routed, users, client):
    """Signing in is a POST by someone who has no session yet: pinned by its method."""
    with queries() as ran:
        response = client.post("/accounts/login/", {"username": "anna", "password": "pw-anna"})
    assert response.status_code == 302
    assert any("auth_user" in query for query in sql(ran["default"]))
    assert sql(ran["replica"]) == []


@both_databases
def test_the_first_page_after_signing_in_reads_the_new_session_from_the_primary(
    routed, users, client
):
    client.post("/accounts/login/", {"username": "anna", "password": "pw-anna"})
    with queries() as ran:
        response = client.get("/log/")
    assert response.status_code == 200
    assert any("django_session" in query for query in sql(ran["default"]))
    assert sql(ran["replica"]) == []


@both_databases
def test_creating_a_row_writes_to_the_primary(routed):
    with queries() as ran:
        negotiation = Negotiation.objects.create(slug="new-talks", title="New talks")
    assert negotiation._state.db == "default"
    assert any(query.startswith("INSERT") for query in sql(ran["default"]))
    assert sql(ran["replica"]) == []
    assert router.db_for_write(Negotiation) == "default"


@both_databases
def test_an_issues_changes_are_worked_out_from_the_primary_after_a_save(routed, talks):
    """A save outside any transaction (a script's) still reads what it just wrote."""
    with primary():  # as a script that read what it changes from the primary
        outcome = Outcome.objects.select_related("round").get(round__number=1)
    with queries() as ran:
        outcome.status = "agreed"
        outcome.save()
    assert sql(ran["replica"]) == []
    assert any("negotiations_outcome" in query for query in sql(ran["default"])[1:])


@both_databases
def test_reads_go_to_the_primary_inside_a_transaction_or_a_pin(routed):
    assert router.db_for_read(Negotiation) == "replica"
    with transaction.atomic():
        assert router.db_for_read(Negotiation) == "default"
    assert router.db_for_read(Negotiation) == "replica"
    with primary():
        assert router.db_for_read(Negotiation) == "default"
    assert router.db_for_read(Negotiation) == "replica"


@both_databases
def test_an_objects_relations_are_read_where_the_object_came_from(routed, talks):
    from_primary = Negotiation.objects.using("default").get(slug="talks")
    from_replica = Negotiation.objects.get(slug="talks")
    assert from_replica._state.db == "replica"
    assert router.db_for_read(Round, instance=from_primary) == "default"
    assert router.db_for_read(Round, instance=from_replica) == "replica"
    with queries() as ran:
        assert [r.title for r in from_primary.rounds.all()] == ["Opening round"]
    assert sql(ran["default"]) and sql(ran["replica"]) == []


def test_rows_from_the_primary_and_the_replica_may_be_related():
    one, other = Negotiation(), Round()
    one._state.db, other._state.db = "default", "replica"
    assert ReplicaRouter().allow_relation(one, other) is True
    other._state.db = "elsewhere"
    assert ReplicaRouter().allow_relation(one, other) is None


def test_migrations_run_on_the_primary_only():
    assert ReplicaRouter().allow_migrate("default", "negotiations", "round") is True
    assert ReplicaRouter().allow_migrate("replica", "negotiations", "round") is False


def test_a_pin_belongs_to_its_own_request_only():
    """Concurrent requests run in other threads: one request's pin is not theirs."""
    seen = []
    with primary():
        worker = threading.Thread(target=lambda: seen.append(ReplicaRouter().db_for_read(Round)))
        worker.start()
        worker.join()
        assert ReplicaRouter().db_for_read(Round) == "default"
    assert seen == ["replica"]


def _settings_of(**env: str) -> dict:
    """config.settings as a fresh process sees it with `env`, after `check --deploy`."""
    local = {
        "DEBUG",
        "SECRET_KEY",
        "ALLOWED_HOSTS",
        "DATABASE_REPLICA_URL",
        "DJANGO_ALLOW_ASYNC_UNSAFE",
    }
    clean = {k: v for k, v in os.environ.items() if k not in local}
    code = (
        "import json, django\n"
        "from django.conf import settings\n"
        "from django.core.management import call_command\n"
        "django.setup()\n"
        "call_command('check', '--deploy', '--fail-level', 'WARNING')\n"
        "print(json.dumps({'databases': settings.DATABASES, "
        "'routers': settings.DATABASE_ROUTERS, 'middleware': settings.MIDDLEWARE}, default=str))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={
            **clean,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DEBUG": "0",
            "SECRET_KEY": "a-long-random-production-key-" + "x7Yq2" * 10,
            "ALLOWED_HOSTS": "parley.example.org",
            **env,
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


def test_a_replica_url_adds_the_alias_the_router_and_the_pinning_middleware():
    configured = _settings_of(
        DATABASE_REPLICA_URL="postgres://reader@replica.example.org:5432/parley",
        CONN_MAX_AGE="30",
    )
    replica = configured["databases"]["replica"]
    assert (replica["HOST"], replica["NAME"], replica["USER"]) == (
        "replica.example.org",
        "parley",
        "reader",
    )
    assert (replica["CONN_MAX_AGE"], replica["CONN_HEALTH_CHECKS"]) == (30, True)
    assert replica["TEST"]["MIRROR"] == "default"
    assert configured["routers"] == [ROUTER]
    middleware = configured["middleware"]
    assert middleware.index(PINNING) == middleware.index(AUTHENTICATION) + 1


def test_without_a_replica_url_there_is_one_database_and_no_router():
    plain = _settings_of()
    assert list(plain["databases"]) == ["default"]
    assert plain["databases"]["default"]["CONN_HEALTH_CHECKS"] is True
    assert plain["routers"] == []
    assert PINNING not in plain["middleware"]


@both_databases
def test_just_after_a_write_the_page_cached_next_is_rendered_from_the_primary(
    routed, talks, settings
):
    """A replica that lags would give the reader cache a stale page to keep."""
    settings.REPLICA_LAG_SECONDS = 60
    reader_cache.invalidate()
    with queries() as seen:
        response = Client().get("/negotiations/talks/")
    assert response["X-Cache"] == "miss"
    assert sql(seen["default"]) and not sql(seen["replica"])

    settings.REPLICA_LAG_SECONDS = 0
    with queries() as seen:
        assert Client().get("/negotiations/talks/issues/")["X-Cache"] == "miss"
    assert sql(seen["replica"]) and not sql(seen["default"])
