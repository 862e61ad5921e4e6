"""The analyst's round form: the round's facts and one formset per kind of row.

Rows that cite sources choose among the negotiation's sources and the new sources typed
into the same form (values "new-0", "new-1"…), so a source can be added and cited in one
save. Every row form keeps the id of the object it edits in a hidden field.
"""

from django import forms
from django.core.exceptions import ValidationError
from django.forms import formset_factory

from ..models import WEB_ONLY, Issue, Negotiation, Outcome, Party, Person, Position, Round, Source

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
NEW_SOURCE = "new-"


class Choice(forms.ModelChoiceField):
    """A model choice whose id may be any text: too big for the database is not a 500."""

    def to_python(self, value):
        try:
            return super().to_python(value)
        except OverflowError:
            raise ValidationError(
                self.error_messages["invalid_choice"], code="invalid_choice"
            ) from None


class Choices(forms.ModelMultipleChoiceField):
    def _check_values(self, value):
        try:
            return super()._check_values(value)
        except OverflowError:
            raise ValidationError(
                self.error_messages["invalid_choice"] % {"value": "?"}, code="invalid_choice"
            ) from None


class SourcesField(forms.MultipleChoiceField):
    """Sources to cite: the negotiation's, by id, and the form's new ones, by "new-N"."""

    widget = forms.SelectMultiple(attrs={"class": "source-select", "size": 4})

    def __init__(self, **kwargs):
        super().__init__(required=False, **kwargs)


class RoundFacts(forms.ModelForm):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    hosts = Choices(Party.objects.none(), required=False, widget=forms.CheckboxSelectMultiple)
    sources = SourcesField(
        label="Sources for the round", help_text="Reports of the meeting itself."
    )

    class Meta:
        model = Round
        fields = [
            "number",
            "title",
            "status",
            "start_date",
            "end_date",
            "location",
            "format",
            "summary",
        ]
        widgets = {
            "start_date": DATE,
            "end_date": DATE,
            "summary": forms.Textarea(attrs={"rows": 4}),
        }

    def __init__(self, *args, negotiation: Negotiation, **kwargs):
        super().__init__(*args, **kwargs)
        self.negotiation = negotiation
        self.fields["hosts"].queryset = Party.objects.order_by("name")
        self.fields["format"].required = False

    def clean_number(self):
        number = self.cleaned_data["number"]
        taken = Round.objects.filter(negotiation=self.negotiation, number=number).exclude(
            pk=self.instance.pk
        )
        if taken.exists():
            raise ValidationError(f"Round {number} already exists in this negotiation.")
        return number

    def clean(self):
        data = super().clean()
        start, end = data.get("start_date"), data.get("end_date")
        if start and end and end < start:
            self.add_error("end_date", "The round cannot end before it starts.")
        if data.get("status") == Round.Status.HELD and not start:
            self.add_error("start_date", "A held round needs the date it started.")
        return data


class NewSourceForm(forms.Form):
    url = forms.URLField(
        label="Link", required=False, assume_scheme="https", max_length=1000, validators=[WEB_ONLY]
    )
    title = forms.CharField(max_length=500, required=False)
    publisher = forms.CharField(max_length=200, required=False)
    author = forms.CharField(max_length=200, required=False)
    published_on = forms.DateField(label="Published", required=False, widget=DATE)

    def clean(self):
        data = super().clean()
        if self.has_changed() and not (data.get("url") or data.get("title")):
            raise ValidationError("Give the source a link or a title.")
        return data

    def label(self) -> str:
        data = self.cleaned_data if self.is_bound and hasattr(self, "cleaned_data") else {}
        raw = self.data if self.is_bound else {}
        title = data.get("title") or raw.get(self.add_prefix("title"), "")
        url = data.get("url") or raw.get(self.add_prefix("url"), "")
        publisher = data.get("publisher") or raw.get(self.add_prefix("publisher"), "")
        return " · ".join(part for part in [title or url, publisher] if part)


class RowForm(forms.Form):
    """A row that edits an existing object (its id) or creates one (no id)."""

    id = forms.IntegerField(widget=forms.HiddenInput, required=False)


class MemberForm(RowForm):
    party = Choice(Party.objects.none(), label="Delegation of", empty_label="— pick a party —")
    person = Choice(Person.objects.none(), required=False, empty_label="— pick a person —")
    new_person = forms.CharField(
        label="or a new person", max_length=200, required=False, help_text="Full name."
    )
    role = forms.CharField(max_length=300, required=False)
    is_head = forms.BooleanField(label="Head", required=False)

    def clean(self):
        data = super().clean()
        if data.get("person") and data.get("new_person"):
            self.add_error("new_person", "Pick a person or type a new name, not both.")
        if data.get("is_head") and not (data.get("person") or data.get("new_person")):
            self.add_error("is_head", "Only a named person can head a delegation.")
        return data


class OutcomeForm(forms.Form):
    issue = Choice(Issue.objects.none(), widget=forms.HiddenInput)
    status = forms.ChoiceField(
        choices=[("", "— no outcome —"), *Outcome.Status.choices], required=False
    )
    text = forms.CharField(
        label="What was reported", widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    sources = SourcesField()

    def clean(self):
        data = super().clean()
        if not data.get("status") and (data.get("text") or data.get("sources")):
            self.add_error("status", "Choose a status, or clear the text and sources.")
        return data


class PositionForm(RowForm):
    party = Choice(Party.objects.none(), empty_label="— pick a party —")
    issue = Choice(Issue.objects.none(), empty_label="— pick an issue —")
    stance = forms.ChoiceField(choices=[("", "— stance —"), *Position.Stance.choices])
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    responds_to = Choice(
        Position.objects.none(), required=False, label="Answers", empty_label="— nothing —"
    )
    sources = SourcesField()

    def clean(self):
        data = super().clean()
        answered = data.get("responds_to")
        if answered and data.get("id") and answered.pk == data["id"]:
            self.add_error("responds_to", "A position cannot answer itself.")
        return data


class StatementForm(RowForm):
    person = Choice(
        Person.objects.none(), required=False, label="Speaker", empty_label="— pick a person —"
    )
    new_person = forms.CharField(label="or a new speaker", max_length=200, required=False)
    new_person_party = Choice(Party.objects.none(), required=False, label="New speaker's party")
    said_on = forms.DateField(label="Said on", required=False, widget=DATE)
    text = forms.CharField(
        label="Quote",
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="As the source reports it.",
    )
    original = forms.CharField(
        label="Original wording", widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    language = forms.CharField(
        max_length=35, required=False, help_text="Of the original, e.g. “uk” or “ru”."
    )
    sources = SourcesField()

    def clean(self):
        data = super().clean()
        if not data.get("person") and not data.get("new_person"):
            self.add_error("person", "Pick the speaker, or type a new speaker's name.")
        if data.get("person") and data.get("new_person"):
            self.add_error("new_person", "Pick a speaker or type a new name, not both.")
        return data


class MemberFormSet(forms.BaseFormSet):
    def clean(self):
        heads: dict[Party, int] = {}
        seen: set[tuple[int, int]] = set()
        for form in self.forms:
            if not form.has_changed() and not form.cleaned_data.get("id"):
                continue
            if self.can_delete and self._should_delete_form(form):
                continue
            data = getattr(form, "cleaned_data", {})
            party = data.get("party")
            if party and data.get("is_head"):
                heads[party] = heads.get(party, 0) + 1
                if heads[party] > 1:
                    form.add_error("is_head", f"{party}'s delegation already has a head.")
            person = data.get("person")
            if party and person:
                if (party.pk, person.pk) in seen:
                    form.add_error("person", f"{person} is already listed for {party}.")
                seen.add((party.pk, person.pk))


# A round has tens of rows, not thousands: a larger row count is refused before Django
# builds that many forms (its own ceiling is 2,000 per formset, seconds of work).
ROWS_MAX = 300
LIMITS = {"max_num": ROWS_MAX, "absolute_max": ROWS_MAX, "validate_max": True}
Members = formset_factory(MemberForm, formset=MemberFormSet, extra=0, can_delete=True, **LIMITS)
Outcomes = formset_factory(OutcomeForm, extra=0, **LIMITS)
Positions = formset_factory(PositionForm, extra=0, can_delete=True, **LIMITS)
Statements = formset_factory(StatementForm, extra=0, can_delete=True, **LIMITS)
NewSources = formset_factory(NewSourceForm, extra=0, **LIMITS)


class ImportForm(forms.Form):
    file = forms.FileField(
        label="parley/1 file", help_text="A JSON document in the parley/1 format."
    )
    replace = forms.BooleanField(
        required=False,
        label="Replace the negotiation if it exists",
        help_text="Deletes its rounds, issues and sources and loads the file's instead.",
    )
    confirm = forms.BooleanField(
        required=False, label="I understand that replacing deletes the current data"
    )
    reason = forms.CharField(
        max_length=100, required=False, help_text="Kept in the history, e.g. “Corrected dates”."
    )

    def clean(self):
        data = super().clean()
        if data.get("replace") and not data.get("confirm"):
            self.add_error("confirm", "Tick this box to confirm the replacement.")
        return data


__all__ = [
    "NEW_SOURCE",
    "ImportForm",
    "Members",
    "NewSources",
    "Outcomes",
    "Positions",
    "RoundFacts",
    "Source",
    "Statements",
]
