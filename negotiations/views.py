from django.core.paginator import Paginator
from django.db import Error as DatabaseError
from django.db import connection
from django.db.models import Case, Count, OuterRef, Q, Subquery, Value, When
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from .models import Negotiation, Round

ROUNDS_PER_PAGE = 25


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    published = Round.objects.published().filter(negotiation=OuterRef("pk"))
    latest = published.order_by("-start_date", "-number")
    negotiations = (
        Negotiation.objects.annotate(
            round_count=Count("rounds", filter=Q(rounds__published=True)),
            latest_round_title=Subquery(latest.values("title")[:1]),
            latest_round_date=Subquery(latest.values("start_date")[:1]),
        )
        .alias(
            status_rank=Case(
                When(status=Negotiation.Status.ACTIVE, then=Value(0)),
                When(status=Negotiation.Status.PAUSED, then=Value(1)),
                default=Value(2),
            )
        )
        .order_by("status_rank", "-started_on", "title")
    )
    return render(request, "negotiations/home.html", {"negotiations": negotiations})


@require_GET
def timeline(request: HttpRequest, slug: str) -> HttpResponse:
    negotiation = get_object_or_404(Negotiation, slug=slug)
    rounds = Round.objects.filter(negotiation=negotiation).published().chronological()
    page = Paginator(rounds.for_timeline(), ROUNDS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "negotiations/timeline.html", {"negotiation": negotiation, "page": page})


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness and a database round trip; 503 while the database is unreachable."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        return JsonResponse({"status": "unavailable", "database": "unreachable"}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})
