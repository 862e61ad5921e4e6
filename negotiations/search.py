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
from django.db.models import F, Func, IntegerField, Q, QuerySet, Subquery
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from .models import (
    Delegation,
    DelegationMember,
    Outcome,
    Party,
    Person,
    Position,
    Round,
    RoundHost,
    Source,
    Statement,
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
# COUNT_CAP ("1000+" beyond), and ranks the RANK_WINDOW most recently logged matches,
# then lists any further ones newest first. A word found in 10,000 rounds then costs
# what a word found in 200 does.
COUNT_CAP = 1000
RANK_WINDOW = 200


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
        items = model.objects.filter(round__published=True).select_related(*related)
        return items.filter(round__negotiation=negotiation) if negotiation else items
    if model is Source:
        # A source is readable once a published round, or something in one, cites it.
        cited = (
            Q(rounds__published=True)
            | Q(outcomes__round__published=True)
            | Q(positions__round__published=True)
            | Q(statements__round__published=True)
        )
        ids = Source.objects.filter(cited)
        if negotiation:
            ids = ids.filter(negotiation=negotiation)
        return Source.objects.filter(pk__in=ids.values("pk")).select_related("negotiation")
    if model is Person:
        people = Person.objects.select_related("party")
        if negotiation:  # those who sat at the table or spoke in it
            in_it = {"round__negotiation": negotiation, "round__published": True}
            people = people.filter(
                Q(pk__in=Statement.objects.filter(**in_it).values("person"))
                | Q(
                    pk__in=DelegationMember.objects.filter(
                        delegation__round__negotiation=negotiation,
                        delegation__round__published=True,
                    ).values("person")
                )
            )
        return people
    parties = Party.objects.all()
    if negotiation:
        in_it = {"round__negotiation": negotiation, "round__published": True}
        parties = parties.filter(
            Q(pk__in=Delegation.objects.filter(**in_it).values("party"))
            | Q(pk__in=RoundHost.objects.filter(**in_it).values("party"))
            | Q(pk__in=Position.objects.filter(**in_it).values("party"))
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


def _capped_count(kind: Kind, matches: QuerySet) -> Subquery:
    """How many items match, counting no further than COUNT_CAP + 1, as a subquery."""
    first = matches.order_by().values("pk")[: COUNT_CAP + 1]
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
    groups = []
    for each in [BY_SLUG[kind]] if kind in BY_SLUG else KINDS:
        items = _readable(each, negotiation)
        if each.model in (Person, Party):
            # Few enough to read at once: the count and the page from one query.
            named = list(items.filter(_names(query)).order_by("name")[: COUNT_CAP + 1])
            count, results = len(named), named[offset : offset + limit]
        else:
            if full_text:
                matches = _matching(each, items, query)
                shown = _ranked(each, items, matches, query, offset=offset, limit=limit)
            else:
                matches = shown = _plain(each, items, query)
            # The page and, on each of its rows, how many match (up to the cap): one query.
            results = list(shown.annotate(total=_capped_count(each, matches))[offset:][:limit])
            if results:
                count = results[0].total
            else:  # past the last page, or nothing at all
                count = matches.order_by()[: COUNT_CAP + 1].count() if offset else 0
        if not count:
            continue
        for item in results:
            if getattr(item, "snippet", None):
                item.highlighted = highlight(item.snippet)
        groups.append(Group(each, results, min(count, COUNT_CAP), capped=count > COUNT_CAP))
    return groups
