"""Parley's own templates hold no inline script, style or event handler, so the Content
Security Policy can forbid them all; htmx comes in through {% htmx_script %} with a nonce."""

import re
from pathlib import Path

import pytest

TEMPLATES = sorted((Path(__file__).resolve().parents[1] / "templates").rglob("*.html"))
INLINE = {
    "script tag": re.compile(r"<script\b", re.IGNORECASE),
    "style tag": re.compile(r"<style\b", re.IGNORECASE),
    "style attribute": re.compile(r"\sstyle\s*=", re.IGNORECASE),
    "event handler": re.compile(r"\son[a-z]+\s*=", re.IGNORECASE),
    "javascript: URL": re.compile(r"javascript:", re.IGNORECASE),
}


def test_there_are_templates_to_check():
    assert len(TEMPLATES) > 20


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: p.name)
def test_template_has_no_inline_code(template):
    source = template.read_text(encoding="utf-8")
    found = [name for name, pattern in INLINE.items() if pattern.search(source)]
    assert found == [], f"{template.name}: {found}"


@pytest.mark.django_db
def test_pages_send_a_policy_without_unsafe_inline(client):
    policy = client.get("/")["Content-Security-Policy"]
    assert "'unsafe-inline'" not in policy
    assert "'unsafe-eval'" not in policy
    assert "script-src 'self' 'nonce-" in policy
    assert "style-src 'self'" in policy
