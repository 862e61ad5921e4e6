import pytest
from django.contrib.auth.models import Group, User
from django.core.cache import cache
from django.core.servers.basehttp import WSGIServer

from negotiations.roles import ANALYSTS, EDITORS, setup_roles

# The live server listens with a backlog of 10 connections. The load test's 50 readers
# overflow it, and the kernel drops their connection attempts, which the client retries
# after 1, 3, 7 and 15 seconds: a request can then time out without the server having
# seen it. A production server's backlog is in the thousands (gunicorn: 2048).
WSGIServer.request_queue_size = 128


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts with an empty cache: the database is rolled back between tests,
    which no signal reports, so pages cached by one test must not reach the next."""
    cache.clear()


@pytest.fixture
def roles(db):
    setup_roles()


def _user(username: str, group: str | None = None, **flags) -> User:
    user = User.objects.create_user(username, f"{username}@example.org", "pw-" + username, **flags)
    if group:
        user.groups.add(Group.objects.get(name=group))
    return user


@pytest.fixture
def users(roles) -> dict[str, User]:
    """An outsider (signed in, no role), an analyst, an editor and an admin."""
    return {
        "outsider": _user("olga"),
        "analyst": _user("anna", ANALYSTS),
        "editor": _user("eddie", EDITORS, is_staff=True),
        "admin": _user("ada", is_staff=True, is_superuser=True),
    }
