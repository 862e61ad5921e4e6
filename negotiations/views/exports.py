"""Downloads: parley/1, CSV tables and TimelineJS events. Readers get published rounds
only; editors (who may import) get the drafts too in the parley/1 file, as the command
does."""

import csv

from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404
from django.utils.html import escape
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_cookie

from .. import status
from ..interchange import export_negotiation
from ..models import Negotiation, Outcome, Party, Position, Round, Source


def _negotiation(slug: str) -> Negotiation:
    return get_object_or_404(Negotiation, slug=slug)


@require_GET
@vary_on_cookie
def export_json(request: HttpRequest, slug: str) -> HttpResponse:
    negotiation = _negotiation(slug)
    drafts = request.user.has_perm("negotiations.import_negotiation")
    response = HttpResponse(
        export_negotiation(negotiation, include_drafts=drafts),
        content_type="application/json; charset=utf-8",
    )
    response["Content-Disposition"] = f'inline; filename="{slug}.parley.json"'
    return response


def _csv(slug: str, name: str, header: list[str], rows) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{slug}-{name}.csv"'
    writer = csv.writer(response)
    writer.writerow(header)
    writer.writerows([_cell(value) for value in row] for row in rows)
    return response


FORMULA = ("=", "+", "-", "@", "\t", "\r")


def _cell(value):
    """A text cell a spreadsheet would run as a formula gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA):
        return "'" + value
    return value


def _urls(item) -> str:
    return " ".join(source.url for source in item.sources.all() if source.url)


def _cited():
    return Prefetch("sources", queryset=Source.objects.order_by("key"))


@require_GET
def rounds_csv(request: HttpRequest, slug: str) -> HttpResponse:
    negotiation = _negotiation(slug)
    rounds = (
        Round.objects.filter(negotiation=negotiation)
        .published()
        .chronological()
        .prefetch_related(
            Prefetch("hosts", queryset=Party.objects.order_by("roundhost__id")), _cited()
        )
    )
    header = ["number", "title", "status", "start_date", "end_date", "location", "format",
              "hosts", "summary", "source_urls", "url"]  # fmt: skip

    def row(r: Round) -> list:
        page = request.build_absolute_uri(f"/negotiations/{slug}/rounds/{r.number}/")
        hosts = "; ".join(h.name for h in r.hosts.all())
        facts = [r.number, r.title, r.status, r.start_date, r.end_date, r.location]
        return [*facts, r.format or "", hosts, r.summary, _urls(r), page]

    rows = (row(r) for r in rounds)
    return _csv(slug, "rounds", header, rows)


def _claims(model, negotiation: Negotiation):
    return (
        model.objects.filter(round__negotiation=negotiation, round__published=True)
        .select_related("round", "issue")
        .prefetch_related(_cited())
        .order_by(*status.oldest_first(), "id")
    )


@require_GET
def outcomes_csv(request: HttpRequest, slug: str) -> HttpResponse:
    negotiation = _negotiation(slug)
    header = ["round", "round_date", "issue", "status", "text", "source_urls"]
    rows = (
        [o.round.number, o.round.start_date, o.issue.title, o.status, o.text, _urls(o)]
        for o in _claims(Outcome, negotiation)
    )
    return _csv(slug, "outcomes", header, rows)


@require_GET
def positions_csv(request: HttpRequest, slug: str) -> HttpResponse:
    negotiation = _negotiation(slug)
    positions = _claims(Position, negotiation).select_related("party", "responds_to__round")
    header = ["round", "round_date", "party", "issue", "stance", "text", "responds_to_round",
              "source_urls"]  # fmt: skip

    def row(p: Position) -> list:
        answered = p.responds_to
        answers = answered.round.number if answered and answered.round.published else ""
        facts = [p.round.number, p.round.start_date, p.party.name, p.issue.title, p.stance]
        return [*facts, p.text, answers, _urls(p)]

    rows = (row(p) for p in positions)
    return _csv(slug, "positions", header, rows)


def _tl_date(day) -> dict:
    return {"year": day.year, "month": day.month, "day": day.day}


@require_GET
def timelinejs(request: HttpRequest, slug: str) -> JsonResponse:
    """The rounds as a TimelineJS3 JSON document: {"title": slide, "events": [slide…]}."""
    negotiation = _negotiation(slug)
    rounds = (
        Round.objects.filter(negotiation=negotiation, start_date__isnull=False)
        .published()
        .chronological()
        .prefetch_related(
            Prefetch("outcomes", queryset=Outcome.objects.select_related("issue").order_by(
                "issue__order"))
        )
    )  # fmt: skip
    events = []
    for r in rounds:
        page = request.build_absolute_uri(f"/negotiations/{slug}/rounds/{r.number}/")
        outcomes = "".join(
            f"<li>{escape(o.issue.title)}: {escape(o.get_status_display())}</li>"
            for o in r.outcomes.all()
        )
        event = {
            "unique_id": f"round-{r.number}",
            "start_date": _tl_date(r.start_date),
            "text": {
                "headline": escape(str(r)),
                "text": f"<p>{escape(r.summary)}</p>"
                + (f"<ul>{outcomes}</ul>" if outcomes else "")
                + f'<p><a href="{page}">Round page in Parley</a></p>',
            },
            "group": r.get_status_display(),
        }
        if r.end_date and r.end_date != r.start_date:
            event["end_date"] = _tl_date(r.end_date)
        if r.location:
            event["text"]["headline"] += f" — {escape(r.location)}"
        events.append(event)
    document = {
        "title": {
            "text": {
                "headline": escape(negotiation.title),
                "text": f"<p>{escape(negotiation.summary)}</p>",
            }
        },
        "events": events,
    }
    return JsonResponse(document, json_dumps_params={"ensure_ascii": False})
