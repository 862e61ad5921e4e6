"""The reader cache: anonymous pages and API responses come from the cache until any
write (publish, edit, import, admin) drops them; signed-in users bypass it; `Vary`,
ETags and 304s keep working; each hit gets its own CSP nonce."""

import json
import re

import pytest
from django.db import transaction
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.test import Client

from negotiations import cache as reader_cache
from negotiations.interchange import export_negotiation, import_negotiation

from .factories import IssueFactory, NegotiationFactory, OutcomeFactory, RoundFactory
from .roundform import form_data

pytestmark = pytest.mark.django_db

TIMELINE = "/negotiations/talks/"
PAGES = [
    "/",
    TIMELINE,
    "/negotiations/talks/rounds/1/",
    "/negotiations/talks/issues/",
    "/negotiations/talks/issues/borders/",
    "/negotiations/talks/feed/",
    "/search/?q=round",
    "/api/v1/negotiations/talks/rounds",
]


@pytest.fixture
def talks(db):
    negotiation = NegotiationFactory(slug="talks", title="Border talks")
    borders = IssueFactory(negotiation=negotiation, slug="borders", title="Borders")
    first = RoundFactory(negotiation=negotiation, number=1, title="Opening round")
    OutcomeFactory(round=first, issue=borders, status="raised")
    draft = RoundFactory(negotiation=negotiation, number=2, title="Quiet draft", published=False)
    return negotiation, first, draft


def signed_in(users, role: str) -> Client:
    client = Client()
    client.force_login(users[role])
    return client


def without_nonce(response) -> bytes:
    policy = response.get("Content-Security-Policy", "")
    nonce = re.search(r"'nonce-([^']+)'", policy)
    return response.content.replace(nonce.group(1).encode(), b"") if nonce else response.content


def nonce_of(response) -> str:
    return re.search(r"'nonce-([^']+)'", response["Content-Security-Policy"]).group(1)


@pytest.mark.parametrize("path", PAGES)
def test_a_second_anonymous_request_is_served_from_the_cache_without_a_query(
    talks, client, path, django_assert_num_queries
):
    first = client.get(path)
    assert first.status_code == 200
    assert first["X-Cache"] == "miss"
    with django_assert_num_queries(0):
        second = client.get(path)
    assert second["X-Cache"] == "hit"
    assert without_nonce(second) == without_nonce(first)
    assert second["ETag"] == first["ETag"]


def test_publishing_a_draft_shows_it_to_the_next_anonymous_reader(talks, client, users):
    assert "Quiet draft" not in client.get(TIMELINE).content.decode()
    assert client.get(TIMELINE)["X-Cache"] == "hit"

    analyst = signed_in(users, "analyst")
    published = analyst.post("/log/talks/rounds/2/publish/", {"publish": "1"})
    assert published.status_code == 302

    after = client.get(TIMELINE)
    assert after["X-Cache"] == "miss"
    assert "Quiet draft" in after.content.decode()
    assert client.get("/negotiations/talks/rounds/2/").status_code == 200


def test_an_edit_leaves_no_stale_page_anywhere(talks, client, users):
    for path in PAGES:
        client.get(path)
    analyst = signed_in(users, "analyst")
    data = form_data(analyst.get("/log/talks/rounds/1/").context["editor"])
    data["title"] = "Renamed opening"
    assert analyst.post("/log/talks/rounds/1/", data).status_code == 302

    for path in PAGES:
        response = client.get(path)
        assert response["X-Cache"] == "miss", path
    assert "Renamed opening" in client.get(TIMELINE).content.decode()
    assert "Renamed opening" in client.get("/negotiations/talks/rounds/1/").content.decode()


def test_an_import_drops_the_cached_pages(talks, client):
    assert client.get("/").status_code == 200
    document = json.loads(export_negotiation(talks[0]))
    document["negotiation"].update(slug="second-talks", title="Second talks")
    import_negotiation(json.dumps(document))
    home = client.get("/")
    assert home["X-Cache"] == "miss"
    assert "Second talks" in home.content.decode()


def test_a_change_in_the_admin_drops_the_cached_pages(talks, client, users):
    client.get(TIMELINE)
    admin = signed_in(users, "admin")
    negotiation = talks[0]
    response = admin.post(
        f"/admin/negotiations/negotiation/{negotiation.pk}/change/",
        {
            "slug": "talks",
            "title": "Border talks, renamed",
            "summary": negotiation.summary,
            "status": negotiation.status,
            "started_on": "",
            "ended_on": "",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert "Border talks, renamed" in client.get(TIMELINE).content.decode()


@pytest.mark.django_db(transaction=True)
def test_a_write_drops_the_cache_again_when_its_transaction_commits(talks, client):
    """A reader who renders between a write and its commit sees the old data; that page
    must not outlive the commit."""
    with transaction.atomic():
        talks[1].title = "Retitled in a transaction"
        talks[1].save()
        with transaction.atomic():  # a savepoint rolled back: its writes bump nothing
            talks[0].save()
            transaction.set_rollback(True)
        during = reader_cache.generation()
        # Another reader renders now, from the data before the commit.
        assert client.get(TIMELINE)["X-Cache"] == "miss"
        assert client.get(TIMELINE)["X-Cache"] == "hit"
    assert reader_cache.generation() != during
    assert client.get(TIMELINE)["X-Cache"] == "miss"


@pytest.mark.parametrize("role", ["analyst", "editor", "admin"])
def test_signed_in_users_bypass_the_cache_and_store_nothing(talks, client, users, role):
    client.get(TIMELINE)
    reader = signed_in(users, role)
    response = reader.get(TIMELINE)
    assert "X-Cache" not in response
    assert "Cookie" in response["Vary"]
    reader.get("/negotiations/talks/issues/")
    assert client.get("/negotiations/talks/issues/")["X-Cache"] == "miss"


def test_a_reader_with_a_message_waiting_is_not_served_a_page_cached_for_others(talks, client):
    client.get(TIMELINE)
    client.cookies["messages"] = "anything"
    assert "X-Cache" not in client.get(TIMELINE)


def test_the_timeline_varies_on_htmx_and_each_variant_is_cached_apart(talks, client):
    page = client.get(TIMELINE)
    assert "HX-Request" in page["Vary"]
    partial = client.get(TIMELINE, headers={"HX-Request": "true"})
    assert partial["X-Cache"] == "miss"
    assert "<html" not in partial.content.decode()
    again = client.get(TIMELINE, headers={"HX-Request": "true"})
    assert again["X-Cache"] == "hit"
    assert "<html" not in again.content.decode()
    full = client.get(TIMELINE)
    assert full["X-Cache"] == "hit"
    assert "<html" in full.content.decode()
    restored = client.get(
        TIMELINE, headers={"HX-Request": "true", "HX-History-Restore-Request": "true"}
    )
    assert "<html" in restored.content.decode()


def test_an_etag_gets_a_304_until_a_write_changes_the_page(talks, client, users):
    first = client.get(TIMELINE)
    etag = first["ETag"]
    assert client.get(TIMELINE, headers={"If-None-Match": etag}).status_code == 304

    signed_in(users, "analyst").post("/log/talks/rounds/2/publish/", {"publish": "1"})
    changed = client.get(TIMELINE, headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed["ETag"] != etag
    assert client.get(TIMELINE, headers={"If-None-Match": changed["ETag"]}).status_code == 304


def test_the_api_answers_if_modified_since_with_a_304_from_the_cache(talks, client):
    path = "/api/v1/negotiations/talks/rounds"
    first = client.get(path)
    modified = first["Last-Modified"]
    again = client.get(path, headers={"If-Modified-Since": modified})
    assert again.status_code == 304


def test_every_hit_gets_a_fresh_csp_nonce_that_matches_its_header(talks, client):
    nonces = set()
    for _ in range(3):
        response = client.get(TIMELINE)
        nonce = nonce_of(response)
        assert f'nonce="{nonce}"' in response.content.decode()
        nonces.add(nonce)
    assert len(nonces) == 3


def test_errors_and_never_cached_responses_are_not_stored(talks, client):
    assert client.get("/negotiations/nowhere/").status_code == 404
    assert "X-Cache" not in client.get("/negotiations/nowhere/")
    assert "X-Cache" not in client.get("/healthz")


def test_with_no_cache_time_nothing_is_cached(talks, client, settings):
    settings.READER_CACHE_SECONDS = 0
    client.get(TIMELINE)
    assert "X-Cache" not in client.get(TIMELINE)


def test_an_unreachable_cache_serves_the_page_uncached(talks, client, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
        }
    }
    response = client.get(TIMELINE)
    assert response.status_code == 200
    assert "Opening round" in response.content.decode()


def test_a_cached_page_holds_no_csrf_token_and_a_page_that_does_is_not_stored(talks, client, rf):
    page = client.get(TIMELINE)
    assert "csrf" not in page.content.decode().lower()
    assert "csrftoken" not in page.cookies

    def view_with_a_form(request):
        return HttpResponse(f"<form method=post>{get_token(request)}</form>")

    middleware = reader_cache.ReaderCacheMiddleware(view_with_a_form)
    first = middleware(rf.get("/negotiations/talks/form/"))
    second = middleware(rf.get("/negotiations/talks/form/"))
    assert "X-Cache" not in first and "X-Cache" not in second
    assert first.content != second.content  # each visitor got a token of their own
