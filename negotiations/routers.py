"""An optional read replica: reader traffic reads from it, everything else uses the primary.

Installed by ``config/settings.py`` only when ``DATABASE_REPLICA_URL`` is set. The rules:

* every write goes to ``default``, the primary;
* a read goes to ``replica``, unless this request (or block of code) is pinned to the
  primary, or it happens inside a ``transaction.atomic()`` block on the primary (an
  import, a save checking what it is about to overwrite), or it follows a relation of an
  object that came from the primary;
* ``PrimaryPinningMiddleware`` pins every request that is not a GET, HEAD or OPTIONS, and
  every request that carries a session cookie (signed-in analysts, editors and admins),
  so that people read their own writes and replication lag never shows them stale data.
  It looks at the cookie, not at ``request.user``: loading the user would read the
  session from the replica, which may not have the session the sign-in just wrote yet.
  Readers never get a session, so their pages are served from the replica;
* the replica gets its schema by replication, so migrations run on ``default`` only.

Management commands have no request, so they read from the replica unless they wrap
their work in ``primary()`` or a transaction: the imports write, and check again what
they are about to overwrite, inside one transaction (a first check on the replica only
finds problems sooner); ``export_all`` reads inside one; ``export_negotiation`` reads
from the replica, which is what it is for.

The pin is a ``ContextVar``, so it belongs to one request whether requests run in
threads or as asyncio tasks.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.http import HttpRequest, HttpResponse

PRIMARY = DEFAULT_DB_ALIAS
REPLICA = "replica"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}

_pinned: ContextVar[bool] = ContextVar("parley_pinned_to_primary", default=False)


@contextmanager
def primary() -> Iterator[None]:
    """Read from the primary inside this block (and in code it calls)."""
    token = _pinned.set(True)
    try:
        yield
    finally:
        _pinned.reset(token)


class ReplicaRouter:
    def db_for_read(self, model, **hints) -> str:
        if _pinned.get() or connections[PRIMARY].in_atomic_block:
            return PRIMARY
        instance = hints.get("instance")
        if instance is not None and instance._state.db == PRIMARY:
            return PRIMARY
        return REPLICA

    def db_for_write(self, model, **hints) -> str:
        return PRIMARY

    def allow_relation(self, obj1, obj2, **hints) -> bool | None:
        if {obj1._state.db, obj2._state.db} <= {PRIMARY, REPLICA}:
            return True
        return None

    def allow_migrate(self, db: str, app_label: str, model_name=None, **hints) -> bool:
        return db == PRIMARY


class PrimaryPinningMiddleware:
    """Pin writes and signed-in users' requests to the primary (see the module's notes).

    Install it right after ``AuthenticationMiddleware``; nothing before it reads the
    database for a request.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method in SAFE_METHODS and settings.SESSION_COOKIE_NAME not in request.COOKIES:
            return self.get_response(request)
        with primary():
            return self.get_response(request)
