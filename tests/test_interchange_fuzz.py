"""Hypothesis mutates valid parley/1 documents: every result is either a clean import or a
list of problems with nothing written — never a traceback, never half a negotiation."""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benchmarks.synthetic import generate_document
from negotiations.interchange import InvalidDocument, export_negotiation, import_negotiation
from negotiations.models import Negotiation, Round

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 10**12) | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=6,
)


def _paths(node, prefix=()):
    """Every (container, key) pair in a JSON tree."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield node, key
            yield from _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield node, index
            yield from _paths(value, (*prefix, index))


@st.composite
def mutated_documents(draw):
    document = generate_document(slug="fuzz", rounds=3, issues=3, parties=2)
    for _ in range(draw(st.integers(1, 3))):
        places = list(_paths(document))
        container, key = places[draw(st.integers(0, len(places) - 1))]
        action = draw(st.sampled_from(["replace", "delete", "add"]))
        if action == "replace":
            container[key] = draw(json_values)
        elif action == "delete":
            del container[key]
        elif isinstance(container, dict):
            container[draw(st.text(max_size=8))] = draw(json_values)
        else:
            container.append(draw(json_values))
    return document


@pytest.mark.django_db
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(document=mutated_documents())
def test_mutated_documents_import_cleanly_or_not_at_all(document):
    Negotiation.objects.filter(slug="fuzz").delete()
    try:
        result = import_negotiation(json.dumps(document))
    except InvalidDocument as refused:
        assert refused.problems
        assert all(str(problem) for problem in refused.problems)
        assert Round.objects.count() == 0
        return
    # Whatever was accepted exports and imports again to the same text.
    exported = export_negotiation(result.negotiation)
    slug = result.negotiation.slug
    Negotiation.objects.filter(slug=slug).delete()
    assert export_negotiation(import_negotiation(exported).negotiation) == exported


@pytest.mark.django_db
@settings(max_examples=100, deadline=None)
@given(text=st.text(max_size=200) | st.binary(max_size=200))
def test_arbitrary_input_never_raises_anything_but_a_list_of_problems(text):
    with pytest.raises(InvalidDocument):
        import_negotiation(text)
