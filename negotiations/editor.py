"""Logging a round in one form: build the forms from a round (or a POST), check them all
at once, and save everything in one transaction, row by row so that every change is in
the history with its author."""

from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Max
from django.forms.models import ModelChoiceIterator
from django.forms.utils import ErrorDict
from django.http import QueryDict
from django.utils.text import slugify

from . import derived
from .forms.analyst import (
    NEW_SOURCE,
    ROWS_MAX,
    Members,
    NewSources,
    Outcomes,
    Positions,
    RoundFacts,
    Statements,
)
from .models import (
    Delegation,
    DelegationMember,
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

# How many earlier positions a new one may answer from a list; the newest come first.
ANSWERABLE = 300
ROWS = ["new_sources", "members", "outcomes", "positions", "statements"]
ROW_NAMES = {
    "new_sources": "new source",
    "members": "member",
    "outcomes": "outcome",
    "positions": "position",
    "statements": "statement",
}


class _Cached(ModelChoiceIterator):
    """Choices from an already evaluated queryset: one query for all the rows' selects."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for obj in self.queryset:
            yield self.choice(obj)


def _share(form, name: str, queryset) -> None:
    field = form.fields[name]
    field._queryset = queryset  # bypass the setter's .all(), which drops the result cache
    field.iterator = _Cached
    field.widget.choices = field.choices


def next_number(negotiation: Negotiation) -> int:
    top = negotiation.rounds.aggregate(top=Max("number"))["top"]
    return (top or 0) + 1


def unique_slug(model, text: str, field: str = "slug", **scope) -> str:
    base = slugify(text)[:80].strip("-") or model._meta.model_name
    slug, n = base, 2
    while model.objects.filter(**{field: slug}, **scope).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


def _position_label(position: Position) -> str:
    return (
        f"R{position.round.number}: {position.party} {position.get_stance_display().lower()} "
        f"on {position.issue} — {position.text[:60]}"
    )


@dataclass
class RoundEditor:
    negotiation: Negotiation
    round: Round
    data: QueryDict | None = None
    added: str = ""  # the row kind that just got an extra row, for focus
    forms: dict = field(default_factory=dict)

    @classmethod
    def for_request(cls, negotiation, round_=None, data=None):
        if round_ is None:
            round_ = Round(negotiation=negotiation, published=False)
        added = ""
        if data is not None:
            data = data.copy()
            action = data.get("action", "")
            if action.startswith("add-") and action[4:] in ROWS:
                added = action[4:]
                key = f"{added}-TOTAL_FORMS"
                try:
                    rows = int(data.get(key) or 0)
                except ValueError:
                    rows = 0  # a broken row count: the formset reports it when saving
                data[key] = str(min(max(rows, 0), ROWS_MAX - 1) + 1)
        editor = cls(negotiation, round_, data, added)
        editor.build()
        return editor

    # -- building -------------------------------------------------------------------
    def build(self) -> None:
        negotiation, round_, data = self.negotiation, self.round, self.data
        parties = Party.objects.order_by("name")
        people = Person.objects.select_related("party").order_by("name")
        issues = negotiation.issues.order_by("order", "id")
        answerable = (
            Position.objects.filter(round__negotiation=negotiation)
            .select_related("round", "party", "issue")
            .order_by("-round__start_date", "-round__number", "-id")[:ANSWERABLE]
        )
        for queryset in (parties, people, issues):
            list(queryset)  # evaluate once; every row's select reads the cache
        answerable = list(answerable)
        self.sources = list(negotiation.sources.order_by("key"))

        editing = round_.pk is not None
        facts_initial = {"version": round_.version}
        if editing:
            facts_initial["sources"] = [
                str(pk) for pk in round_.sources.values_list("pk", flat=True)
            ]
            facts_initial["hosts"] = list(round_.hosts.values_list("pk", flat=True))
        else:
            facts_initial["number"] = next_number(negotiation)
        self.facts = RoundFacts(
            data, instance=round_, initial=facts_initial, negotiation=negotiation
        )
        self.forms = {
            "members": Members(data, prefix="members", initial=self._members()),
            "outcomes": Outcomes(data, prefix="outcomes", initial=self._outcomes(issues)),
            "positions": Positions(data, prefix="positions", initial=self._positions()),
            "statements": Statements(data, prefix="statements", initial=self._statements()),
            "new_sources": NewSources(data, prefix="new_sources"),
        }
        if not editing and data is None:
            for name, extra in [("members", 2), ("positions", 1), ("statements", 1)]:
                self.forms[name].extra = extra
        self.forms["new_sources"].extra = 1 if data is None else 0

        source_choices = self._source_choices()
        self.facts.fields["sources"].choices = source_choices
        for form in self.forms["members"].forms:
            _share(form, "party", parties)
            _share(form, "person", people)
        for form in self.forms["outcomes"].forms:
            _share(form, "issue", issues)
        for form in self.forms["positions"].forms:
            _share(form, "party", parties)
            _share(form, "issue", issues)
            field_ = form.fields["responds_to"]
            field_.queryset = Position.objects.filter(round__negotiation=negotiation)
            field_.widget.choices = [("", field_.empty_label)] + [
                (p.pk, _position_label(p)) for p in answerable
            ]
        for form in self.forms["statements"].forms:
            _share(form, "person", people)
            _share(form, "new_person_party", parties)
        for name in ("outcomes", "positions", "statements"):
            for form in self.forms[name].forms:
                form.fields["sources"].choices = source_choices
        if self.added:
            self._quiet()
        if self.added:  # focus the new row's first field (htmx honours autofocus on swap)
            new_row = self.forms[self.added].forms[-1]
            first = next(f for f in new_row.visible_fields() if f.name != "DELETE")
            first.field.widget.attrs["autofocus"] = True
        titles = {str(issue.pk): issue.title for issue in issues}
        for form in self.forms["outcomes"].forms:
            form.title = titles.get(str(form["issue"].value()), "Issue")

    def _quiet(self) -> None:
        """Adding a row is not saving: show what was typed, without judging it yet."""
        self.facts._errors = ErrorDict()
        for formset in self.forms.values():
            formset._errors = [ErrorDict() for _ in formset.forms]
            formset._non_form_errors = formset.error_class()
            for form in formset.forms:
                form._errors = ErrorDict()

    def _source_choices(self) -> list[tuple[str, str]]:
        choices = [(str(s.pk), _source_label(s)) for s in self.sources]
        for i, form in enumerate(self.forms["new_sources"].forms):
            if self.data is not None and form.has_changed():
                choices.append((f"{NEW_SOURCE}{i}", f"New: {form.label() or 'source'}"))
        return choices

    def _members(self) -> list[dict]:
        if self.round.pk is None:
            return []
        rows = []
        for delegation in self.round.delegations.select_related("party").prefetch_related(
            "members"
        ):
            members = list(delegation.members.all())
            for member in members:
                rows.append(
                    {
                        "id": member.pk,
                        "party": delegation.party_id,
                        "person": member.person_id,
                        "role": member.role,
                        "is_head": member.is_head,
                    }
                )
            if not members:
                rows.append({"party": delegation.party_id})
        return rows

    def _outcomes(self, issues) -> list[dict]:
        recorded = {}
        if self.round.pk is not None:
            recorded = {o.issue_id: o for o in self.round.outcomes.prefetch_related("sources")}
        rows = []
        for issue in issues:
            outcome = recorded.get(issue.pk)
            rows.append(
                {
                    "issue": issue.pk,
                    "status": outcome.status if outcome else "",
                    "text": outcome.text if outcome else "",
                    "sources": [str(s.pk) for s in outcome.sources.all()] if outcome else [],
                }
            )
        return rows

    def _positions(self) -> list[dict]:
        if self.round.pk is None:
            return []
        return [
            {
                "id": p.pk,
                "party": p.party_id,
                "issue": p.issue_id,
                "stance": p.stance,
                "text": p.text,
                "responds_to": p.responds_to_id,
                "sources": [str(s.pk) for s in p.sources.all()],
            }
            for p in self.round.positions.prefetch_related("sources").order_by("id")
        ]

    def _statements(self) -> list[dict]:
        if self.round.pk is None:
            return []
        return [
            {
                "id": s.pk,
                "person": s.person_id,
                "said_on": s.said_on,
                "text": s.text,
                "original": s.original,
                "language": s.language,
                "sources": [str(src.pk) for src in s.sources.all()],
            }
            for s in self.round.statements.prefetch_related("sources").order_by("id")
        ]

    # -- checking -------------------------------------------------------------------
    @property
    def saving(self) -> bool:
        return self.data is not None and not self.added

    def is_valid(self) -> bool:
        results = [self.facts.is_valid()] + [f.is_valid() for f in self.forms.values()]
        if self.facts.cleaned_data.get("status") == Round.Status.SCHEDULED:
            for form in self.forms["outcomes"].forms:
                if form.is_valid() and form.cleaned_data.get("status"):
                    form.add_error("status", "A scheduled round has no outcomes yet.")
                    results.append(False)
        return all(results)

    def error_summary(self) -> list[tuple[str, str, str]]:
        """(where, message, id of the field) for every error on the page, in page order."""
        if self.data is None:
            return []
        summary = []

        def add(form, where: str) -> None:
            for name, errors in form.errors.items():
                if name in form.fields:
                    label, target = f"{where}{form[name].label}", form[name].auto_id
                else:
                    label, target = where.rstrip(": ") or "The round", "round-form"
                summary.extend((label, message, target) for message in errors)

        add(self.facts, "")
        for kind in ROWS:
            formset = self.forms[kind]
            for message in formset.non_form_errors():
                summary.append((ROW_NAMES[kind].capitalize(), message, "round-form"))
            for i, form in enumerate(formset.forms, 1):
                where = getattr(form, "title", None) or f"{ROW_NAMES[kind].capitalize()} {i}"
                add(form, f"{where}: ")
        return summary

    # -- saving ---------------------------------------------------------------------
    @transaction.atomic
    def save(self) -> Round:
        # Each issue's changes and chains are worked out once, after all the rows.
        with derived.deferred(self.negotiation):
            return self._save()

    def _save(self) -> Round:
        round_ = self.facts.save(commit=False)
        round_.negotiation = self.negotiation
        round_.save()
        self.round = round_
        sources = self._save_new_sources()

        def cited(values) -> list[Source]:
            return [sources[v] for v in values if v in sources]

        _sync_links(RoundHost, {"round": round_}, "party", self.facts.cleaned_data["hosts"])
        _sync_links(
            RoundCitation, {"round": round_}, "source", cited(self.facts.cleaned_data["sources"])
        )
        self._save_members()
        self._save_outcomes(cited)
        self._save_positions(cited)
        self._save_statements(cited)
        return round_

    def _rows(self, name: str):
        """(data, deleted, changed) for each row that edits something or adds something."""
        formset = self.forms[name]
        for form in formset.forms:
            changed = form.has_changed()
            if not changed and not form.cleaned_data.get("id"):
                continue
            deleted = formset.can_delete and formset._should_delete_form(form)
            yield form.cleaned_data, deleted, changed

    def _save_new_sources(self) -> dict[str, Source]:
        sources = {str(s.pk): s for s in self.sources}
        for i, form in enumerate(self.forms["new_sources"].forms):
            if not form.has_changed():
                continue
            data = form.cleaned_data
            name = " ".join(
                filter(None, [data["publisher"], data["title"][:40] or data["url"][:40]])
            )
            sources[f"{NEW_SOURCE}{i}"] = Source.objects.create(
                negotiation=self.negotiation,
                key=unique_slug(Source, name, "key", negotiation=self.negotiation),
                **{k: data[k] for k in ("url", "title", "publisher", "author", "published_on")},
            )
        return sources

    def _person(self, data, party: Party | None) -> Person:
        if data.get("person"):
            return data["person"]
        name = data["new_person"].strip()
        return Person.objects.create(slug=unique_slug(Person, name), name=name, party=party)

    def _save_members(self) -> None:
        round_ = self.round
        delegations = {d.party_id: d for d in round_.delegations.all()}
        members = {m.pk: m for m in DelegationMember.objects.filter(delegation__round=round_)}
        formset = self.forms["members"]
        parties_kept = {  # a row with a party and no person keeps an unnamed delegation
            form.cleaned_data["party"].pk
            for form in formset.forms
            if form.cleaned_data.get("party") and not formset._should_delete_form(form)
        }
        for data, deleted, changed in self._rows("members"):
            member = members.get(data.get("id"))
            if deleted:
                if member:
                    member.delete()
                continue
            party = data["party"]
            if member and not changed:
                continue
            delegation = delegations.get(party.pk)
            if delegation is None:
                delegation = delegations[party.pk] = Delegation.objects.create(
                    round=round_, party=party
                )
            if not (data.get("person") or data.get("new_person")):
                if member:
                    member.delete()
                continue
            person = self._person(data, party)
            if member is None:
                member = DelegationMember(delegation=delegation)
            member.delegation, member.person = delegation, person
            member.role, member.is_head = data["role"], data["is_head"]
            member.save()
        for party_id, delegation in delegations.items():
            if party_id not in parties_kept:
                delegation.delete()

    def _save_outcomes(self, cited) -> None:
        recorded = {o.issue_id: o for o in self.round.outcomes.all()}
        for form in self.forms["outcomes"].forms:
            data = form.cleaned_data
            if not data.get("issue"):
                continue  # a blank extra row
            outcome = recorded.get(data["issue"].pk)
            if not data["status"]:
                if outcome:
                    outcome.delete()
                continue
            if outcome is None:
                outcome = Outcome(round=self.round, issue=data["issue"])
            if outcome.pk is None or (outcome.status, outcome.text) != (
                data["status"],
                data["text"],
            ):
                outcome.status, outcome.text = data["status"], data["text"]
                outcome.save()
            _sync_links(OutcomeCitation, {"outcome": outcome}, "source", cited(data["sources"]))

    def _save_positions(self, cited) -> None:
        existing = {p.pk: p for p in self.round.positions.all()}
        for data, deleted, changed in self._rows("positions"):
            position = existing.get(data.get("id"))
            if deleted:
                if position:
                    position.delete()
                continue
            if position and not changed:
                continue
            position = position or Position(round=self.round)
            for name in ("party", "issue", "stance", "text", "responds_to"):
                setattr(position, name, data[name])
            position.save()
            _sync_links(PositionCitation, {"position": position}, "source", cited(data["sources"]))

    def _save_statements(self, cited) -> None:
        existing = {s.pk: s for s in self.round.statements.all()}
        for data, deleted, changed in self._rows("statements"):
            statement = existing.get(data.get("id"))
            if deleted:
                if statement:
                    statement.delete()
                continue
            if statement and not changed:
                continue
            statement = statement or Statement(round=self.round)
            statement.person = self._person(data, data.get("new_person_party"))
            for name in ("said_on", "text", "original", "language"):
                setattr(statement, name, data[name])
            statement.save()
            _sync_links(
                StatementCitation, {"statement": statement}, "source", cited(data["sources"])
            )


def _source_label(source: Source) -> str:
    parts = [source.title or source.url or source.key, source.publisher]
    if source.published_on:
        parts.append(source.published_on.isoformat())
    return " · ".join(p for p in parts if p)


def _sync_links(model, owner: dict, name: str, wanted) -> None:
    """Make the link rows (hosts, citations) of one owner exactly `wanted`, one row at a
    time so that each addition and removal is in the history."""
    current = {getattr(link, f"{name}_id"): link for link in model.objects.filter(**owner)}
    wanted_ids = {obj.pk for obj in wanted}
    for pk, link in current.items():
        if pk not in wanted_ids:
            link.delete()
    for obj in wanted:
        if obj.pk not in current:
            model.objects.create(**owner, **{name: obj})
