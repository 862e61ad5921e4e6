"""What readers see: published rounds only, in a fixed number of queries per page."""

from collections import defaultdict
from datetime import date

from django.core.paginator import Paginator
from django.db import Error as DatabaseError
from django.db import connection, connections, router
from django.db.models import (
    BooleanField,
    Case,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    Max,
    OuterRef,
    Prefetch,
    Q,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from .. import search as finder
from .. import status
from ..expressions import Probe
from ..forms import BoardDates, TimelineFilter
from ..models import (
    Delegation,
    DelegationMember,
    Issue,
    Negotiation,
    Outcome,
    Party,
    Person,
    Position,
    Round,
    RoundHost,
    Source,
    Statement,
)

ROUNDS_PER_PAGE = 25
BOARD_COLUMNS = 20
LIST_PAGE = 20
MOVES_PER_PAGE = 12


def _count(rows):
    """A correlated COUNT: joining both rounds and issues to count them would multiply
    the rows (10,000 rounds x 12 issues) before counting."""
    return Coalesce(
        Subquery(rows.order_by().values("negotiation").annotate(n=Count("pk")).values("n")),
        0,
    )


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    published = Round.objects.published().filter(negotiation=OuterRef("pk"))
    latest = published.newest_first().exclude(status=Round.Status.SCHEDULED)
    negotiations = list(
        Negotiation.objects.annotate(
            round_count=_count(published),
            issue_count=_count(Issue.objects.filter(negotiation=OuterRef("pk"))),
            latest_round_title=Subquery(latest.values("title")[:1]),
            latest_round_number=Subquery(latest.values("number")[:1]),
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
    counts = status.counts_by_negotiation()
    for negotiation in negotiations:
        negotiation.counts = counts.get(negotiation.pk, {"agreed": 0, "open": 0})
    return render(request, "negotiations/home.html", {"negotiations": negotiations})


def _published_rounds(negotiation: Negotiation):
    return Round.objects.filter(negotiation=negotiation).published()


def taking_up(issue: Issue, *, walk: bool = False) -> Q:
    """Rounds that recorded an outcome or a position on the issue.

    By default as IN subqueries, each run once: what a filter over all the rounds needs.
    With `walk`, one index probe per round ((issue, published, round) indexes): what a
    page read along round_timeline_idx needs, costing the rounds up to it only."""
    if walk:
        on_it = {"issue": issue, "published": True, "round": OuterRef("pk")}
        return Q(Probe(Outcome.objects.filter(**on_it))) | Q(
            Probe(Position.objects.filter(**on_it))
        )
    return Q(pk__in=Outcome.objects.filter(issue=issue).values("round")) | Q(
        pk__in=Position.objects.filter(issue=issue).values("round")
    )


def taking_part(party: Party) -> Q:
    """Rounds the party sent a delegation to, hosted, or took a position in."""
    return (
        Q(pk__in=Delegation.objects.filter(party=party).values("round"))
        | Q(pk__in=RoundHost.objects.filter(party=party).values("round"))
        | Q(pk__in=Position.objects.filter(party=party).values("round"))
    )


def _parties_of(negotiation: Negotiation):
    """Parties that sent a delegation to, hosted, or took a position in a published round.

    One index probe per party for each: delegations and hosts carry their round's
    negotiation and state (models.InRound, index on negotiation, published, party);
    positions are found through the negotiation's issues ((issue, party) index). No
    round is read, however many the negotiation or the party's others have."""
    in_it = {"party": OuterRef("pk"), "negotiation": negotiation, "published": True}
    return Party.objects.filter(
        Exists(Delegation.objects.filter(**in_it))
        | Exists(RoundHost.objects.filter(**in_it))
        | Exists(
            Position.objects.filter(
                party=OuterRef("pk"), issue__negotiation=negotiation, round__published=True
            )
        )
    ).order_by("name")


@require_GET
@vary_on_headers("HX-Request", "HX-History-Restore-Request")
def timeline(request: HttpRequest, slug: str) -> HttpResponse:
    negotiation = get_object_or_404(Negotiation, slug=slug)
    issues = list(negotiation.issues.order_by("order", "id"))
    parties = list(_parties_of(negotiation))
    rounds = _published_rounds(negotiation)
    years = _years_of(negotiation)
    form = TimelineFilter(request.GET, issues=issues, parties=parties, years=years)
    chosen = form.filters()

    if "issue" in chosen:
        issue = next(i for i in issues if i.slug == chosen["issue"])
        rounds = rounds.filter(taking_up(issue))
    if "party" in chosen:
        party = next(p for p in parties if p.slug == chosen["party"])
        rounds = rounds.filter(taking_part(party))
    if "year" in chosen:
        rounds = rounds.filter(start_date__year=chosen["year"])
    if "format" in chosen:
        rounds = rounds.filter(format=chosen["format"])
    oldest_first = chosen.get("order") == "oldest"
    rounds = rounds.chronological() if oldest_first else rounds.newest_first()

    page = Paginator(rounds.for_timeline(), ROUNDS_PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "negotiation": negotiation,
        "form": form,
        "filtered": bool(chosen.keys() - {"order"}),
        "page": page,
        "today": date.today(),
    }
    template = "negotiations/timeline.html"
    # htmx asks for the list alone; a history restore (the back button, with no cached
    # page) and a boosted link need the whole page.
    if request.htmx and not (request.htmx.boosted or request.htmx.history_restore_request):
        template += "#round-list"
    return render(request, template, context)


# The years with a published round, newest first, by a "loose index scan": from each
# year's first round, jump along round_timeline_idx to the first round of a later year.
# One index probe per year, where DISTINCT over the dates would read every round.
YEARS_SQL = """
WITH RECURSIVE year_start(day) AS (
    SELECT MIN(start_date) FROM negotiations_round
    WHERE negotiation_id = %(negotiation)s AND published AND start_date IS NOT NULL
  UNION ALL
    SELECT (
        SELECT MIN(start_date) FROM negotiations_round
        WHERE negotiation_id = %(negotiation)s AND published AND start_date >= {next_year}
    )
    FROM year_start WHERE day IS NOT NULL
)
SELECT day FROM year_start WHERE day IS NOT NULL
"""
NEXT_YEAR = {
    "postgresql": "CAST(date_trunc('year', day) + interval '1 year' AS date)",
    "sqlite": "date(day, 'start of year', '+1 year')",
}


def _years_of(negotiation: Negotiation) -> list[int]:
    database = connections[router.db_for_read(Round)]
    if database.vendor not in NEXT_YEAR:
        rounds = _published_rounds(negotiation)
        return [d.year for d in rounds.dates("start_date", "year", order="DESC")]
    sql = YEARS_SQL.format(next_year=NEXT_YEAR[database.vendor])
    with database.cursor() as cursor:
        cursor.execute(sql, {"negotiation": negotiation.pk})
        days = [row[0] for row in cursor.fetchall()]
    return sorted({date.fromisoformat(str(day)[:10]).year for day in days}, reverse=True)


# Every citation of a round and of its outcomes, positions and statements, in the order
# they were made: one plain query, where four querysets cost more to build than to run.
CITATIONS_SQL = """
SELECT 'round', round_id, source_id, id FROM negotiations_roundcitation WHERE round_id = %(round)s
UNION ALL
SELECT 'outcome', c.outcome_id, c.source_id, c.id FROM negotiations_outcomecitation c
JOIN negotiations_outcome o ON o.id = c.outcome_id WHERE o.round_id = %(round)s
UNION ALL
SELECT 'position', c.position_id, c.source_id, c.id FROM negotiations_positioncitation c
JOIN negotiations_position p ON p.id = c.position_id WHERE p.round_id = %(round)s
UNION ALL
SELECT 'statement', c.statement_id, c.source_id, c.id FROM negotiations_statementcitation c
JOIN negotiations_statement s ON s.id = c.statement_id WHERE s.round_id = %(round)s
ORDER BY 4
"""


def _number_sources(round_: Round, **groups) -> tuple[list[Source], list[int]]:
    """Number the round's sources in order of first citation (the round's own, then the
    items of `groups`, outcomes, positions and statements, in the order shown) and give
    each item its `refs`: the numbers of its sources, for the footnote links. Two
    queries whatever the page holds: the citations, then the sources they name."""
    cited = defaultdict(list)
    database = connections[router.db_for_read(Source)]
    with database.cursor() as cursor:
        cursor.execute(CITATIONS_SQL, {"round": round_.pk})
        for kind, owner, source, _ in cursor.fetchall():
            cited[kind, owner].append(source)
    sources = Source.objects.in_bulk({pk for pks in cited.values() for pk in pks})
    numbered: dict[int, Source] = {}

    def refs(kind: str, owner: int) -> list[int]:
        for pk in cited[kind, owner]:
            if pk not in numbered:
                numbered[pk] = sources[pk]
                numbered[pk].number = len(numbered)
        return sorted(numbered[pk].number for pk in cited[kind, owner])

    round_refs = refs("round", round_.pk)
    for kind, items in groups.items():
        for item in items:
            item.refs = refs(kind, item.pk)
    return list(numbered.values()), round_refs


def _sources_in_order(through: str):
    return Prefetch("sources", queryset=Source.objects.order_by(f"{through}__id"))


@require_GET
def round_detail(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    round_ = get_object_or_404(
        Round.objects.published().select_related("negotiation"),
        negotiation__slug=slug,
        number=number,
    )
    negotiation = round_.negotiation
    delegations = list(
        round_.delegations.select_related("party").prefetch_related(
            Prefetch(
                "members",
                queryset=DelegationMember.objects.select_related("person").order_by(
                    "-is_head", "id"
                ),
            )
        )
    )
    outcomes = list(
        status.with_previous_status(round_.outcomes.all(), round_)
        .select_related("issue")
        .order_by("issue__order", "issue_id")
    )
    positions = list(
        status.with_previous_stance(round_.positions.all(), round_)
        .select_related("party", "issue", "responds_to__party", "responds_to__round")
        .order_by("party__name", "issue__order", "id")
    )
    statements = list(
        round_.statements.select_related("person__party").order_by(
            F("said_on").asc(nulls_last=True), "id"
        )
    )
    sources, round_refs = _number_sources(
        round_, outcome=outcomes, position=positions, statement=statements
    )

    positions_by_party: dict[Party, list[Position]] = defaultdict(list)
    for position in positions:
        positions_by_party[position.party].append(position)

    previous, following = _neighbours(round_)
    return render(
        request,
        "negotiations/round.html",
        {
            "negotiation": negotiation,
            "round": round_,
            "hosts": round_.hosts.order_by("roundhost__id"),
            "delegations": delegations,
            "outcomes": outcomes,
            "moved": [o for o in outcomes if o.previous_status != o.status],
            "new_positions": [p for p in positions if p.previous_stance != p.stance],
            "positions_by_party": dict(positions_by_party),
            "statements": statements,
            "sources": sources,
            "round_refs": round_refs,
            "previous": previous,
            "next": following,
        },
    )


def _neighbours(round_: Round) -> tuple[Round | None, Round | None]:
    """The published rounds just before and just after `round_`, in one query.

    Each candidate is the first row of a walk along round_timeline_idx that starts at
    `round_`'s date (undated rounds come last), so the walk reads a row or two, not the
    half of the negotiation on the other side."""
    others = _published_rounds(round_.negotiation).exclude(pk=round_.pk)
    day, number = round_.start_date, round_.number
    if day is None:
        before = others.filter(Q(start_date__isnull=False) | Q(number__lt=number))
        after = [others.filter(start_date__isnull=True, number__gt=number)]
    else:
        before = others.filter(start_date__lte=day).exclude(start_date=day, number__gt=number)
        after = [
            others.filter(start_date__gte=day).exclude(start_date=day, number__lt=number),
            others.filter(start_date__isnull=True),
        ]
    candidates = Q(pk=Subquery(before.newest_first().values("pk")[:1]))
    for rounds in after:
        candidates |= Q(pk=Subquery(rounds.chronological().values("pk")[:1]))
    previous = following = None
    for neighbour in sorted(Round.objects.filter(candidates).order_by(), key=_order):
        if _order(neighbour) < _order(round_):
            previous = neighbour
        elif following is None:
            following = neighbour
    return previous, following


def _order(round_: Round) -> tuple:
    """A round's place in `Round.objects.chronological()`: undated rounds last."""
    return (round_.start_date is None, round_.start_date or date.min, round_.number)


def _ended_by(rounds, as_of: date | None):
    if as_of is None:
        return rounds
    return rounds.alias(ended_on=Coalesce("end_date", "start_date")).filter(ended_on__lte=as_of)


@require_GET
def board(request: HttpRequest, slug: str) -> HttpResponse:
    negotiation = get_object_or_404(Negotiation, slug=slug)
    form = BoardDates(request.GET)
    dates = form.dates()
    as_of, compare = dates.get("as_of"), dates.get("compare")
    if as_of and compare and compare > as_of:
        compare, as_of = as_of, compare

    statuses = status.issue_statuses(negotiation, as_of=as_of)
    held = _ended_by(_published_rounds(negotiation).held(), as_of)
    page = Paginator(held.newest_first(), BOARD_COLUMNS).get_page(request.GET.get("page"))
    columns = list(reversed(page.object_list))
    recorded = {
        (round_id, issue_id): state
        for round_id, issue_id, state in Outcome.objects.filter(
            round__in=[r.pk for r in columns]
        ).values_list("round_id", "issue_id", "status")
    }
    # A cell is one of a dozen: each is drawn once, not once per round and issue.
    drawn = {
        state: render_to_string("negotiations/_board_cell.html", {"state": state})
        for state in [None, *Outcome.Status.values]
    }
    rows = [
        (current, mark_safe("".join(drawn[recorded.get((r.pk, issue.pk))] for r in columns)))
        for current in statuses
        for issue in [current.issue]
    ]

    trails = status.stance_trails(negotiation, as_of=as_of)
    party_ids = {t.party_id for t in trails}
    parties = list(Party.objects.filter(pk__in=party_ids).order_by("name"))
    by_pair = {(t.party_id, t.issue_id): t for t in trails}
    stance_rows = [
        (party, [by_pair.get((party.pk, s.issue.pk)) for s in statuses]) for party in parties
    ]

    return render(
        request,
        "negotiations/board.html",
        {
            "negotiation": negotiation,
            "form": form,
            "as_of": as_of,
            "compare": compare,
            "counts": status.status_counts(statuses),
            "statuses": statuses,
            "columns": columns,
            "rows": rows,
            "page": page,
            "changes": (status.status_changes(negotiation, compare, as_of) if compare else None),
            "stance_rows": stance_rows,
            "trail_rounds": status.TRAIL_ROUNDS,
            "legend": Outcome.Status.choices,
            "stances": Position.Stance.choices,
        },
    )


CHAIN_START, CHAIN_END = 3, 5  # a long chain shows its opening and its latest links
CHAINS_PER_PAGE = 10
LONG_CHAIN = CHAIN_START + CHAIN_END + 1


def _numbered_page(count: int, per_page: int, number, *, latest_first=False):
    """A page of the numbers 1…count, which is what stored changes and chains are
    numbered: the page says which to read, without reading any."""
    numbers = range(count, 0, -1) if latest_first else range(1, count + 1)
    return Paginator(numbers, per_page).get_page(number)


def _drawn(chains) -> Q:
    """The links drawn of the page's chains: all of a short chain, the opening and the
    latest links of a long one."""
    return Q(chain__in=chains.object_list) & (
        Q(chain_size__lte=LONG_CHAIN)
        | Q(chain_link__lt=CHAIN_START)
        | Q(chain_link__gte=F("chain_size") - CHAIN_END)
    )


def _chains(chains, drawn: list[Position]) -> None:
    """Turn the page of chain numbers and their drawn links into chains: their opening
    links, the number of links skipped, and their latest links."""
    by_chain = {n: {"start": [], "skipped": 0, "end": []} for n in chains.object_list}
    for position in sorted(drawn, key=lambda p: (p.chain, p.chain_link)):
        chain = by_chain[position.chain]
        long = position.chain_size > LONG_CHAIN
        part = "end" if long and position.chain_link >= CHAIN_START else "start"
        chain[part].append((position.chain_depth, position))
        if long:
            chain["skipped"] = position.chain_size - CHAIN_START - CHAIN_END
    chains.object_list = list(by_chain.values())


@require_GET
def issue_detail(request: HttpRequest, slug: str, issue: str) -> HttpResponse:
    issue = get_object_or_404(
        Issue.objects.select_related("negotiation"), negotiation__slug=slug, slug=issue
    )
    negotiation = issue.negotiation
    # The outcomes that changed the issue's status and the chains of answers are stored
    # and numbered 1…N (see derived): the latest change tells how many there are, and a
    # page of either is a range of numbers, read off an index.
    moves = Outcome.objects.filter(issue=issue, move__isnull=False).select_related("round")
    current = moves.order_by("-move").first()
    history = _numbered_page(
        current.move if current else 0,
        MOVES_PER_PAGE,
        request.GET.get("history"),
        latest_first=True,  # page 1 holds the latest changes
    )
    shown_moves = history.object_list
    shown_moves = moves.filter(move__range=(shown_moves[-1], shown_moves[0])) if current else []

    rounds = _published_rounds(negotiation).filter(taking_up(issue, walk=True)).chronological()
    published = Position.objects.filter(issue=issue, published=True)
    paginator = Paginator(rounds, LIST_PAGE)
    # Counted from the issue's own outcomes and positions (their copies of the round's
    # state, see InRound), not by checking every round of the negotiation.
    paginator.count = (
        Outcome.objects.filter(issue=issue, published=True)
        .values("round")
        .union(published.values("round"))
        .count()
    )
    page = paginator.get_page(request.GET.get("page"))
    shown = [r.pk for r in page.object_list]
    outcome_in = {o.round_id: o for o in Outcome.objects.filter(issue=issue, round__in=shown)}
    parties = list(
        Party.objects.filter(Exists(published.filter(party=OuterRef("pk")))).order_by("name")
    )
    in_chains = published.filter(chain__isnull=False).aggregate(count=Max("chain"))["count"]
    chains = _numbered_page(in_chains or 0, CHAINS_PER_PAGE, request.GET.get("chains"))
    # The positions of the rounds shown and the links of the chains shown, in one query.
    drawn = _drawn(chains)
    loaded = list(
        published.filter(Q(round__in=shown) | drawn)
        .annotate(drawn=ExpressionWrapper(drawn, output_field=BooleanField()))
        .select_related("party", "round")
        .order_by("id")
    )
    positions_in: dict[tuple[int, int], list[Position]] = defaultdict(list)
    for position in loaded:
        if position.round_id in shown:
            positions_in[position.round_id, position.party_id].append(position)
    _chains(chains, [p for p in loaded if p.drawn])
    rows = [
        (r, outcome_in.get(r.pk), [positions_in.get((r.pk, p.pk), []) for p in parties])
        for r in page.object_list
    ]
    return render(
        request,
        "negotiations/issue.html",
        {
            "negotiation": negotiation,
            "issue": issue,
            "current": current,
            "moves": sorted(shown_moves, key=lambda outcome: outcome.move),
            "history": history,
            "parties": parties,
            "rows": rows,
            "page": page,
            "chains": chains,
        },
    )


@require_GET
def party_detail(request: HttpRequest, slug: str) -> HttpResponse:
    party = get_object_or_404(Party, slug=slug)
    rounds = (
        Round.objects.published()
        .filter(taking_part(party))
        .annotate(
            hosted=Exists(RoundHost.objects.filter(round=OuterRef("pk"), party=party)),
            position_count=Count("positions", filter=Q(positions__party=party)),
        )
        .select_related("negotiation")
        .newest_first()
    )
    page = Paginator(rounds, LIST_PAGE).get_page(request.GET.get("page"))
    delegations = {
        d.round_id: d
        for d in Delegation.objects.filter(
            party=party, round__in=[r.pk for r in page.object_list]
        ).prefetch_related(
            Prefetch(
                "members",
                queryset=DelegationMember.objects.select_related("person").order_by(
                    "-is_head", "id"
                ),
            )
        )
    }
    rows = [(r, delegations.get(r.pk)) for r in page.object_list]
    negotiations = Negotiation.objects.filter(
        pk__in=Round.objects.published().filter(taking_part(party)).values("negotiation")
    ).order_by("title")
    statements = (
        Statement.objects.filter(person__party=party, published=True)
        .select_related("person", "round__negotiation")
        .order_by(F("said_on").desc(nulls_last=True), "-id")[:10]
    )
    return render(
        request,
        "negotiations/party.html",
        {
            "party": party,
            "negotiations": negotiations,
            "rows": rows,
            "page": page,
            "people": party.people.order_by("name"),
            "statements": statements,
        },
    )


@require_GET
def person_detail(request: HttpRequest, slug: str) -> HttpResponse:
    person = get_object_or_404(Person.objects.select_related("party"), slug=slug)
    # Newest first, on the member's copy of its round's date and number (one index).
    memberships = (
        DelegationMember.objects.filter(person=person, published=True)
        .select_related("delegation__party", "delegation__round__negotiation")
        .order_by(F("round_start_date").desc(nulls_last=True), "-round_number", "-id")
    )
    page = Paginator(memberships, LIST_PAGE).get_page(request.GET.get("page"))
    statements = Paginator(
        Statement.objects.filter(person=person, published=True)
        .select_related("round__negotiation")
        .prefetch_related(_sources_in_order("statementcitation"))
        .order_by(F("said_on").desc(nulls_last=True), "-id"),
        LIST_PAGE,
    ).get_page(request.GET.get("statements"))
    return render(
        request,
        "negotiations/person.html",
        {
            "person": person,
            "page": page,
            "statements": statements,
        },
    )


SEARCH_LIMIT = 20


@require_GET
@vary_on_headers("HX-Request")
def search(request: HttpRequest) -> HttpResponse:
    """Search what readers can see, grouped by kind; one kind at a time is paginated."""
    query = request.GET.get("q", "").strip()[:200]
    negotiations = list(Negotiation.objects.order_by("title"))
    negotiation = next((n for n in negotiations if n.slug == request.GET.get("in")), None)
    kind = request.GET.get("kind") if request.GET.get("kind") in finder.BY_SLUG else None
    groups, page = [], None
    if kind:
        total = finder.run(query, negotiation=negotiation, kind=kind, limit=1)
        count = total[0].count if total else 0
        page = Paginator(range(count), SEARCH_LIMIT).get_page(request.GET.get("page"))
        if count:
            groups = finder.run(
                query,
                negotiation=negotiation,
                kind=kind,
                offset=page.start_index() - 1,
                limit=SEARCH_LIMIT,
            )
    else:
        groups = finder.run(query, negotiation=negotiation, limit=SEARCH_LIMIT // 4)
    context = {
        "query": query,
        "groups": groups,
        "page": page,
        "negotiations": negotiations,
        "negotiation": negotiation,
        "kinds": finder.KINDS,
        "kind": kind,
        "full_text": connection.vendor == "postgresql",
    }
    template = "negotiations/search.html"
    if request.htmx and not (request.htmx.boosted or request.htmx.history_restore_request):
        template += "#results"
    return render(request, template, context)


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
