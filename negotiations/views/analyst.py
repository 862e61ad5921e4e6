"""The analysts' workspace (/log/): log and edit rounds, publish them, read and restore
their history, import parley/1 files. Every view needs a signed-in user with the role's
permission: anonymous users are sent to sign in, others without it get 403."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from .. import history
from ..editor import RoundEditor
from ..forms.analyst import ImportForm
from ..interchange import InvalidDocument, import_negotiation
from ..models import Issue, Negotiation, Round

CLASH = (
    "Nothing was saved: these rows clash with rows of the round that the form did not "
    "send (two heads of one delegation, or one person twice in it). Open the round again "
    "to see all its rows."
)


def role_required(permission: str):
    """Signed in (else the sign-in page) and holding `permission` (else 403)."""

    def decorator(view):
        return login_required(permission_required(permission, raise_exception=True)(view))

    return decorator


def _round(slug: str, number: int) -> Round:
    return get_object_or_404(
        Round.objects.select_related("negotiation"), negotiation__slug=slug, number=number
    )


@require_GET
@role_required("negotiations.change_round")
def workspace(request: HttpRequest) -> HttpResponse:
    drafts = (
        Round.objects.filter(published=False)
        .select_related("negotiation")
        .order_by("-updated_at")[:50]
    )
    recent = history.recent_round_changes(limit=20)
    negotiations = Negotiation.objects.order_by("title")
    return render(
        request,
        "log/workspace.html",
        {"drafts": drafts, "recent": recent, "negotiations": negotiations},
    )


def _edit(request: HttpRequest, negotiation: Negotiation, round_: Round | None) -> HttpResponse:
    if request.method == "GET":
        editor = RoundEditor.for_request(negotiation, round_)
        return render(request, "log/round_form.html", {"editor": editor})

    editor = RoundEditor.for_request(negotiation, round_, request.POST)
    template = "log/round_form.html"
    if request.htmx and editor.added:
        template += "#round-form"  # a row was added: only the form comes back
    if not editor.saving:
        return render(request, template, {"editor": editor})
    if not editor.is_valid():
        return render(request, template, {"editor": editor}, status=400)

    try:
        with transaction.atomic():
            if round_ is not None:
                current = Round.objects.select_for_update().get(pk=round_.pk)
                started_from = editor.facts.cleaned_data.get("version")
                if started_from != current.version:
                    return _conflict(request, negotiation, current, editor, started_from)
            saved = editor.save()
    except IntegrityError:
        # Rows that pass the form's checks but clash with rows the form did not send
        # (a hand-made or truncated POST): nothing was written; the input comes back.
        latest = round_ and Round.objects.select_related("negotiation").get(pk=round_.pk)
        retry = RoundEditor.for_request(negotiation, latest, request.POST)
        retry.is_valid()
        retry.facts.add_error(None, CLASH)
        return render(request, template, {"editor": retry}, status=400)
    verb = "Saved" if round_ else "Logged"
    state = "published" if saved.published else "a draft, not yet visible to readers"
    messages.success(request, f"{verb} round {saved.number}: {saved}. It is {state}.")
    return redirect("log-round", negotiation.slug, saved.number)


def _conflict(request, negotiation, current: Round, editor: RoundEditor, started_from):
    """Somebody saved the round after this person opened it: show what they changed, and
    the form again with everything this person typed, now based on the latest version."""
    found = history.conflict(current, started_from, editor.facts.cleaned_data)
    data = request.POST.copy()
    data["version"] = str(current.version)
    data.pop("action", None)
    # A fresh copy: checking the form writes the typed values onto its instance.
    latest = Round.objects.select_related("negotiation").get(pk=current.pk)
    retry = RoundEditor.for_request(negotiation, latest, data)
    retry.is_valid()
    return render(request, "log/round_form.html", {"editor": retry, "conflict": found}, status=409)


@require_http_methods(["GET", "POST"])
@role_required("negotiations.add_round")
def round_new(request: HttpRequest, slug: str) -> HttpResponse:
    negotiation = get_object_or_404(Negotiation, slug=slug)
    return _edit(request, negotiation, None)


@require_http_methods(["GET", "POST"])
@role_required("negotiations.change_round")
def round_edit(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    round_ = _round(slug, number)
    return _edit(request, round_.negotiation, round_)


@require_POST
@role_required("negotiations.publish_round")
def round_publish(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    round_ = _round(slug, number)
    publish = request.POST.get("publish") == "1"
    if round_.published != publish:
        round_.published = publish
        round_._change_reason = "Published" if publish else "Unpublished"
        round_.save()
    if publish:
        messages.success(request, f"Round {round_.number} is published: readers can see it.")
    else:
        messages.success(request, f"Round {round_.number} is a draft again: readers cannot see it.")
    return redirect("log-round", slug, number)


@require_GET
@role_required("negotiations.change_round")
def round_history(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    round_ = _round(slug, number)
    entries = Paginator(history.round_changes(round_), 50).get_page(request.GET.get("page"))
    return render(request, "log/history.html", {"round": round_, "page": entries})


@require_POST
@role_required("negotiations.restore_round")
def round_restore(request: HttpRequest, slug: str, number: int, history_id: int) -> HttpResponse:
    round_ = _round(slug, number)
    record = get_object_or_404(round_.history, history_id=history_id)
    history.restore(round_, record)
    messages.success(
        request,
        f"Restored round {round_.number}'s facts as they were on "
        f"{record.history_date:%d %B %Y, %H:%M} (now version {round_.version}).",
    )
    return redirect("log-round-history", slug, round_.number)


@require_GET
@role_required("negotiations.change_round")
def issue_history(request: HttpRequest, slug: str, issue: str) -> HttpResponse:
    issue = get_object_or_404(
        Issue.objects.select_related("negotiation"), negotiation__slug=slug, slug=issue
    )
    changes = Paginator(history.issue_changes(issue), 50).get_page(request.GET.get("page"))
    return render(request, "log/issue_history.html", {"issue": issue, "page": changes})


@require_http_methods(["GET", "POST"])
@role_required("negotiations.import_negotiation")
def import_file(request: HttpRequest) -> HttpResponse:
    form = ImportForm(request.POST or None, request.FILES or None)
    problems, result = [], None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        limit = settings.PARLEY_IMPORT_MAX_BYTES
        if upload.size > limit:
            form.add_error("file", f"The file is {upload.size:,} bytes; the limit is {limit:,}.")
        else:
            try:
                result = import_negotiation(
                    upload.read(),
                    replace=form.cleaned_data["replace"],
                    user=request.user,
                    reason=form.cleaned_data["reason"] or f"Imported {upload.name}",
                )
            except InvalidDocument as error:
                problems = error.problems
    status = 400 if request.method == "POST" and (problems or form.errors) else 200
    return render(
        request,
        "log/import.html",
        {"form": form, "problems": problems, "result": result},
        status=status,
    )
