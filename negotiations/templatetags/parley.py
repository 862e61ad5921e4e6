"""Small template helpers for the readers' pages."""

from django import template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from ..models import Outcome, Position

register = template.Library()

# Two-letter codes for the board's cells; the legend spells each one out, and every cell
# also carries the full label for screen readers.
STATUS_CODES = {
    Outcome.Status.NOT_DISCUSSED: "ND",
    Outcome.Status.RAISED: "Ra",
    Outcome.Status.UNDER_DISCUSSION: "UD",
    Outcome.Status.PARTIALLY_AGREED: "PA",
    Outcome.Status.AGREED: "Ag",
    Outcome.Status.IMPLEMENTED: "Im",
    Outcome.Status.BREACHED: "Br",
    Outcome.Status.STALLED: "St",
    Outcome.Status.DEFERRED: "De",
    Outcome.Status.REJECTED: "Rj",
    Outcome.Status.WITHDRAWN: "Wd",
}


@register.filter
def status_code(status: str) -> str:
    return STATUS_CODES.get(status, "?")


@register.filter
def status_label(status: str | None) -> str:
    return Outcome.Status(status).label if status else "Not yet taken up"


@register.filter
def stance_label(stance: str | None) -> str:
    return Position.Stance(stance).label if stance else ""


@register.filter
def web_url(url: str | None) -> str:
    """The link if it is http(s), else nothing: no javascript: link ever renders."""
    if url and url.strip().lower().startswith(("http://", "https://")):
        return url
    return ""


# A timeline page shows 25 entries, each with a few delegations and outcomes. As loops in
# the template these two lists cost more than all the rest of an entry (Django renders
# every tag and variable of every iteration on its own); as filters they are one node.


@register.filter
def delegation_heads(delegations: list[tuple[str, list[str]]]) -> str:
    """`Party: Head, Head; Party: …` from a timeline entry's (party, [head names])."""
    return mark_safe(
        "; ".join(
            format_html('<span class="head">{}: {}</span>', party, ", ".join(heads))
            if heads
            else format_html(
                '<span class="head">{}: <span class="muted">head not reported</span></span>',
                party,
            )
            for party, heads in delegations
        )
    )


@register.filter
def outcome_badges(outcomes: list[tuple[str, str, str]]) -> str:
    """A timeline entry's badges, one `<li>` per (status, label, issue title)."""
    return format_html_join(
        "\n",
        '<li class="badge status-{}">{}: {}</li>',
        ((status, issue, label) for status, label, issue in outcomes),
    )
