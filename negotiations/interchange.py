"""The parley/1 interchange format: read, check, import and export one negotiation.

The contract is ``spec/interchange.md``. Reading a document happens in two steps:
``read_document`` checks everything (shape, vocabularies, references, and what the
database already holds) and lists every problem with its JSON path; only a document
without problems reaches ``import_document``, which writes it in one transaction with
bulk inserts and bulk history records.
"""

import json
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.apps import apps
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, connections, models, router, transaction
from django.utils import timezone

from . import cache as reader_cache
from . import derived
from .models import (
    SLUG_PATTERN,
    Delegation,
    DelegationMember,
    Issue,
    Negotiation,
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

FORMAT = "parley/1"
BATCH_SIZE = 1000

_SLUG_RE = re.compile(SLUG_PATTERN)
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_validate_url = URLValidator(schemes=["http", "https"])


@dataclass(frozen=True)
class Problem:
    """One thing wrong (or worth a warning) in a document, at a JSON path."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class InvalidDocument(Exception):
    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass
class ImportResult:
    negotiation: Negotiation
    replaced: bool = False
    warnings: list[Problem] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)


# --- The shape of a document ------------------------------------------------------------
#
# Each key of each kind of object: its type, whether it is required, and for a vocabulary
# its values. "ref" and "refs" name entries elsewhere in the document; their targets are
# checked after the shape.


@dataclass(frozen=True)
class Key:
    type: str  # text, slug, ref, refs, date, bool, int, choice, url, texts, list, object
    required: bool = False
    choices: tuple[str, ...] = ()
    max_length: int | None = None
    item: str | None = None  # for "list": the kind of object in it
    nullable_url: bool = False


def _choices(enum: type[models.TextChoices]) -> tuple[str, ...]:
    return tuple(enum.values)


def _len(model: type[models.Model], name: str) -> int | None:
    return model._meta.get_field(name).max_length


SHAPES: dict[str, dict[str, Key]] = {
    "document": {
        "format": Key("text", required=True),
        "negotiation": Key("object", required=True, item="negotiation"),
        "parties": Key("list", item="party"),
        "people": Key("list", item="person"),
        "issues": Key("list", item="issue"),
        "sources": Key("list", item="source"),
        "rounds": Key("list", item="round"),
    },
    "negotiation": {
        "slug": Key("slug", required=True, max_length=_len(Negotiation, "slug")),
        "title": Key("text", required=True, max_length=_len(Negotiation, "title")),
        "summary": Key("text"),
        "status": Key("choice", required=True, choices=_choices(Negotiation.Status)),
        "started_on": Key("date"),
        "ended_on": Key("date"),
    },
    "party": {
        "slug": Key("slug", required=True, max_length=_len(Party, "slug")),
        "name": Key("text", required=True, max_length=_len(Party, "name")),
        "kind": Key("choice", required=True, choices=_choices(Party.Kind)),
        "aliases": Key("texts"),
    },
    "person": {
        "slug": Key("slug", required=True, max_length=_len(Person, "slug")),
        "name": Key("text", required=True, max_length=_len(Person, "name")),
        "aliases": Key("texts"),
        "party": Key("ref"),
        "title": Key("text", max_length=_len(Person, "title")),
    },
    "issue": {
        "slug": Key("slug", required=True, max_length=_len(Issue, "slug")),
        "title": Key("text", required=True, max_length=_len(Issue, "title")),
        "description": Key("text"),
    },
    "source": {
        "key": Key("slug", required=True, max_length=_len(Source, "key")),
        "url": Key("url", max_length=_len(Source, "url")),
        "title": Key("text", max_length=_len(Source, "title")),
        "publisher": Key("text", max_length=_len(Source, "publisher")),
        "author": Key("text", max_length=_len(Source, "author")),
        "published_on": Key("date"),
        "archived_url": Key("url", max_length=_len(Source, "archived_url"), nullable_url=True),
    },
    "round": {
        "number": Key("int", required=True),
        "title": Key("text", max_length=_len(Round, "title")),
        "status": Key("choice", required=True, choices=_choices(Round.Status)),
        "published": Key("bool"),
        "start_date": Key("date"),
        "end_date": Key("date"),
        "location": Key("text", max_length=_len(Round, "location")),
        "format": Key("choice", choices=_choices(Round.Format)),
        "hosts": Key("refs"),
        "summary": Key("text"),
        "delegations": Key("list", item="delegation"),
        "outcomes": Key("list", item="outcome"),
        "positions": Key("list", item="position"),
        "statements": Key("list", item="statement"),
        "sources": Key("refs"),
    },
    "delegation": {
        "party": Key("ref", required=True),
        "members": Key("list", item="member"),
    },
    "member": {
        "person": Key("ref", required=True),
        "role": Key("text", max_length=_len(DelegationMember, "role")),
        "is_head": Key("bool"),
    },
    "outcome": {
        "issue": Key("ref", required=True),
        "status": Key("choice", required=True, choices=_choices(Outcome.Status)),
        "text": Key("text"),
        "sources": Key("refs"),
    },
    "position": {
        "key": Key("slug", max_length=_len(Position, "key")),
        "party": Key("ref", required=True),
        "issue": Key("ref", required=True),
        "stance": Key("choice", required=True, choices=_choices(Position.Stance)),
        "text": Key("text"),
        "sources": Key("refs"),
        "responds_to": Key("ref"),
    },
    "statement": {
        "person": Key("ref", required=True),
        "said_on": Key("date"),
        "text": Key("text"),
        "sources": Key("refs"),
        "original": Key("text"),
        "language": Key("text", max_length=_len(Statement, "language")),
    },
}

DEFAULTS = {"text": "", "url": "", "refs": [], "texts": [], "list": [], "bool": False}


def _default(key: Key) -> Any:
    """The value of an omitted key: [], "", false or null (a fresh list each time)."""
    default = None if key.nullable_url else DEFAULTS.get(key.type)
    return list(default) if isinstance(default, list) else default


def _describe(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 40 else text[:37] + "…"


class _Checker:
    """Walks a decoded document, normalises it, and collects every problem."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def problem(self, path: str, message: str) -> None:
        self.problems.append(Problem(path, message))

    def shape(self, value: Any, kind: str, path: str) -> dict[str, Any] | None:
        """Check one object against SHAPES[kind]; return it with defaults filled in."""
        if not isinstance(value, dict):
            self.problem(path, f"must be an object, not {_describe(value)}")
            return None
        keys = SHAPES[kind]
        for name in value:
            if name not in keys:
                self.problem(_join(path, name), f'unknown key "{name}"')
        result: dict[str, Any] = {}
        for name, key in keys.items():
            where = _join(path, name)
            if name not in value:
                if key.required:
                    self.problem(where, "is required")
                result[name] = _default(key)
                if kind == "round" and name == "published":
                    result[name] = True  # a round is published unless it says otherwise
                continue
            result[name] = self.value(value[name], key, where)
        return result

    def value(self, value: Any, key: Key, path: str) -> Any:
        kind = key.type
        if value is None:
            if key.required:
                self.problem(path, "is required and cannot be null")
            elif kind in {"ref", "date", "choice", "slug"} or key.nullable_url:
                return None
            else:
                self.problem(path, f"cannot be null (omit it, or use {_describe(DEFAULTS[kind])})")
            return _default(key)
        if kind == "object":
            return self.shape(value, key.item, path)
        if kind == "list":
            if not isinstance(value, list):
                self.problem(path, f"must be a list, not {_describe(value)}")
                return []
            # An item that is not an object stays as None, so the paths of the
            # items after it keep their indexes.
            return [self.shape(item, key.item, f"{path}[{i}]") for i, item in enumerate(value)]
        if kind in {"refs", "texts"}:
            if not isinstance(value, list):
                self.problem(path, f"must be a list, not {_describe(value)}")
                return []
            inner = Key("slug" if kind == "refs" else "text", required=True)
            return [self.value(item, inner, f"{path}[{i}]") for i, item in enumerate(value)]
        if kind == "bool":
            if not isinstance(value, bool):
                self.problem(path, f"must be true or false, not {_describe(value)}")
            return value if isinstance(value, bool) else False
        if kind == "int":
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                self.problem(path, f"must be a positive integer, not {_describe(value)}")
                return None
            if value > 2_147_483_647:
                self.problem(path, f"is too large: {value}")
                return None
            return value
        if not isinstance(value, str):
            self.problem(path, f"must be a string, not {_describe(value)}")
            return None
        if key.max_length and len(value) > key.max_length:
            self.problem(path, f"is too long ({len(value)} characters, at most {key.max_length})")
        if kind in {"slug", "ref"} and not _SLUG_RE.match(value):
            self.problem(
                path,
                f"{_describe(value)} is not a slug (lowercase letters, digits and single hyphens)",
            )
        elif kind == "choice" and value not in key.choices:
            self.problem(path, f"{_describe(value)} is not one of: {', '.join(key.choices)}")
        elif kind == "date":
            return self.date(value, path)
        elif kind == "url" and value:
            try:
                _validate_url(value)
            except ValidationError:
                self.problem(path, f"{_describe(value)} is not an http:// or https:// address")
        return value

    def date(self, value: str, path: str) -> date | None:
        if _DATE_RE.match(value):
            try:
                return date.fromisoformat(value)
            except ValueError:
                pass
        self.problem(path, f"{_describe(value)} is not a date in the form YYYY-MM-DD")
        return None


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _present(items: list[dict | None]):
    """(index, item) for the items that are objects."""
    return ((i, item) for i, item in enumerate(items) if item is not None)


def _unique(checker: _Checker, items: list[dict], list_path: str, name: str, what: str) -> dict:
    """Index items by their identifier, reporting duplicates."""
    index: dict[Any, int] = {}
    for i, item in _present(items):
        value = item.get(name)
        if value is None:
            continue
        if value in index:
            checker.problem(
                f"{list_path}[{i}].{name}",
                f'duplicate {what} "{value}" (first at {list_path}[{index[value]}])',
            )
        else:
            index[value] = i
    return index


def _check_references(checker: _Checker, doc: dict) -> None:
    """Identifiers unique, references resolved, and the spec's rules across objects."""
    parties = _unique(checker, doc["parties"], "parties", "slug", "party")
    people = _unique(checker, doc["people"], "people", "slug", "person")
    issues = _unique(checker, doc["issues"], "issues", "slug", "issue")
    sources = _unique(checker, doc["sources"], "sources", "key", "source")
    _unique(checker, doc["rounds"], "rounds", "number", "round number")

    def ref(value: str | None, known: dict, path: str, what: str) -> None:
        if value is not None and value not in known:
            checker.problem(path, f'unknown {what} "{value}"')

    def refs(values: list, known: dict, path: str, what: str) -> None:
        seen: set = set()
        for i, value in enumerate(values):
            if value is None:
                continue
            ref(value, known, f"{path}[{i}]", what)
            if value in seen:
                checker.problem(f"{path}[{i}]", f'"{value}" is listed twice')
            seen.add(value)

    negotiation = doc["negotiation"]
    if negotiation:
        _check_dates(checker, negotiation, "negotiation", "started_on", "ended_on")
    for i, person in _present(doc["people"]):
        ref(person["party"], parties, f"people[{i}].party", "party")

    position_keys: dict[str, str] = {}
    for r, round_ in _present(doc["rounds"]):
        at = f"rounds[{r}]"
        _check_dates(checker, round_, at, "start_date", "end_date")
        refs(round_["hosts"], parties, f"{at}.hosts", "party")
        refs(round_["sources"], sources, f"{at}.sources", "source")
        if round_["status"] == Round.Status.SCHEDULED and round_["outcomes"]:
            checker.problem(f"{at}.outcomes", "a scheduled round has no outcomes yet")
        delegation_parties: set = set()
        for d, delegation in _present(round_["delegations"]):
            where = f"{at}.delegations[{d}]"
            ref(delegation["party"], parties, f"{where}.party", "party")
            if delegation["party"] and delegation["party"] in delegation_parties:
                checker.problem(
                    f"{where}.party",
                    f'a second delegation of "{delegation["party"]}" in this round',
                )
            delegation_parties.add(delegation["party"])
            members: set = set()
            heads = 0
            for m, member in _present(delegation["members"]):
                ref(member["person"], people, f"{where}.members[{m}].person", "person")
                if member["person"] and member["person"] in members:
                    checker.problem(
                        f"{where}.members[{m}].person",
                        f'"{member["person"]}" is listed twice in this delegation',
                    )
                members.add(member["person"])
                heads += bool(member["is_head"])
                if member["is_head"] and heads > 1:
                    checker.problem(
                        f"{where}.members[{m}].is_head", "a delegation has at most one head"
                    )
        outcome_issues: set = set()
        for o, outcome in _present(round_["outcomes"]):
            where = f"{at}.outcomes[{o}]"
            ref(outcome["issue"], issues, f"{where}.issue", "issue")
            refs(outcome["sources"], sources, f"{where}.sources", "source")
            if outcome["issue"] and outcome["issue"] in outcome_issues:
                checker.problem(
                    f"{where}.issue",
                    f'a second outcome for issue "{outcome["issue"]}" in this round '
                    "(each round has at most one outcome per issue)",
                )
            outcome_issues.add(outcome["issue"])
        for p, position in _present(round_["positions"]):
            where = f"{at}.positions[{p}]"
            ref(position["party"], parties, f"{where}.party", "party")
            ref(position["issue"], issues, f"{where}.issue", "issue")
            refs(position["sources"], sources, f"{where}.sources", "source")
            answered = position["responds_to"]
            if answered is not None and answered not in position_keys:
                if answered == position["key"]:
                    checker.problem(f"{where}.responds_to", "a position cannot answer itself")
                else:
                    checker.problem(
                        f"{where}.responds_to",
                        f'unknown position "{answered}" (it must name the key of a position '
                        "earlier in the document)",
                    )
            if position["key"] is not None:
                if position["key"] in position_keys:
                    checker.problem(
                        f"{where}.key",
                        f'duplicate position key "{position["key"]}" '
                        f"(first at {position_keys[position['key']]})",
                    )
                else:
                    position_keys[position["key"]] = f"{where}"
        for s, statement in _present(round_["statements"]):
            where = f"{at}.statements[{s}]"
            ref(statement["person"], people, f"{where}.person", "person")
            refs(statement["sources"], sources, f"{where}.sources", "source")


def _check_dates(checker: _Checker, item: dict, path: str, start: str, end: str) -> None:
    if item[start] and item[end] and item[end] < item[start]:
        checker.problem(
            f"{path}.{end}",
            f"{item[end].isoformat()} is before {start} {item[start].isoformat()}",
        )


def read_document(data: str | bytes, *, replace: bool = False) -> dict:
    """Decode and check a parley/1 document; raise InvalidDocument listing every problem.

    The result is the document with every optional key filled in and dates parsed.
    """
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError as error:
            raise InvalidDocument(
                [Problem("", f"the file is not UTF-8 text (byte {error.start} cannot be read)")]
            ) from None
    try:
        raw = json.loads(data)
    except json.JSONDecodeError as error:
        raise InvalidDocument(
            [
                Problem(
                    "", f"not valid JSON: {error.msg} at line {error.lineno}, column {error.colno}"
                )
            ]
        ) from None
    if not isinstance(raw, dict):
        raise InvalidDocument([Problem("", "the document must be one JSON object")])
    if "format" in raw and raw["format"] != FORMAT:
        raise InvalidDocument(
            [Problem("format", f'must be "{FORMAT}", not {_describe(raw["format"])}')]
        )

    checker = _Checker()
    doc = checker.shape(raw, "document", "")
    _check_references(checker, doc)
    negotiation = doc["negotiation"]
    slug = negotiation and negotiation["slug"]
    if slug and not replace and Negotiation.objects.filter(slug=slug).exists():
        checker.problem(
            "negotiation.slug",
            f'a negotiation "{slug}" already exists (import with replace to overwrite it)',
        )
    if checker.problems:
        raise InvalidDocument(checker.problems)
    return doc


# --- Import ---------------------------------------------------------------------------


def import_negotiation(
    data: str | bytes, *, replace: bool = False, user=None, reason: str = "Imported from parley/1"
) -> ImportResult:
    """Check and import one document; all or nothing."""
    reason = reason[:100]  # the history's change-reason column holds 100 characters
    doc = read_document(data, replace=replace)
    try:
        with transaction.atomic():
            result = _Importer(doc, user=user, reason=reason).run(replace=replace)
            # Bulk writes send no signals: the readers' cached pages are dropped here.
            reader_cache.invalidate()
    except IntegrityError:
        # Only a concurrent write can get here: the document was fully checked.
        raise InvalidDocument(
            [
                Problem(
                    "negotiation.slug",
                    "another import or edit of this negotiation happened at the same time; "
                    "nothing was written, please try again",
                )
            ]
        ) from None
    _refresh_planner_statistics(sum(result.counts.values()))
    return result


ANALYZE_AFTER_ROWS = 10_000


def _refresh_planner_statistics(rows: int) -> None:
    """After a large import PostgreSQL's planner still takes the tables for as small as
    they were, and scans a 10,000-round negotiation where it should walk an index, until
    autovacuum catches up. ANALYZE now, as PostgreSQL's manual advises after bulk loads."""
    connection = connections[router.db_for_write(Negotiation)]
    if rows < ANALYZE_AFTER_ROWS or connection.vendor != "postgresql":
        return
    tables = [model._meta.db_table for model in apps.get_app_config("negotiations").get_models()]
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE " + ", ".join(connection.ops.quote_name(t) for t in tables))


class _Importer:
    def __init__(self, doc: dict, *, user, reason: str) -> None:
        self.doc = doc
        self.user = user
        self.reason = reason
        self.warnings: list[Problem] = []
        self.counts: dict[str, int] = {}

    def create(self, model: type[models.Model], objs: list[models.Model]) -> list:
        """Bulk insert with one history record per row, the audit trail's first entry."""
        model.objects.bulk_create(objs, batch_size=BATCH_SIZE)
        self.history(model, objs)
        return objs

    def history(self, model: type[models.Model], objs: list, history_type: str = "+") -> None:
        write_history(model, objs, history_type, user=self.user, reason=self.reason)
        self.counts[model._meta.verbose_name_plural] = len(objs)

    def delete(self, negotiation: Negotiation) -> None:
        """Remove a negotiation being replaced, leaving a deletion record per row.

        Django's cascade would write those records one INSERT at a time (hundreds of
        thousands for a large negotiation); here each table is read once, its records
        written in bulk, and its rows deleted in one statement, leaves first.
        """
        reason = "Replaced by a parley/1 import"
        for model, path in DELETION_ORDER:
            rows = model.objects.filter(**{path: negotiation})
            write_history(model, list(rows), "-", user=self.user, reason=reason)
            rows._raw_delete(rows.db)
        negotiation._change_reason = reason
        negotiation._history_user = self.user
        negotiation.delete()

    def run(self, *, replace: bool) -> ImportResult:
        data = self.doc["negotiation"]
        existing = Negotiation.objects.select_for_update().filter(slug=data["slug"]).first()
        if existing and not replace:
            raise InvalidDocument(
                [Problem("negotiation.slug", f'a negotiation "{data["slug"]}" already exists')]
            )
        if existing:
            self.delete(existing)

        parties = self.merge_shared(Party, self.doc["parties"], "parties", ["name", "kind"])
        people = self.merge_shared(
            Person, self.doc["people"], "people", ["name", "title", "party"], parties=parties
        )
        self.warn_unreferenced(parties, people)

        negotiation = Negotiation(**data)
        negotiation._history_user = self.user
        negotiation._change_reason = self.reason
        negotiation.save()

        issues = {
            item["slug"]: Issue(negotiation=negotiation, order=i, **item)
            for i, item in enumerate(self.doc["issues"])
        }
        self.create(Issue, list(issues.values()))
        sources = {
            item["key"]: Source(negotiation=negotiation, **item) for item in self.doc["sources"]
        }
        self.create(Source, list(sources.values()))

        rounds = [
            Round(
                negotiation=negotiation,
                **{
                    name: value
                    for name, value in item.items()
                    if name
                    not in {
                        "hosts",
                        "sources",
                        "delegations",
                        "outcomes",
                        "positions",
                        "statements",
                    }
                },
            )
            for item in self.doc["rounds"]
        ]
        self.create(Round, rounds)
        self.create_round_parts(rounds, parties, people, issues, sources)
        # Bulk writes send no signals: each issue's changes and chains are worked out here.
        derived.refresh(issues.values())
        return ImportResult(
            negotiation=negotiation,
            replaced=existing is not None,
            warnings=self.warnings,
            counts=self.counts,
        )

    def merge_shared(
        self, model, items: list[dict], list_path: str, compare: list[str], parties=None
    ):
        """Match parties or people by slug: new ones are created, aliases merged,
        any other difference kept as stored and reported."""
        stored = {
            obj.slug: obj for obj in model.objects.filter(slug__in=[i["slug"] for i in items])
        }
        new, merged = [], []
        result = {}
        for i, item in enumerate(items):
            values = dict(item)
            if parties is not None:
                values["party"] = parties.get(values["party"]) if values["party"] else None
            obj = stored.get(item["slug"])
            if obj is None:
                obj = model(**values)
                new.append(obj)
            else:
                for name in compare:
                    ours, theirs = getattr(obj, name), values[name]
                    if ours != theirs:
                        shown = getattr(ours, "slug", ours)
                        self.warnings.append(
                            Problem(
                                f"{list_path}[{i}].{name}",
                                f"differs from the stored value {_describe(shown)}; "
                                "the stored value is kept",
                            )
                        )
                extra = [alias for alias in values["aliases"] if alias not in obj.aliases]
                if extra:
                    obj.aliases = [*obj.aliases, *extra]
                    merged.append(obj)
            result[item["slug"]] = obj
        self.create(model, new)
        if merged:
            model.objects.bulk_update(merged, ["aliases"], batch_size=BATCH_SIZE)
            write_history(
                model, merged, "~", user=self.user, reason=f"{self.reason}: aliases merged"
            )
        return result

    def warn_unreferenced(self, parties: dict, people: dict) -> None:
        used_parties = {item["party"] for item in self.doc["people"]}
        used_people = set()
        for round_ in self.doc["rounds"]:
            used_parties.update(round_["hosts"])
            used_parties.update(d["party"] for d in round_["delegations"])
            used_parties.update(p["party"] for p in round_["positions"])
            used_people.update(m["person"] for d in round_["delegations"] for m in d["members"])
            used_people.update(s["person"] for s in round_["statements"])
        for list_path, items, used in (
            ("parties", self.doc["parties"], used_parties),
            ("people", self.doc["people"], used_people),
        ):
            for i, item in enumerate(items):
                if item["slug"] not in used:
                    self.warnings.append(
                        Problem(
                            f"{list_path}[{i}]",
                            f'"{item["slug"]}" is stored, but nothing in this negotiation '
                            "refers to it, so its export will not list it",
                        )
                    )

    def create_round_parts(self, rounds, parties, people, issues, sources) -> None:
        hosts, round_citations = [], []
        delegations, members = [], []
        outcomes, outcome_citations = [], []
        positions, position_citations, answers = [], [], []
        statements, statement_citations = [], []
        for round_, item in zip(rounds, self.doc["rounds"], strict=True):
            # Bulk inserts skip InRound.save: the round's negotiation and state are set here.
            in_round = {
                "round": round_,
                "negotiation_id": round_.negotiation_id,
                "published": round_.published,
            }
            hosts += [RoundHost(**in_round, party=parties[slug]) for slug in item["hosts"]]
            round_citations += [
                RoundCitation(round=round_, source=sources[key]) for key in item["sources"]
            ]
            for data in item["delegations"]:
                delegation = Delegation(**in_round, party=parties[data["party"]])
                delegations.append(delegation)
                members += [
                    DelegationMember(
                        delegation=delegation,
                        published=round_.published,
                        **round_.dates_copy(),
                        person=people[m["person"]],
                        role=m["role"],
                        is_head=m["is_head"],
                    )
                    for m in data["members"]
                ]
            for data in item["outcomes"]:
                outcome = Outcome(
                    **in_round,
                    issue=issues[data["issue"]],
                    status=data["status"],
                    text=data["text"],
                )
                outcomes.append(outcome)
                outcome_citations += [
                    OutcomeCitation(outcome=outcome, source=sources[key]) for key in data["sources"]
                ]
            for data in item["positions"]:
                position = Position(
                    **in_round,
                    **round_.dates_copy(),
                    party=parties[data["party"]],
                    issue=issues[data["issue"]],
                    stance=data["stance"],
                    key=data["key"],
                    text=data["text"],
                )
                positions.append(position)
                answers.append(data["responds_to"])
                position_citations += [
                    PositionCitation(position=position, source=sources[key])
                    for key in data["sources"]
                ]
            for data in item["statements"]:
                statement = Statement(
                    **in_round,
                    person=people[data["person"]],
                    said_on=data["said_on"],
                    text=data["text"],
                    original=data["original"],
                    language=data["language"],
                )
                statements.append(statement)
                statement_citations += [
                    StatementCitation(statement=statement, source=sources[key])
                    for key in data["sources"]
                ]

        self.create(RoundHost, hosts)
        self.create(RoundCitation, round_citations)
        self.create(Delegation, delegations)
        self.create(DelegationMember, members)
        self.create(Outcome, outcomes)
        self.create(OutcomeCitation, outcome_citations)
        # A position may answer one created in the same batch, so the links are set once
        # every position has its id, and the history records the linked state.
        Position.objects.bulk_create(positions, batch_size=BATCH_SIZE)
        by_key = {p.key: p for p in positions if p.key}
        answering = []
        for position, answered in zip(positions, answers, strict=True):
            if answered:
                position.responds_to = by_key[answered]
                answering.append(position)
        Position.objects.bulk_update(answering, ["responds_to"], batch_size=BATCH_SIZE)
        self.history(Position, positions)
        self.create(PositionCitation, position_citations)
        self.create(Statement, statements)
        self.create(StatementCitation, statement_citations)


def write_history(model, objs: list, history_type: str, *, user, reason: str) -> None:
    """One django-simple-history record per object ("+" created, "~" changed, "-" deleted),
    written with COPY on PostgreSQL and executemany elsewhere: imports write hundreds of
    thousands of them, and a model instance and an ORM insert for each would cost more
    than the rest of the import."""
    if not objs:
        return
    history = model.history.model
    fields = [f for f in history._meta.concrete_fields if not f.primary_key]
    tracked = {f.attname for f in history.tracked_fields}
    extra = {
        "history_date": timezone.now(),
        "history_change_reason": reason,
        "history_type": history_type,
        "history_user_id": user.pk if user else None,
    }
    connection = connections[router.db_for_write(history)]
    quote = connection.ops.quote_name
    table = quote(history._meta.db_table)
    columns = ", ".join(quote(f.column) for f in fields)
    rows = [
        [
            f.get_db_prep_save(
                getattr(obj, f.attname) if f.attname in tracked else extra[f.attname], connection
            )
            for f in fields
        ]
        for obj in objs
    ]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # COPY is PostgreSQL's bulk load: several times faster than INSERTs.
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            placeholders = ", ".join(["%s"] * len(fields))
            cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({placeholders})", rows)


# Everything a negotiation owns, leaves before the tables they point to.
DELETION_ORDER = [
    (RoundCitation, "round__negotiation"),
    (OutcomeCitation, "outcome__round__negotiation"),
    (PositionCitation, "position__round__negotiation"),
    (StatementCitation, "statement__round__negotiation"),
    (DelegationMember, "delegation__round__negotiation"),
    (Delegation, "round__negotiation"),
    (RoundHost, "round__negotiation"),
    (Outcome, "round__negotiation"),
    (Statement, "round__negotiation"),
    (Position, "round__negotiation"),
    (Round, "negotiation"),
    (Source, "negotiation"),
    (Issue, "negotiation"),
]


# --- Export ---------------------------------------------------------------------------


def export_negotiation(negotiation: Negotiation, *, include_drafts: bool = True) -> str:
    """The negotiation as a canonical parley/1 document (text, ending in a newline)."""
    document = build_document(negotiation, include_drafts=include_drafts)
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _grouped(rows, key_index: int = 0) -> dict[Any, list]:
    groups: dict[Any, list] = {}
    for row in rows:
        groups.setdefault(row[key_index], []).append(row)
    return groups


def build_document(negotiation: Negotiation, *, include_drafts: bool = True) -> dict:
    """The parley/1 document as Python data.

    One query per table, each filtered by the negotiation and read in stored order, so
    the cost grows with the data and not with the number of queries.
    """
    rounds = Round.objects.filter(negotiation=negotiation).order_by("number")
    if not include_drafts:
        rounds = rounds.filter(published=True)
    in_scope = {"round__in": rounds}

    hosts = _grouped(
        RoundHost.objects.filter(**in_scope).order_by("id").values_list("round_id", "party__slug")
    )
    round_sources = _grouped(
        RoundCitation.objects.filter(**in_scope)
        .order_by("id")
        .values_list("round_id", "source__key")
    )
    delegations = _grouped(
        Delegation.objects.filter(**in_scope)
        .order_by("id")
        .values_list("round_id", "id", "party__slug")
    )
    members = _grouped(
        DelegationMember.objects.filter(delegation__round__in=rounds)
        .order_by("id")
        .values_list("delegation_id", "person__slug", "role", "is_head")
    )
    outcomes = _grouped(
        Outcome.objects.filter(**in_scope)
        .order_by("id")
        .values_list("round_id", "id", "issue__slug", "status", "text")
    )
    outcome_sources = _grouped(
        OutcomeCitation.objects.filter(outcome__round__in=rounds)
        .order_by("id")
        .values_list("outcome_id", "source__key")
    )
    positions = _grouped(
        Position.objects.filter(**in_scope)
        .order_by("id")
        .values_list(
            "round_id",
            "id",
            "key",
            "party__slug",
            "issue__slug",
            "stance",
            "text",
            "responds_to_id",
        )
    )
    position_sources = _grouped(
        PositionCitation.objects.filter(position__round__in=rounds)
        .order_by("id")
        .values_list("position_id", "source__key")
    )
    statements = _grouped(
        Statement.objects.filter(**in_scope)
        .order_by("id")
        .values_list("round_id", "id", "person__slug", "said_on", "text", "original", "language")
    )
    statement_sources = _grouped(
        StatementCitation.objects.filter(statement__round__in=rounds)
        .order_by("id")
        .values_list("statement_id", "source__key")
    )
    position_keys = _position_keys(positions)

    def keys(groups: dict, owner_id: int) -> list[str]:
        return [row[1] for row in groups.get(owner_id, [])]

    party_slugs: set[str] = set()
    person_slugs: set[str] = set()
    round_docs = []
    for round_ in rounds:
        party_slugs.update(keys(hosts, round_.id))
        round_delegations = []
        for _, delegation_id, party in delegations.get(round_.id, []):
            party_slugs.add(party)
            round_members = []
            for _, person, role, is_head in members.get(delegation_id, []):
                person_slugs.add(person)
                round_members.append({"person": person, "role": role, "is_head": is_head})
            round_delegations.append({"party": party, "members": round_members})
        round_positions = []
        for _, position_id, _, party, issue, stance, text, responds_to in positions.get(
            round_.id, []
        ):
            party_slugs.add(party)
            round_positions.append(
                {
                    "key": position_keys.get(position_id),
                    "party": party,
                    "issue": issue,
                    "stance": stance,
                    "text": text,
                    "sources": keys(position_sources, position_id),
                    "responds_to": position_keys.get(responds_to),
                }
            )
        round_statements = []
        for _, statement_id, person, said_on, text, original, language in statements.get(
            round_.id, []
        ):
            person_slugs.add(person)
            round_statements.append(
                {
                    "person": person,
                    "said_on": _iso(said_on),
                    "text": text,
                    "sources": keys(statement_sources, statement_id),
                    "original": original,
                    "language": language,
                }
            )
        round_docs.append(
            {
                "number": round_.number,
                "title": round_.title,
                "status": round_.status,
                "published": round_.published,
                "start_date": _iso(round_.start_date),
                "end_date": _iso(round_.end_date),
                "location": round_.location,
                "format": round_.format,
                "hosts": keys(hosts, round_.id),
                "summary": round_.summary,
                "delegations": round_delegations,
                "outcomes": [
                    {
                        "issue": issue,
                        "status": status,
                        "text": text,
                        "sources": keys(outcome_sources, outcome_id),
                    }
                    for _, outcome_id, issue, status, text in outcomes.get(round_.id, [])
                ],
                "positions": round_positions,
                "statements": round_statements,
                "sources": keys(round_sources, round_.id),
            }
        )

    people = list(
        Person.objects.filter(slug__in=person_slugs).select_related("party").order_by("slug")
    )
    party_slugs.update(person.party.slug for person in people if person.party)
    parties = Party.objects.filter(slug__in=party_slugs).order_by("slug")
    sources = Source.objects.filter(negotiation=negotiation).order_by("key")
    if not include_drafts:
        sources = _published_sources(negotiation, sources)

    return {
        "format": FORMAT,
        "negotiation": {
            "slug": negotiation.slug,
            "title": negotiation.title,
            "summary": negotiation.summary,
            "status": negotiation.status,
            "started_on": _iso(negotiation.started_on),
            "ended_on": _iso(negotiation.ended_on),
        },
        "parties": [
            {"slug": p.slug, "name": p.name, "kind": p.kind, "aliases": p.aliases} for p in parties
        ],
        "people": [
            {
                "slug": p.slug,
                "name": p.name,
                "aliases": p.aliases,
                "party": p.party.slug if p.party else None,
                "title": p.title,
            }
            for p in people
        ],
        "issues": [
            {"slug": i.slug, "title": i.title, "description": i.description}
            for i in negotiation.issues.order_by("order", "id")
        ],
        "sources": [
            {
                "key": s.key,
                "url": s.url,
                "title": s.title,
                "publisher": s.publisher,
                "author": s.author,
                "published_on": _iso(s.published_on),
                "archived_url": s.archived_url,
            }
            for s in sources
        ],
        "rounds": round_docs,
    }


def _position_keys(positions: dict) -> dict[int, str]:
    """Each exported position's key; one is made up for a keyless position that another
    answers (possible when positions are entered in the app), so no link is lost."""
    exported = {row[1] for rows in positions.values() for row in rows}
    keys = {row[1]: row[2] for rows in positions.values() for row in rows if row[2]}
    taken = set(keys.values())
    for rows in positions.values():
        for row in rows:
            answered = row[7]
            if answered in exported and answered not in keys:
                key = f"position-{answered}"
                while key in taken:
                    key += "-1"
                keys[answered] = key
                taken.add(key)
    return keys


def _published_sources(negotiation: Negotiation, sources):
    """Leave out sources that only drafts cite: they may reveal what is not yet public."""
    cited_by_drafts = set()
    cited_by_published = set()
    for model, path in (
        (RoundCitation, "round"),
        (OutcomeCitation, "outcome__round"),
        (PositionCitation, "position__round"),
        (StatementCitation, "statement__round"),
    ):
        for source_id, published in model.objects.filter(
            **{f"{path}__negotiation": negotiation}
        ).values_list("source_id", f"{path}__published"):
            (cited_by_published if published else cited_by_drafts).add(source_id)
    return [s for s in sources if s.id not in cited_by_drafts or s.id in cited_by_published]
