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
and the import for every issue it wrote. Inside `deferred()` (the round form's save) the
signals only note the issues, and each is worked out once, as the block ends.

Two writers to one issue at once: each locks the issue's row before it writes an outcome
or a position of it (`lock`, in id order), so the second waits for the first to commit
and then works the issue out from what the first wrote, not from what it saw before.
"""

import itertools
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import NamedTuple

from django.db import connections, router, transaction
from django.db.models import QuerySet
from django.db.models.signals import post_delete, post_save, pre_delete, pre_save

from . import status
from .models import Issue, Negotiation, Outcome, Position
from .routers import primary

BATCH = 1000

# The issues whose moves and chains a `deferred()` block will work out as it ends.
_pending: ContextVar[tuple[set, set] | None] = ContextVar("derived_pending", default=None)


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


def lock(issues: Iterable[Issue | int]) -> None:
    """Hold the issues' rows until the transaction ends, taken in id order so that two
    writers cannot each wait for the other. Outside a transaction there is nothing to hold
    them for; SQLite, which lets one transaction write at a time, ignores the lock."""
    database = router.db_for_write(Issue)
    if not connections[database].in_atomic_block:
        return
    ids = sorted({getattr(issue, "pk", issue) for issue in issues} - {None})
    rows = Issue.objects.using(database).select_for_update().filter(pk__in=ids).order_by("pk")
    list(rows.values_list("pk", flat=True))


@contextmanager
def deferred(negotiation: Negotiation) -> Iterator[None]:
    """Lock the negotiation's issues, let the outcome and position writes of the block only
    note their issues, and work each of those out once as the block ends (when nothing
    was raised), inside the caller's transaction."""
    lock(negotiation.issues.values_list("pk", flat=True))
    pending: tuple[set, set] = (set(), set())
    token = _pending.set(pending)
    try:
        yield
    finally:
        _pending.reset(token)
    rework(moves=pending[0], chains=pending[1])


@primary()  # worked out from what was just written, never from a lagging replica
@transaction.atomic
def refresh_moves(issues: Iterable[Issue | int]) -> None:
    issues = list(issues)
    lock(issues)
    rows = Outcome.objects.filter(issue__in=issues)
    stored = {pk: (move,) for pk, move in rows.values_list("pk", "move")}
    wanted = dict.fromkeys(stored, (None,))
    for changes in status.moves(issues).values():
        for number, pk in enumerate(changes, 1):
            wanted[pk] = (number,)
    _store(Outcome, ["move"], stored, wanted)


CHAIN_FIELDS = ["chain", "chain_link", "chain_depth", "chain_size"]


@primary()
@transaction.atomic
def refresh_chains(issues: Iterable[Issue | int]) -> None:
    issues = list(issues)
    lock(issues)
    rows = Position.objects.filter(issue__in=issues)
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
    """Work out both the changes and the chains of the issues (see `rework`)."""
    issues = list(issues)
    rework(moves=issues, chains=issues)


def _issues_of(instance) -> set[int]:
    """The issue a row is on, and the one it was loaded on if it moves."""
    return {instance.issue_id, getattr(instance, "_loaded_issue", instance.issue_id)}


def _deleted_with_its_issue(origin) -> bool:
    deleting = origin.model if isinstance(origin, QuerySet) else type(origin)
    return deleting in (Negotiation, Issue)


def _before_change(sender, instance, origin=None, **kwargs) -> None:
    if _pending.get() is None and not _deleted_with_its_issue(origin):
        lock(_issues_of(instance))  # a `deferred()` block holds them already


def rework(*, moves: Iterable[Issue | int] = (), chains: Iterable[Issue | int] = ()) -> None:
    """Work out the changes of the `moves` issues and the chains of the `chains` ones: now,
    or as the `deferred()` block around this ends."""
    moves, chains = set(moves), set(chains)
    pending = _pending.get()
    if pending is not None:
        pending[0].update(moves)
        pending[1].update(chains)
        return
    if moves:
        refresh_moves(moves)
    if chains:
        refresh_chains(chains)


def _on_change(sender, instance, origin=None, **kwargs) -> None:
    if _deleted_with_its_issue(origin):
        return  # the issue goes too
    if sender is Outcome:
        rework(moves=_issues_of(instance))
    else:
        rework(chains=_issues_of(instance))


def connect_signals() -> None:
    for model in (Outcome, Position):
        pre_save.connect(_before_change, sender=model, dispatch_uid=f"derived-pre-save-{model}")
        pre_delete.connect(_before_change, sender=model, dispatch_uid=f"derived-pre-del-{model}")
        post_save.connect(_on_change, sender=model, dispatch_uid=f"derived-save-{model}")
        post_delete.connect(_on_change, sender=model, dispatch_uid=f"derived-del-{model}")
