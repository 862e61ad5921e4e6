"""The reader cache: whole responses for anonymous readers, dropped on any write.

Every cached response is filed under the current *generation*, a token kept in the cache
itself. A write to any of Parley's tables (a save, a delete, an import) replaces the
token, so every page cached before it is unreachable at once, on every app server
sharing the cache (Redis when REDIS_URL is set), and ages out of the cache on its own.

With a read replica, pages rendered in the first REPLICA_LAG_SECONDS after a write read
from the primary, so that the replica's lag cannot put a stale page in the cache.

The token is replaced twice: at the write, and again when its transaction commits. The
second replacement is the one that matters: a reader who rendered the page between the
write and the commit saw the old data, and filed it under the token of the first.

Only anonymous GETs and HEADs are served from the cache: a request carrying a session
(a signed-in user) or a message bypasses it, and only a 200 that sets no cookie, holds
no CSRF token and does not forbid caching is stored. A page's CSP nonce is replaced with
a fresh one on every hit, and its ETag is computed without the nonce so that conditional
requests still match.
"""

import hashlib
import logging
import secrets
import time

from django.apps import apps
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.http import HttpRequest, HttpResponse
from django.middleware.csp import get_nonce

from .routers import primary

log = logging.getLogger(__name__)

GENERATION_KEY = "parley:reader-cache:generation"
# Headers the outer middleware adds again on every response (or must not be replayed).
NOT_STORED = {"set-cookie", "content-security-policy", "content-security-policy-report-only"}
# Headers that change what a view sends back, beyond the URL.
VARYING = ("HX-Request", "HX-Boosted", "HX-History-Restore-Request")


def generation() -> str:
    token = cache.get(GENERATION_KEY)
    if token is None:
        cache.add(GENERATION_KEY, _new_token(), timeout=None)
        token = cache.get(GENERATION_KEY)
    return token


def _new_token() -> str:
    """Unique, and saying when it was made: `<unix time>-<random>`."""
    return f"{time.time():.3f}-{secrets.token_hex(6)}"


def _younger_than(token: str, seconds: float) -> bool:
    made, _, _ = token.partition("-")
    try:
        return time.time() - float(made) < seconds
    except ValueError:
        return False


def _replace_generation() -> None:
    try:
        cache.set(GENERATION_KEY, _new_token(), timeout=None)
    except Exception:  # the cache being down must not fail a write
        log.exception("The reader cache could not be invalidated")


def invalidate(using: str | None = None) -> None:
    """Forget every cached page: now, and again when the current transaction commits."""
    _replace_generation()
    connection = transaction.get_connection(using)
    savepoints = set(connection.savepoint_ids)
    if any(
        callback is _replace_generation and registered <= savepoints
        for registered, callback, _ in connection.run_on_commit
    ):
        return  # already due at this commit, and no savepoint rollback can cancel it
    transaction.on_commit(_replace_generation, using=using)


def _on_write(sender, using=None, **kwargs) -> None:
    invalidate(using)


def connect_signals() -> None:
    """Invalidate on every save and delete of Parley's models (history rows included)."""
    for model in apps.get_app_config("negotiations").get_models():
        post_save.connect(_on_write, sender=model, dispatch_uid=f"reader-cache-save-{model}")
        post_delete.connect(_on_write, sender=model, dispatch_uid=f"reader-cache-del-{model}")
        m2m_changed.connect(_on_write, sender=model, dispatch_uid=f"reader-cache-m2m-{model}")


def _cacheable_request(request: HttpRequest) -> bool:
    return (
        settings.READER_CACHE_SECONDS > 0
        and request.method in ("GET", "HEAD")
        and settings.SESSION_COOKIE_NAME not in request.COOKIES
        and "messages" not in request.COOKIES
        and not request.path.startswith(settings.READER_CACHE_EXCLUDED)
    )


def _cacheable_response(request: HttpRequest, response: HttpResponse) -> bool:
    cache_control = response.get("Cache-Control", "")
    return (
        response.status_code == 200
        # A page holding a CSRF token holds this visitor's secret (its cookie is set
        # further out, by the CSRF middleware, so `response.cookies` cannot tell).
        and not request.META.get("CSRF_COOKIE_NEEDS_UPDATE")
        and not response.streaming
        and not response.cookies
        and not any(word in cache_control for word in ("private", "no-cache", "no-store"))
    )


def _key(request: HttpRequest, token: str) -> str:
    varying = "|".join(request.headers.get(name, "") for name in VARYING)
    url = request.build_absolute_uri()
    digest = hashlib.sha256(f"{url}#{varying}".encode()).hexdigest()
    return f"parley:reader-cache:{token}:{digest}"


def _etag(content: bytes) -> str:
    return f'"{hashlib.md5(content, usedforsecurity=False).hexdigest()}"'


class ReaderCacheMiddleware:
    """Serve anonymous readers from the cache. Goes last in MIDDLEWARE: a hit skips the
    view only, and the outer middleware (sessions, CSP, ETag and 304s) runs as usual."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not _cacheable_request(request):
            return self.get_response(request)
        try:
            token = generation()
            key = _key(request, token)
            entry = cache.get(key)
        except Exception:
            log.exception("The reader cache is unreachable; serving uncached")
            return self.get_response(request)
        if entry is not None:
            return self.replay(request, entry)

        if _younger_than(token, settings.REPLICA_LAG_SECONDS):
            # Just after a write a read replica may not have it yet: a page rendered
            # from there would be stored, stale, under the new generation.
            with primary():
                response = self.get_response(request)
        else:
            response = self.get_response(request)
        if _cacheable_response(request, response):
            self.store(request, response, key)
            response["X-Cache"] = "miss"
        return response

    def store(self, request: HttpRequest, response: HttpResponse, key: str) -> None:
        nonce = get_nonce(request)
        used = str(nonce) if nonce else ""  # falsy until the page used it
        content = response.content
        if "ETag" not in response:
            response["ETag"] = _etag(content.replace(used.encode(), b"") if used else content)
        entry = {
            "status": response.status_code,
            "headers": [
                (name, value) for name, value in response.items() if name.lower() not in NOT_STORED
            ],
            "content": content,
            "nonce": used,
        }
        try:
            cache.set(key, entry, settings.READER_CACHE_SECONDS)
        except Exception:
            log.exception("The reader cache is unreachable; this page was not stored")

    def replay(self, request: HttpRequest, entry: dict) -> HttpResponse:
        content = entry["content"]
        if entry["nonce"]:
            # A fresh nonce: the CSP middleware puts this request's nonce in the header.
            content = content.replace(entry["nonce"].encode(), str(get_nonce(request)).encode())
        response = HttpResponse(content, status=entry["status"])
        for name, value in entry["headers"]:
            response[name] = value
        response["X-Cache"] = "hit"
        return response
