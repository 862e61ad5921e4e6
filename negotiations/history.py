"""The audit trail, read from django-simple-history: what changed, field by field, who
changed it and when; conflicts between two analysts; restoring a round's facts."""

from dataclasses import dataclass, field
from datetime import datetime

from django.db import models as db

from .models import (
    Delegation,
    DelegationMember,
    Negotiation,
    Outcome,
    OutcomeCitation,
    Position,
    PositionCitation,
    Round,
    RoundCitation,
    RoundHost,
    Statement,
    StatementCitation,
)

# The facts of a round that its form edits and a restore brings back. The number is left
# alone: it is the round's address.
RESTORED = ["title", "status", "start_date", "end_date", "location", "format", "summary"]
FACTS = ["number", *RESTORED]
ACTIONS = {"+": "added", "~": "changed", "-": "removed"}
IGNORED = {"id", "version", "negotiation"}


@dataclass
class Change:
    field: str
    before: str
    after: str


@dataclass
class Entry:
    when: datetime
    user: object
    kind: str
    label: str
    action: str
    reason: str | None
    history_id: int
    changes: list[Change] = field(default_factory=list)
    version: int | None = None


class _Names:
    """Display values for foreign keys, fetched in bulk per related model."""

    def __init__(self):
        self.wanted: dict[type, set] = {}
        self.found: dict[type, dict] = {}

    def want(self, model, pk) -> None:
        if pk is not None:
            self.wanted.setdefault(model, set()).add(pk)

    def fetch(self) -> None:
        for model, pks in self.wanted.items():
            self.found[model] = model.objects.in_bulk(pks)

    def name(self, model, pk) -> str:
        if pk is None:
            return "—"
        obj = self.found.get(model, {}).get(pk)
        return str(obj) if obj is not None else f"#{pk} (since removed)"


def _fields(history_model) -> list[db.Field]:
    """The facts a record shows: not the copies of their round a row keeps for fast
    reading (InRound, DelegationMember), which nobody edits."""
    return [f for f in history_model.tracked_fields if f.name not in IGNORED and f.editable]


def _display(f: db.Field, value, names: _Names) -> str:
    if value in (None, ""):
        return "—"
    if f.is_relation:
        return names.name(f.related_model, value)
    if f.choices:
        return str(dict(f.flatchoices).get(value, value))
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def entries(model, records, names: _Names | None = None) -> list[Entry]:
    """One entry per history record, with the fields it changed against the record
    before it (of the same object)."""
    history_model = model.history.model
    fields = _fields(history_model)
    names = names or _Names()
    records = sorted(records, key=lambda r: (r.id, r.history_date, r.history_id))
    for record in records:
        for f in fields:
            if f.is_relation:
                names.want(f.related_model, getattr(record, f.attname))
    names.fetch()
    result, previous = [], None
    for record in records:
        before = previous if previous is not None and previous.id == record.id else None
        changes = []
        for f in fields:
            new = getattr(record, f.attname)
            old = getattr(before, f.attname) if before is not None else None
            if record.history_type == "-":
                continue
            if before is None and new in (None, "", False, []):
                continue
            if before is not None and old == new:
                continue
            changes.append(Change(f.verbose_name, _display(f, old, names), _display(f, new, names)))
        if record.history_type == "~" and not changes and before is not None:
            previous = record
            continue  # a save that changed nothing this page shows
        result.append(
            Entry(
                when=record.history_date,
                user=record.history_user,
                kind=model._meta.verbose_name.capitalize(),
                label=_describe(model, record, names),
                action=ACTIONS[record.history_type],
                reason=record.history_change_reason,
                history_id=record.history_id,
                changes=changes,
                version=getattr(record, "version", None),
            )
        )
        previous = record
    return result


def _describe(model, record, names: _Names) -> str:
    """What the record is about, in words ("Russia's demand on Crimea")."""
    if model is Round:
        return record.title or f"Round {record.number}"
    if model is Outcome:
        return f"on {names.name(Outcome.issue.field.related_model, record.issue_id)}"
    if model is Position:
        party = names.name(Position.party.field.related_model, record.party_id)
        issue = names.name(Position.issue.field.related_model, record.issue_id)
        return f"{party} on {issue}"
    if model is Statement:
        return f"by {names.name(Statement.person.field.related_model, record.person_id)}"
    if model is Delegation:
        return names.name(Delegation.party.field.related_model, record.party_id)
    if model is DelegationMember:
        return names.name(DelegationMember.person.field.related_model, record.person_id)
    if model is RoundHost:
        return names.name(RoundHost.party.field.related_model, record.party_id)
    source = names.name(RoundCitation.source.field.related_model, record.source_id)
    return f"source {source}"


def round_changes(round_: Round) -> list[Entry]:
    """Every change to a round and to what belongs to it, newest first."""
    pk = round_.pk
    ever = {
        name: set(model.history.filter(round_id=pk).values_list("id", flat=True))
        for name, model in [("delegation", Delegation), ("outcome", Outcome),
                            ("position", Position), ("statement", Statement)]
    }  # fmt: skip
    sources = [
        (Round, Round.history.filter(id=pk)),
        (RoundHost, RoundHost.history.filter(round_id=pk)),
        (RoundCitation, RoundCitation.history.filter(round_id=pk)),
        (Delegation, Delegation.history.filter(round_id=pk)),
        (DelegationMember, DelegationMember.history.filter(delegation_id__in=ever["delegation"])),
        (Outcome, Outcome.history.filter(round_id=pk)),
        (OutcomeCitation, OutcomeCitation.history.filter(outcome_id__in=ever["outcome"])),
        (Position, Position.history.filter(round_id=pk)),
        (PositionCitation, PositionCitation.history.filter(position_id__in=ever["position"])),
        (Statement, Statement.history.filter(round_id=pk)),
        (StatementCitation, StatementCitation.history.filter(statement_id__in=ever["statement"])),
    ]
    names = _Names()
    result = []
    for model, records in sources:
        result += entries(model, records.select_related("history_user"), names)
    result.sort(key=lambda e: (e.when, e.history_id), reverse=True)
    return result


def issue_changes(issue) -> list[Entry]:
    """Every recorded change to the issue's outcomes, drafts included, newest first."""
    records = Outcome.history.filter(issue_id=issue.pk).select_related("history_user")
    names = _Names()
    result = entries(Outcome, records, names)
    rounds = Round.objects.in_bulk({r.round_id for r in records})
    by_history = {r.history_id: r for r in records}
    for entry in result:
        round_ = rounds.get(by_history[entry.history_id].round_id)
        entry.label = str(round_) if round_ else "a round since removed"
        entry.round = round_
    result.sort(key=lambda e: (e.when, e.history_id), reverse=True)
    return result


@dataclass
class RecentChange:
    when: datetime
    user: object
    round: Round | None
    title: str
    negotiation: Negotiation | None
    action: str


def recent_round_changes(limit: int = 20) -> list[RecentChange]:
    records = list(Round.history.select_related("history_user").order_by("-history_date")[:limit])
    rounds = Round.objects.in_bulk({r.id for r in records})
    negotiations = Negotiation.objects.in_bulk({r.negotiation_id for r in records})
    return [
        RecentChange(
            when=r.history_date,
            user=r.history_user,
            round=rounds.get(r.id),
            title=r.title or f"Round {r.number}",
            negotiation=negotiations.get(r.negotiation_id),
            action=r.history_change_reason or ACTIONS[r.history_type],
        )
        for r in records
    ]


@dataclass
class Conflict:
    saved_by: object
    saved_at: datetime
    started_from: int | None
    version: int
    facts: list[tuple[str, str, str, str]]  # field, when you opened it, saved now, yours
    other_changes: list[Entry]


def conflict(current: Round, started_from: int | None, yours: dict) -> Conflict:
    latest = current.history.select_related("history_user").order_by("-history_date").first()
    base = (
        current.history.filter(version=started_from).order_by("-history_date").first()
        if started_from
        else None
    )
    names = _Names()
    facts = []
    for name in FACTS:
        f = Round._meta.get_field(name)
        opened = getattr(base, name) if base is not None else None
        saved = getattr(current, name)
        if base is not None and opened == saved:
            continue
        facts.append(
            (
                str(f.verbose_name).capitalize(),
                _display(f, opened, names) if base is not None else "(unknown)",
                _display(f, saved, names),
                _display(f, yours.get(name), names),
            )
        )
    # Their changes begin with the first save after the version this person opened: rows
    # are written just after their round's record, so the version's own rows come later
    # than its record and must not count.
    first_after = (
        current.history.filter(version__gt=started_from).order_by("history_date").first()
        if started_from
        else None
    )
    since = first_after.history_date if first_after is not None else None
    others = [
        e
        for e in round_changes(current)
        if e.kind != "Round" and (since is None or e.when >= since)
    ]
    return Conflict(
        saved_by=latest.history_user if latest else None,
        saved_at=latest.history_date if latest else current.updated_at,
        started_from=started_from,
        version=current.version,
        facts=facts,
        other_changes=others,
    )


def restore(round_: Round, record) -> Round:
    """Bring back a round's facts as `record` holds them, as a new version."""
    for name in RESTORED:
        setattr(round_, name, getattr(record, name))
    round_._change_reason = f"Restored the version of {record.history_date:%Y-%m-%d %H:%M}"
    round_.save()
    return round_
