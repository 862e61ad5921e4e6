"""What an issue's page shows of the issue's whole past, worked out when something changes
and stored, so that a page of it reads a page of rows at 10,000 rounds as at 100:

- `Outcome.move`: the outcome's place (1, 2, …) among the outcomes that changed the
  issue's status as readers see it (`status.moves`); None for the others.
- `Position.chain`, `chain_link`, `chain_depth`, `chain_size`: the chains of published
  positions answering one another: the chain's place among the issue's chains (oldest
  opening first), the position's place in its chain (depth first), its depth, and the
  chain's length; None for positions in no chain.

`refresh_moves` and `refresh_chains` recompute them for whole issues (given as issues or
ids), in a few queries however many, writing only the rows that change. The signals
connected here call them for the issue of every outcome or position saved or deleted,
`Round.save` for the issues of a round that moved, changed state or was (un)published,
and the import for every issue it wrote.
"""

import itertools
from collections import defaultdict
from collections.abc import Iterable
from typing import NamedTuple

from django.db import connections, router
from django.db.models import QuerySet
from django.db.models.signals import post_delete, post_save

from . import status
from .models import Issue, Negotiation, Outcome, Position
from .routers import primary

BATCH = 1000


class Link(NamedTuple):
    """A position as the lineage needs it."""

    pk: int
    responds_to_id: int | None


def lineage(positions: list[Link]) -> list[list[tuple[int, Link]]]:
    """Chains of positions that answer one another, as (depth, position) lists, one per
    opening position, depth-first. Only chains of two or more."""
    by_id = {p.pk: p for p in positions}
    answers: dict[int, list[Link]] = defaultdict(list)
    for position in positions:
        if position.responds_to_id in by_id:
            answers[position.responds_to_id].append(position)
    chains = []
    for position in positions:
        if position.responds_to_id in by_id or position.pk not in answers:
            continue
        chain, stack = [], [(0, position)]
        while stack:
            depth, node = stack.pop()
            chain.append((depth, node))
            stack.extend((depth + 1, a) for a in reversed(answers[node.pk]))
        chains.append(chain)
    return chains


def _store(model, fields: list[str], stored: dict[int, tuple], wanted: dict[int, tuple]) -> None:
    """Write the values in `wanted` (by pk) that differ from those `stored`: one UPDATE
    from a VALUES list per BATCH rows. (`bulk_update` builds a CASE per field and row in
    Python, which costs seconds for the tens of thousands of rows an import changes.)"""
    changed = [(pk, *values) for pk, values in wanted.items() if stored[pk] != values]
    connection = connections[router.db_for_write(model)]
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    assignments = ", ".join(
        f"{quote(model._meta.get_field(name).column)} = CAST(v.column{i} AS integer)"
        for i, name in enumerate(fields, start=2)
    )
    row = "(" + ", ".join(["%s"] * (len(fields) + 1)) + ")"
    with connection.cursor() as cursor:
        for batch in itertools.batched(changed, BATCH):
            cursor.execute(
                f"UPDATE {table} SET {assignments} FROM (VALUES {', '.join([row] * len(batch))})"
                f" AS v WHERE {table}.{quote(model._meta.pk.column)} = v.column1",
                [value for values in batch for value in values],
            )


@primary()  # worked out from what was just written, never from a lagging replica
def refresh_moves(issues: Iterable[Issue | int]) -> None:
    issues = list(issues)
    rows = Outcome.objects.filter(issue__in=issues)
    stored = {pk: (move,) for pk, move in rows.values_list("pk", "move")}
    wanted = dict.fromkeys(stored, (None,))
    for changes in status.moves(issues).values():
        for number, pk in enumerate(changes, 1):
            wanted[pk] = (number,)
    _store(Outcome, ["move"], stored, wanted)


CHAIN_FIELDS = ["chain", "chain_link", "chain_depth", "chain_size"]


@primary()
def refresh_chains(issues: Iterable[Issue | int]) -> None:
    rows = Position.objects.filter(issue__in=list(issues))
    stored = {pk: tuple(values) for pk, *values in rows.values_list("pk", *CHAIN_FIELDS)}
    wanted = dict.fromkeys(stored, (None,) * len(CHAIN_FIELDS))
    published = rows.filter(published=True).order_by("issue", *status.oldest_first(), "id")
    links = published.values_list("issue", "pk", "responds_to_id")
    for _, of_issue in itertools.groupby(links, key=lambda row: row[0]):
        chains = lineage([Link(pk, answers) for _, pk, answers in of_issue])
        for number, chain in enumerate(chains, 1):
            for place, (depth, link) in enumerate(chain):
                wanted[link.pk] = (number, place, depth, len(chain))
    _store(Position, CHAIN_FIELDS, stored, wanted)


def refresh(issues: Iterable[Issue | int]) -> None:
    issues = list(issues)
    refresh_moves(issues)
    refresh_chains(issues)


def _on_change(sender, instance, origin=None, **kwargs) -> None:
    deleting = origin.model if isinstance(origin, QuerySet) else type(origin)
    if deleting in (Negotiation, Issue):
        return  # the issue goes too
    ids = {instance.issue_id, getattr(instance, "_loaded_issue", instance.issue_id)}
    (refresh_moves if sender is Outcome else refresh_chains)(ids)


def connect_signals() -> None:
    for model in (Outcome, Position):
        post_save.connect(_on_change, sender=model, dispatch_uid=f"derived-save-{model}")
        post_delete.connect(_on_change, sender=model, dispatch_uid=f"derived-del-{model}")
