"""Search over what readers may see: rounds, outcomes, positions, statements, sources,
people and parties.

On PostgreSQL: weighted full-text search (`websearch_to_tsquery`), ranked, with
highlighted snippets, served by GIN indexes on the same expressions (migration 0003).
Elsewhere: every word must appear in one of the item's fields (case-insensitive), newest
first. People and parties are matched on their names and every alias on both, so
"Podoliyak" finds Podolyak.
"""

import json
from dataclasses import dataclass

from django.contrib.postgres.search import SearchHeadline, SearchQuery, SearchRank, SearchVector
from django.db import connection
from django.db.models import Exists, F, Func, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from .expressions import Probe
from .models import (
    Delegation,
    DelegationMember,
    Outcome,
    OutcomeCitation,
    Party,
    Person,
    Position,
    PositionCitation,
    Round,
    RoundCitation,
    RoundHost,
    Source,
    Statement,
    StatementCitation,
)

CONFIG = "english"


def _vector(*weighted: tuple[str, str]) -> SearchVector:
    vector = None
    for field, weight in weighted:
        part = SearchVector(field, weight=weight, config=CONFIG)
        vector = part if vector is None else vector + part
    return vector


# The indexed expressions: migration 0003 builds a GIN index on each, and the queries use
# the very same expression, which is what lets PostgreSQL use the index.
VECTORS = {  # by model, because migration 0003 looks them up that way
    Round: [("title", "A"), ("summary", "B"), ("location", "C")],
    Outcome: [("text", "B")],
    Position: [("text", "B")],
    Statement: [("text", "A"), ("original", "B")],
    Source: [("title", "A"), ("publisher", "B"), ("author", "B")],
}


def vector(model) -> SearchVector:
    return _vector(*VECTORS[model])


@dataclass
class Kind:
    slug: str
    label: str
    model: type
    snippet_field: str | None


KINDS = [
    Kind("rounds", "Rounds", Round, "summary"),
    Kind("outcomes", "Outcomes", Outcome, "text"),
    Kind("positions", "Positions", Position, "text"),
    Kind("statements", "Statements", Statement, "text"),
    Kind("sources", "Sources", Source, None),
    Kind("people", "People", Person, None),
    Kind("parties", "Parties", Party, None),
]
BY_SLUG = {kind.slug: kind for kind in KINDS}


# However many items match, a search reads a bounded number of them: it counts up to
# COUNT_CAP ("1000+" beyond; OVERVIEW_CAP when every kind is shown), and ranks the
# RANK_WINDOW most recently logged matches, then lists any further ones newest first.
# A word found in 10,000 rounds then costs what a word found in 200 does.
COUNT_CAP = 1000
RANK_WINDOW = 200
# The overview of every kind shows a few of each and counts no further than this; a
# kind's own page counts to COUNT_CAP.
OVERVIEW_CAP = 100


@dataclass
class Group:
    kind: Kind
    results: list
    count: int
    capped: bool = False  # more than `count` match


def _readable(kind: Kind, negotiation) -> QuerySet:
    """What readers may see of this kind, optionally within one negotiation."""
    model = kind.model
    if model is Round:
        items = Round.objects.published().select_related("negotiation")
        return items.filter(negotiation=negotiation) if negotiation else items
    if model in (Outcome, Position, Statement):
        related = {
            Outcome: ["round__negotiation", "issue"],
            Position: ["round__negotiation", "issue", "party"],
            Statement: ["round__negotiation", "person"],
        }[model]
        # Their own copy of the round's negotiation and state (models.InRound).
        items = model.objects.filter(published=True).select_related(*related)
        return items.filter(negotiation=negotiation) if negotiation else items
    if model is Source:
        # A source is readable once a published round, or something in one, cites it:
        # a probe of each citation index per source, never a join of every citation.
        cited = (
            Probe(RoundCitation.objects.filter(source=OuterRef("pk"), round__published=True))
            | Probe(OutcomeCitation.objects.filter(source=OuterRef("pk"), outcome__published=True))
            | Probe(
                PositionCitation.objects.filter(source=OuterRef("pk"), position__published=True)
            )
            | Probe(
                StatementCitation.objects.filter(source=OuterRef("pk"), statement__published=True)
            )
        )
        sources = Source.objects.filter(cited).select_related("negotiation")
        return sources.filter(negotiation=negotiation) if negotiation else sources
    if model is Person:
        people = Person.objects.select_related("party")
        if negotiation:  # those who sat at the table or spoke in it
            in_it = {"negotiation": negotiation, "published": True}
            people = people.filter(
                Exists(Statement.objects.filter(**in_it, person=OuterRef("pk")))
                | Exists(
                    DelegationMember.objects.filter(
                        person=OuterRef("pk"),
                        delegation__negotiation=negotiation,
                        delegation__published=True,
                    )
                )
            )
        return people
    parties = Party.objects.all()
    if negotiation:
        in_it = {"negotiation": negotiation, "published": True, "party": OuterRef("pk")}
        parties = parties.filter(
            Exists(Delegation.objects.filter(**in_it))
            | Exists(RoundHost.objects.filter(**in_it))
            | Exists(Position.objects.filter(**in_it))
        )
    return parties


def _words(query: str) -> list[str]:
    return [word for word in query.split() if any(ch.isalnum() for ch in word)]


def _names(query: str) -> Q:
    """Name or any alias contains the query. Aliases are a JSON list, whose text SQLite
    keeps with \\uXXXX escapes for non-ASCII letters, so look for those too."""
    if not _words(query):
        return Q(pk__in=[])
    escaped = json.dumps(query)[1:-1]
    return Q(name__icontains=query) | Q(aliases__icontains=query) | Q(aliases__icontains=escaped)


def _plain(kind: Kind, items: QuerySet, query: str) -> QuerySet:
    """Every word in one of the fields: the portable match."""
    fields = [field for field, _ in VECTORS[kind.model]]
    for word in _words(query):
        match = Q()
        for field in fields:
            match |= Q(**{f"{field}__icontains": word})
        items = items.filter(match)
    if kind.model is Round:
        return items.newest_first()
    if kind.model is Source:
        return items.order_by(F("published_on").desc(nulls_last=True), "key")
    return items.order_by(F("round__start_date").desc(nulls_last=True), "-round__number", "-id")


def _matching(kind: Kind, items: QuerySet, query: str) -> QuerySet:
    search = SearchQuery(query, search_type="websearch", config=CONFIG)
    return items.annotate(document=vector(kind.model)).filter(document=search)


def _ranked(
    kind: Kind, items: QuerySet, matches: QuerySet, query: str, *, offset: int, limit: int
) -> QuerySet:
    """The best of the RANK_WINDOW most recent matches first; past them, newest first."""
    search = SearchQuery(query, search_type="websearch", config=CONFIG)
    if offset + limit > RANK_WINDOW:
        shown = matches.order_by("-pk")
    else:
        recent = matches.order_by("-pk").values("pk")[:RANK_WINDOW]
        shown = (
            items.filter(pk__in=recent)
            .annotate(rank=SearchRank(vector(kind.model), search))
            .order_by("-rank", "-pk")
        )
    if kind.snippet_field:
        shown = shown.annotate(
            snippet=SearchHeadline(
                kind.snippet_field,
                search,
                config=CONFIG,
                start_sel="\x02",
                stop_sel="\x03",
                highlight_all=True,  # the whole text, cut to size by highlight()
            )
        )
    return shown


SNIPPET = 300  # characters of context around the first match


def highlight(snippet: str) -> SafeString:
    """The text with its matches marked (the database marks them with control
    characters), cut to about SNIPPET characters around the first one, escaped."""
    if len(snippet) > SNIPPET:
        first = max(snippet.find("\x02"), 0)
        start = max(snippet.rfind(" ", 0, max(first - SNIPPET // 3, 0)) + 1, 0)
        end = snippet.find(" ", start + SNIPPET)
        end = len(snippet) if end == -1 else end
        if snippet.count("\x02", start, end) > snippet.count("\x03", start, end):
            end = snippet.index("\x03", end) + 1  # never cut a match in two
        snippet = (
            ("… " if start else "") + snippet[start:end] + (" …" if end < len(snippet) else "")
        )
    marked = escape(snippet).replace("\x02", "<mark>").replace("\x03", "</mark>")
    return mark_safe(marked)  # everything but our own <mark> is escaped


def _capped_count(kind: Kind, matches: QuerySet, cap: int) -> Subquery:
    """How many items match, counting no further than `cap` + 1, as a subquery."""
    first = matches.order_by().values("pk")[: cap + 1]
    counted = kind.model.objects.filter(pk__in=first).order_by()
    return Subquery(
        counted.annotate(n=Func(F("pk"), function="COUNT", output_field=IntegerField())).values("n")
    )


def run(
    query: str, *, negotiation=None, kind: str | None = None, offset: int = 0, limit: int = 20
) -> list[Group]:
    query = query.replace("\x00", "").strip()[:200]  # PostgreSQL text cannot hold NUL
    if not _words(query):
        return []
    full_text = connection.vendor == "postgresql"
    groups, cap = [], COUNT_CAP if kind in BY_SLUG else OVERVIEW_CAP
    for each in [BY_SLUG[kind]] if kind in BY_SLUG else KINDS:
        items = _readable(each, negotiation)
        if each.model in (Person, Party):
            # Few enough to read at once: the count and the page from one query.
            named = list(items.filter(_names(query)).order_by("name")[: cap + 1])
            count, results = len(named), named[offset : offset + limit]
        else:
            if full_text:
                matches = _matching(each, items, query)
                shown = _ranked(each, items, matches, query, offset=offset, limit=limit)
            else:
                matches = shown = _plain(each, items, query)
            # The page and, on each of its rows, how many match (up to the cap): one query.
            results = list(shown.annotate(total=_capped_count(each, matches, cap))[offset:][:limit])
            if results:
                count = results[0].total
            else:  # past the last page, or nothing at all
                count = matches.order_by()[: cap + 1].count() if offset else 0
        if not count:
            continue
        for item in results:
            if getattr(item, "snippet", None):
                item.highlighted = highlight(item.snippet)
        groups.append(Group(each, results, min(count, cap), capped=count > cap))
    return groups
