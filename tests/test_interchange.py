import json
from io import StringIO
from pathlib import Path

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command

from benchmarks.synthetic import generate_document
from negotiations.interchange import (
    InvalidDocument,
    export_negotiation,
    import_negotiation,
    read_document,
)
from negotiations.models import Negotiation, Party, Person, Position, Round

pytestmark = pytest.mark.django_db


def dump(document: dict) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def row_counts() -> dict[str, int]:
    """Rows in every table of the app, history included."""
    return {
        model._meta.label: model._default_manager.count()
        for model in apps.get_app_config("negotiations").get_models()
    }


def small_document() -> dict:
    return generate_document(slug="small", rounds=6, issues=3, parties=3)


def test_generated_document_round_trips_byte_for_byte():
    text = dump(generate_document(rounds=120))
    negotiation = import_negotiation(text).negotiation
    assert export_negotiation(negotiation) == text


def test_export_import_export_into_an_empty_database_is_identical():
    negotiation = import_negotiation(dump(small_document())).negotiation
    first = export_negotiation(negotiation)
    Negotiation.objects.all().delete()
    Person.objects.all().delete()
    Party.objects.all().delete()
    second = export_negotiation(import_negotiation(first).negotiation)
    assert second == first


def test_omitted_optional_keys_are_exported_as_empty_values():
    document = {
        "format": "parley/1",
        "negotiation": {"slug": "bare", "title": "Bare talks", "status": "active"},
        "parties": [{"slug": "north", "name": "North", "kind": "state"}],
        "issues": [{"slug": "border", "title": "Border"}],
        "rounds": [
            {
                "number": 1,
                "status": "held",
                "delegations": [{"party": "north"}],
                "outcomes": [{"issue": "border", "status": "raised"}],
            }
        ],
    }
    exported = json.loads(export_negotiation(import_negotiation(json.dumps(document)).negotiation))
    assert exported["negotiation"]["summary"] == ""
    assert exported["negotiation"]["ended_on"] is None
    assert exported["people"] == []
    assert exported["parties"] == [
        {"slug": "north", "name": "North", "kind": "state", "aliases": []}
    ]
    round_ = exported["rounds"][0]
    assert round_["published"] is True
    assert round_["format"] is None
    assert round_["hosts"] == [] and round_["sources"] == []
    assert round_["outcomes"] == [
        {"issue": "border", "status": "raised", "text": "", "sources": []}
    ]
    assert round_["delegations"] == [{"party": "north", "members": []}]


def test_import_keeps_a_history_record_for_every_row():
    import_negotiation(dump(small_document()))
    round_ = Round.objects.get(number=2)
    record = round_.history.get()
    assert record.history_type == "+"
    assert record.history_change_reason == "Imported from parley/1"
    answering = Position.objects.exclude(responds_to=None).first()
    assert answering.history.get().responds_to_id == answering.responds_to_id


def test_position_lineage_is_kept():
    document = small_document()
    first, later = document["rounds"][0]["positions"][0], document["rounds"][3]["positions"][0]
    later["responds_to"] = first["key"]
    import_negotiation(dump(document))
    answer = Position.objects.get(key=later["key"])
    assert answer.responds_to.key == first["key"]
    assert answer.responds_to.round.number == 1


# --- Malformed documents: every kind of error, named by its path, nothing written ----


def _mutate(change) -> str:
    document = small_document()
    change(document)
    return dump(document)


def _set(path: list, value):
    def change(document):
        target = document
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = value

    return change


def _delete(path: list):
    def change(document):
        target = document
        for step in path[:-1]:
            target = target[step]
        del target[path[-1]]

    return change


MALFORMED = {
    "not JSON": ('{"format": "parley/1",\n  "negotiation": }', "line 2, column 18"),
    "not an object": ("[1, 2]", "one JSON object"),
    "other format": (_mutate(_set(["format"], "parley/2")), 'format: must be "parley/1"'),
    "unknown key": (
        _mutate(_set(["rounds", 1, "outcomes", 0, "comment"], "x")),
        'rounds[1].outcomes[0].comment: unknown key "comment"',
    ),
    "missing key": (
        _mutate(_delete(["rounds", 2, "status"])),
        "rounds[2].status: is required",
    ),
    "bad slug": (
        _mutate(_set(["issues", 1, "slug"], "Crimea Status")),
        'issues[1].slug: "Crimea Status" is not a slug',
    ),
    "duplicate slug": (
        _mutate(_set(["parties", 1, "slug"], "syn-party-0")),
        'parties[1].slug: duplicate party "syn-party-0"',
    ),
    "dangling reference": (
        _mutate(_set(["rounds", 2, "outcomes", 0, "issue"], "crimea-status")),
        'rounds[2].outcomes[0].issue: unknown issue "crimea-status"',
    ),
    "dangling source": (
        _mutate(_set(["rounds", 0, "statements", 0, "sources"], ["src-99"])),
        'rounds[0].statements[0].sources[0]: unknown source "src-99"',
    ),
    "bad date": (
        _mutate(_set(["rounds", 0, "start_date"], "07/03/2022")),
        'rounds[0].start_date: "07/03/2022" is not a date in the form YYYY-MM-DD',
    ),
    "impossible date": (
        _mutate(_set(["sources", 0, "published_on"], "2022-02-30")),
        "sources[0].published_on:",
    ),
    "end before start": (
        _mutate(_set(["rounds", 1, "end_date"], "1999-01-01")),
        "rounds[1].end_date: 1999-01-01 is before start_date",
    ),
    "unknown vocabulary value": (
        _mutate(_set(["rounds", 0, "outcomes", 0, "status"], "open")),
        'rounds[0].outcomes[0].status: "open" is not one of: not-discussed',
    ),
    "duplicate round number": (
        _mutate(_set(["rounds", 3, "number"], 1)),
        'rounds[3].number: duplicate round number "1"',
    ),
    "two outcomes for one issue": (
        _mutate(lambda d: d["rounds"][0]["outcomes"].append(dict(d["rounds"][0]["outcomes"][0]))),
        "rounds[0].outcomes[3].issue: a second outcome for issue",
    ),
    "answer to a later position": (
        _mutate(_set(["rounds", 0, "positions", 0, "responds_to"], "pos-5-0")),
        'rounds[0].positions[0].responds_to: unknown position "pos-5-0"',
    ),
    "wrong type": (
        _mutate(_set(["rounds", 0, "number"], "one")),
        'rounds[0].number: must be a positive integer, not "one"',
    ),
    "javascript link": (
        _mutate(_set(["sources", 0, "url"], "javascript:alert(1)")),
        'sources[0].url: "javascript:alert(1)" is not an http:// or https:// address',
    ),
    "outcomes of a scheduled round": (
        _mutate(_set(["rounds", 0, "status"], "scheduled")),
        "rounds[0].outcomes: a scheduled round has no outcomes yet",
    ),
    "two heads": (
        _mutate(_set(["rounds", 0, "delegations", 0, "members", 1, "is_head"], True)),
        "rounds[0].delegations[0].members[1].is_head: a delegation has at most one head",
    ),
}


@pytest.mark.parametrize("name", MALFORMED)
def test_malformed_document_is_refused_with_its_path_and_nothing_written(name):
    text, expected = MALFORMED[name]
    import_negotiation(dump(generate_document(slug="other", rounds=2, shared_prefix="oth")))
    before = row_counts()
    with pytest.raises(InvalidDocument) as refused:
        import_negotiation(text)
    messages = [str(problem) for problem in refused.value.problems]
    assert any(expected in message for message in messages), messages
    assert row_counts() == before


def test_every_problem_is_listed_not_just_the_first():
    document = small_document()
    document["rounds"][0]["format"] = "telepathy"
    document["rounds"][1]["hosts"] = ["atlantis"]
    document["people"][0]["party"] = "nobody"
    del document["issues"][0]["title"]
    with pytest.raises(InvalidDocument) as refused:
        import_negotiation(dump(document))
    paths = {problem.path for problem in refused.value.problems}
    assert {"rounds[0].format", "rounds[1].hosts[0]", "people[0].party", "issues[0].title"} <= paths


def test_existing_negotiation_is_refused_without_replace():
    text = dump(small_document())
    import_negotiation(text)
    with pytest.raises(InvalidDocument) as refused:
        import_negotiation(text)
    assert "negotiation.slug" in str(refused.value)
    assert Negotiation.objects.count() == 1


def test_replace_swaps_the_negotiation_in_one_go_and_leaves_history():
    document = small_document()
    import_negotiation(dump(document))
    document["negotiation"]["title"] = "Renamed talks"
    document["rounds"] = document["rounds"][:2]
    result = import_negotiation(dump(document), replace=True)
    assert result.replaced
    negotiation = Negotiation.objects.get()
    assert negotiation.title == "Renamed talks"
    assert negotiation.rounds.count() == 2
    reasons = list(
        Negotiation.history.filter(slug="small").values_list(
            "history_type", "history_change_reason"
        )
    )
    assert ("-", "Replaced by a parley/1 import") in reasons
    assert ("+", "Imported from parley/1") in reasons
    assert export_negotiation(negotiation) == dump(document)


def test_a_failing_replace_keeps_the_old_negotiation():
    document = small_document()
    import_negotiation(dump(document))
    before = row_counts()
    document["rounds"][0]["hosts"] = ["atlantis"]
    with pytest.raises(InvalidDocument):
        import_negotiation(dump(document), replace=True)
    assert row_counts() == before


def test_shared_people_merge_aliases_and_keep_stored_values_with_a_warning():
    first = generate_document(slug="first", rounds=2)
    import_negotiation(dump(first))
    second = generate_document(slug="second", rounds=2)
    second["people"][0]["aliases"] = ["A brand-new spelling"]
    second["people"][0]["name"] = "Someone else"
    result = import_negotiation(dump(second))
    person = Person.objects.get(slug=second["people"][0]["slug"])
    assert person.name == first["people"][0]["name"]
    assert person.aliases == [*first["people"][0]["aliases"], "A brand-new spelling"]
    assert [str(w) for w in result.warnings if w.path.startswith("people[0]")] == [
        f'people[0].name: differs from the stored value "{first["people"][0]["name"]}"; '
        "the stored value is kept"
    ]
    # Both negotiations now export the merged aliases: nothing in either file is lost.
    exported = json.loads(export_negotiation(Negotiation.objects.get(slug="first")))
    assert "A brand-new spelling" in exported["people"][0]["aliases"]


def test_two_negotiations_may_use_the_same_issue_and_source_keys():
    import_negotiation(dump(generate_document(slug="one", rounds=3)))
    import_negotiation(dump(generate_document(slug="two", rounds=3)))
    assert Negotiation.objects.count() == 2


def test_reader_export_leaves_drafts_and_their_only_sources_out():
    document = generate_document(slug="drafts", rounds=51)
    negotiation = import_negotiation(dump(document)).negotiation
    exported = json.loads(export_negotiation(negotiation, include_drafts=False))
    numbers = [r["number"] for r in exported["rounds"]]
    assert 50 not in numbers and len(numbers) == 50
    assert "src-50" not in {s["key"] for s in exported["sources"]}
    keys = {p["key"] for r in exported["rounds"] for p in r["positions"]}
    answered = {p["responds_to"] for r in exported["rounds"] for p in r["positions"]} - {None}
    assert answered <= keys


def test_read_document_fills_defaults_without_touching_the_database(django_assert_num_queries):
    with django_assert_num_queries(1):  # only: does the slug exist?
        document = read_document(dump(small_document()))
    assert document["rounds"][0]["published"] is True


# --- The commands --------------------------------------------------------------------


def test_import_command_lists_every_problem_and_fails(tmp_path: Path):
    document = small_document()
    document["rounds"][0]["format"] = "telepathy"
    document["rounds"][1]["hosts"] = ["atlantis"]
    path = tmp_path / "bad.json"
    path.write_text(dump(document))
    stderr = StringIO()
    with pytest.raises(CommandError, match="2 problems found; nothing was imported"):
        call_command("import_negotiation", str(path), stderr=stderr)
    assert "rounds[0].format" in stderr.getvalue()
    assert 'rounds[1].hosts[0]: unknown party "atlantis"' in stderr.getvalue()
    assert Negotiation.objects.count() == 0


def test_import_command_names_a_missing_file(tmp_path: Path):
    with pytest.raises(CommandError, match="cannot read the file"):
        call_command("import_negotiation", str(tmp_path / "nope.json"))


def test_import_command_refuses_a_file_over_the_size_limit(tmp_path: Path, settings):
    settings.PARLEY_IMPORT_MAX_BYTES = 100
    path = tmp_path / "big.json"
    path.write_text(dump(small_document()))
    with pytest.raises(CommandError, match="the limit is 100"):
        call_command("import_negotiation", str(path))


def test_import_and_export_commands_round_trip(tmp_path: Path):
    source = tmp_path / "in.json"
    source.write_text(dump(small_document()), encoding="utf-8")
    out = StringIO()
    call_command("import_negotiation", str(source), stdout=out)
    assert 'Imported "small" with 6 rounds.' in out.getvalue()
    stdout = StringIO()
    call_command("export_negotiation", "small", stdout=stdout)
    assert stdout.getvalue() == source.read_text(encoding="utf-8")
    target = tmp_path / "out.json"
    call_command("export_negotiation", "small", "-o", str(target), stderr=StringIO())
    assert target.read_bytes() == source.read_bytes()


def test_import_command_replace(tmp_path: Path):
    document = small_document()
    path = tmp_path / "in.json"
    path.write_text(dump(document))
    call_command("import_negotiation", str(path), stdout=StringIO())
    document["negotiation"]["title"] = "New title"
    path.write_text(dump(document))
    with pytest.raises(CommandError):
        call_command("import_negotiation", str(path), stderr=StringIO())
    out = StringIO()
    call_command("import_negotiation", str(path), "--replace", stdout=out)
    assert "Replaced" in out.getvalue()
    assert Negotiation.objects.get().title == "New title"


def test_export_command_names_an_unknown_slug():
    with pytest.raises(CommandError, match='No negotiation "nope"'):
        call_command("export_negotiation", "nope")


def test_demo_data_round_trips_and_loads_only_once():
    call_command("load_demo", stdout=StringIO())
    counts = row_counts()
    out = StringIO()
    call_command("load_demo", stdout=out)
    assert "already loaded" in out.getvalue()
    assert row_counts() == counts
    demo = Path("negotiations/demo/russia-ukraine.json").read_text(encoding="utf-8")
    assert export_negotiation(Negotiation.objects.get(slug="russia-ukraine")) == demo


def test_demo_data_cites_a_source_for_every_claim():
    document = json.loads(Path("negotiations/demo/russia-ukraine.json").read_text("utf-8"))
    assert len(document["rounds"]) >= 11
    for round_ in document["rounds"]:
        assert round_["sources"], round_["number"]
        for kind in ("outcomes", "positions", "statements"):
            for item in round_[kind]:
                assert item["sources"], (round_["number"], kind, item)
    seed = [s for s in document["sources"] if s["key"] == "antiwar-2022-03-07"]
    assert seed and seed[0]["author"] == "Dave DeCamp"


def test_an_item_that_is_not_an_object_keeps_the_other_paths_right():
    document = small_document()
    document["rounds"][0] = "round one"
    document["rounds"][2]["hosts"] = ["atlantis"]
    with pytest.raises(InvalidDocument) as refused:
        import_negotiation(dump(document))
    problems = [str(p) for p in refused.value.problems]
    assert problems[0] == 'rounds[0]: must be an object, not "round one"'
    assert 'rounds[2].hosts[0]: unknown party "atlantis"' in problems
