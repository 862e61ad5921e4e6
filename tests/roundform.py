"""A test helper: the POST a browser would send for the analyst's round form."""

from django import forms

from negotiations.editor import RoundEditor


def form_data(editor: RoundEditor) -> dict:
    """What the browser would submit for the round form as it is rendered: every field of
    the facts and of every row, the formsets' management forms, and action=save."""
    data = {}

    def add(form) -> None:
        for bound in form:
            value = bound.value()
            if isinstance(bound.field, forms.BooleanField):
                if value:
                    data[bound.html_name] = "on"
            elif getattr(bound.field.widget, "allow_multiple_selected", False):
                data[bound.html_name] = [str(v) for v in value or []]
            else:
                data[bound.html_name] = "" if value is None else str(value)

    add(editor.facts)
    for formset in editor.forms.values():
        add(formset.management_form)
        for form in formset.forms:
            add(form)
    data["action"] = "save"
    return data
