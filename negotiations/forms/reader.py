"""Forms. The readers' forms are GET filters: a value they do not recognise is reported
and ignored, so a mistyped or stale link still shows the nearest sensible page."""

from django import forms
from django.forms.utils import flatatt
from django.utils.html import format_html, format_html_join

from ..models import Round


class Select(forms.Select):
    """Django's select, drawn without rendering a template for each option: the
    timeline of a long negotiation offers dozens of years, and those templates cost
    more than the rest of the filter form."""

    def render(self, name, value, attrs=None, renderer=None):
        widget = self.get_context(name, value, attrs)["widget"]
        options = format_html_join(
            "",
            '<option value="{}"{}>{}</option>',
            (
                (option["value"], " selected" if option["selected"] else "", option["label"])
                for _, group, _ in widget["optgroups"]
                for option in group
            ),
        )
        return format_html(
            "<select{}>{}</select>", flatatt(widget["attrs"] | {"name": name}), options
        )


class TimelineFilter(forms.Form):
    ORDERS = [("newest", "Newest first"), ("oldest", "Oldest first")]

    issue = forms.ChoiceField(
        required=False,
        widget=Select,
        error_messages={"invalid_choice": "There is no issue “%(value)s” in this negotiation."},
    )
    party = forms.ChoiceField(
        required=False,
        widget=Select,
        error_messages={"invalid_choice": "No party “%(value)s” took part in this negotiation."},
    )
    year = forms.TypedChoiceField(
        required=False,
        widget=Select,
        coerce=int,
        empty_value=None,
        error_messages={"invalid_choice": "No round was held in “%(value)s”."},
    )
    format = forms.ChoiceField(
        required=False,
        widget=Select,
        choices=[("", "Any format"), *Round.Format.choices],
        error_messages={
            "invalid_choice": "“%(value)s” is not a format: use in-person, video or mixed."
        },
    )
    order = forms.ChoiceField(
        required=False,
        widget=Select,
        choices=ORDERS,
        error_messages={"invalid_choice": "“%(value)s” is not an order: use newest or oldest."},
    )

    def __init__(self, data, *, issues, parties, years):
        super().__init__(data)
        self.fields["issue"].choices = [("", "All issues"), *((i.slug, i.title) for i in issues)]
        self.fields["party"].choices = [("", "All parties"), *((p.slug, p.name) for p in parties)]
        self.fields["year"].choices = [("", "All years"), *((y, y) for y in years)]

    def filters(self) -> dict:
        """The values that are valid; the others are left out (and listed in `errors`)."""
        self.is_valid()
        return {name: value for name, value in self.cleaned_data.items() if value}


class BoardDates(forms.Form):
    as_of = forms.DateField(
        required=False,
        label="As of",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": "“As of” must be a date written YYYY-MM-DD."},
        help_text="The board as it stood at the end of that day.",
    )
    compare = forms.DateField(
        required=False,
        label="Changes since",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": "“Changes since” must be a date written YYYY-MM-DD."},
        help_text="Lists the issues whose status moved between that day and “as of”.",
    )

    def dates(self) -> dict:
        self.is_valid()
        return {name: value for name, value in self.cleaned_data.items() if value}
