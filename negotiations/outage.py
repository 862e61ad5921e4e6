"""While the database is unreachable, answer 503 with a friendly page instead of a 500.

Only connection-level failures count: ``OperationalError`` (server down, refused, restarting,
connection dropped) and ``InterfaceError`` (a connection that is already closed). Programming
errors (``ProgrammingError``, ``IntegrityError``, ``DataError``…) stay ordinary 500s so they
are not hidden behind "try again later".

The page is rendered without a request, so no context processor runs and nothing touches the
database (no user, session or messages). Recovery needs nothing from this module: Django closes
a connection that raised at the end of the request, and ``CONN_HEALTH_CHECKS`` makes it test a
reused connection before the next query, so the first request after the database is back
connects afresh.

Install it near the top of ``MIDDLEWARE``, right after ``SecurityMiddleware``:

* a failure in a view (or in rendering its template) reaches ``process_exception``; the 503
  then travels back out through the other middleware, which add their usual headers;
* a failure inside another middleware (say, the session saved on the way out) has already
  been turned into a 500 by Django's handler by the time it comes back to ``__call__``;
  ``got_request_exception`` notes the error on the request so ``__call__`` can swap that
  500 for the 503.
"""

import logging
import sys

from django.conf import settings
from django.core.signals import got_request_exception
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.cache import add_never_cache_headers
from django.utils.csp import CSP, build_policy

logger = logging.getLogger(__name__)

CONNECTION_ERRORS = (OperationalError, InterfaceError)
RETRY_AFTER_SECONDS = 30
SAFE_METHODS = {"GET", "HEAD", "OPTIONS", "TRACE"}
_NOTED = "_parley_database_outage"


def is_outage(exc: BaseException | None) -> bool:
    return isinstance(exc, CONNECTION_ERRORS)


def outage_response(request: HttpRequest, exc: BaseException) -> HttpResponse:
    """The 503 for a request that failed because the database could not be reached."""
    logger.error(
        "Database unavailable, answered 503 to %s %s: %s: %s",
        request.method,
        request.path,
        type(exc).__name__,
        str(exc).strip() or "(no message)",
    )
    if request.get_preferred_type(["text/html", "application/json"]) == "application/json":
        response = JsonResponse(
            {"status": "unavailable", "detail": "The database is unreachable; try again soon."},
            status=503,
        )
    else:
        html = render_to_string(
            "503.html",
            {
                "retry_after": RETRY_AFTER_SECONDS,
                "sent_data": request.method not in SAFE_METHODS,
                "path": request.get_full_path(),
            },
        )
        response = HttpResponse(html, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    add_never_cache_headers(response)
    # When the 503 replaces a 500 from inside the stack it skips the middleware that would add
    # these; set them here (middleware that does run later keeps what is already set).
    response.headers.setdefault("X-Frame-Options", getattr(settings, "X_FRAME_OPTIONS", "DENY"))
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    if csp := getattr(settings, "SECURE_CSP", None):
        response.headers.setdefault(str(CSP.HEADER_ENFORCE), build_policy(csp))
    return response


def _note_outage(sender, request=None, **kwargs) -> None:
    """Django's handler is about to turn an exception into a 500: remember an outage."""
    exc = sys.exception()
    if request is not None and is_outage(exc):
        setattr(request, _NOTED, exc)


got_request_exception.connect(_note_outage, dispatch_uid="parley-database-outage")


class DatabaseOutageMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            response = self.get_response(request)
        except CONNECTION_ERRORS as exc:  # only with DEBUG_PROPAGATE_EXCEPTIONS
            return outage_response(request, exc)
        exc = getattr(request, _NOTED, None)
        if exc is not None and response.status_code == 500:
            return outage_response(request, exc)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception):
        if is_outage(exception):
            return outage_response(request, exception)
        return None
