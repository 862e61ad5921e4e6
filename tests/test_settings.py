"""Settings fail safe: production refuses to start half-configured, and passes the
deployment checks once configured."""

import os
import subprocess
import sys

import pytest

PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": "a-long-random-production-key-" + "x7Yq2" * 10,
    "ALLOWED_HOSTS": "parley.example.org",
}


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    local = {
        "DEBUG",
        "SECRET_KEY",
        "ALLOWED_HOSTS",
        "DJANGO_ALLOW_ASYNC_UNSAFE",
        "DJANGO_SETTINGS_MODULE",
    }
    clean = {k: v for k, v in os.environ.items() if k not in local}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("missing", "message"),
    [
        ("SECRET_KEY", "SECRET_KEY must be set when DEBUG is off"),
        ("ALLOWED_HOSTS", "ALLOWED_HOSTS must be set when DEBUG is off"),
    ],
)
def test_production_refuses_to_start_without(missing, message):
    env = {k: v for k, v in PRODUCTION.items() if k != missing}
    result = manage("check", **env)
    assert result.returncode != 0
    assert message in result.stderr


def test_debug_defaults_to_off():
    result = manage("check", SECRET_KEY=PRODUCTION["SECRET_KEY"])
    assert "ALLOWED_HOSTS must be set when DEBUG is off" in result.stderr


def test_production_refuses_the_development_key():
    result = manage(
        "check", **{**PRODUCTION, "SECRET_KEY": "django-insecure-parley-local-development-only"}
    )
    assert "development key" in result.stderr


def test_a_bad_boolean_is_named():
    result = manage("check", **{**PRODUCTION, "DEBUG": "maybe"})
    assert "DEBUG must be a boolean" in result.stderr


def test_deploy_check_passes_with_production_settings():
    result = manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stderr
