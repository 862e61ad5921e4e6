"""Small template helpers for the readers' pages."""

from django import template

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
