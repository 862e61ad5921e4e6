"""Backups: export_all writes every negotiation as a parley/1 file, import_all restores a
folder of them, checking every file first and writing all of them in one transaction."""

import json
import os
from io import StringIO
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import IntegrityError
from django.test import Client

from negotiations.interchange import InvalidDocument, Problem, export_negotiation
from negotiations.management.commands import import_all as import_all_command
from negotiations.models import Negotiation, Party, Person, Round

from .factories import (
    DelegationFactory,
    DelegationMemberFactory,
    IssueFactory,
    NegotiationFactory,
    OutcomeFactory,
    PartyFactory,
    PersonFactory,
    PositionFactory,
    RoundFactory,
    SourceFactory,
    StatementFactory,
)

pytestmark = pytest.mark.django_db

DEMO = "russia-ukraine"


# --- Helpers ----------------------------------------------------------------------------


def row_counts() -> dict[str, int]:
    """Rows in every table of the app, history included."""
    return {
        model._meta.label: model._default_manager.count()
        for model in apps.get_app_config("negotiations").get_models()
    }


def domain_rows() -> dict[str, int]:
    """Rows in the app's tables that are not history."""
    return {label: count for label, count in row_counts().items() if ".Historical" not in label}


# The commands run as manage.py runs them: after the system checks, which call_command
# skips unless told.


def export_all(directory: Path) -> str:
    out = StringIO()
    call_command("export_all", str(directory), stdout=out, skip_checks=False)
    return out.getvalue()


def import_all(directory: Path, *args: str) -> SimpleNamespace:
    out, err = StringIO(), StringIO()
    call_command("import_all", str(directory), *args, stdout=out, stderr=err, skip_checks=False)
    return SimpleNamespace(out=out.getvalue(), err=err.getvalue())


def refused_import(directory: Path, *args: str) -> SimpleNamespace:
    """Run import_all expecting a refusal; the message and everything written to stderr."""
    err = StringIO()
    with pytest.raises(CommandError) as refused:
        call_command(
            "import_all", str(directory), *args, stdout=StringIO(), stderr=err, skip_checks=False
        )
    return SimpleNamespace(message=str(refused.value), err=err.getvalue())


def files_of(directory: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(directory.iterdir())}


def empty_the_database() -> None:
    """Delete every negotiation and everything it holds, parties and people included."""
    Negotiation.objects.all().delete()
    Person.objects.all().delete()
    Party.objects.all().delete()
    assert set(domain_rows().values()) == {0}


def load_demo() -> Negotiation:
    call_command("load_demo", stdout=StringIO())
    return Negotiation.objects.get(slug=DEMO)


def border_talks() -> Negotiation:
    """A small negotiation made with the factories: a published round with every kind of
    row and citation, a draft round, a source only the draft cites, a keyless position
    that a later one answers, and a delegation with a person and a party of the demo."""
    negotiation = NegotiationFactory(slug="border-talks", title="Border talks")
    north = PartyFactory(slug="northland", name="Northland", aliases=["The North"])
    turkey = Party.objects.get(slug="turkey")
    nora = PersonFactory(slug="nora-north", name="Nora North", party=north, title="Envoy")
    loner = PersonFactory(slug="lone-voice", name="Lone Voice", party=None)
    ukrainian = Person.objects.filter(party__slug="ukraine").order_by("slug").first()
    borders = IssueFactory(negotiation=negotiation, slug="borders", title="Borders", order=0)
    water = IssueFactory(negotiation=negotiation, slug="water", title="Water", order=1)
    wire = SourceFactory(negotiation=negotiation, key="wire", title="Wire report")
    leak = SourceFactory(negotiation=negotiation, key="leak", title="Only the draft cites this")
    held = RoundFactory(negotiation=negotiation, number=1, title="Opening round")
    held.hosts.add(turkey)
    held.sources.add(wire)
    delegation = DelegationFactory(round=held, party=north)
    DelegationMemberFactory(delegation=delegation, person=nora, role="Head", is_head=True)
    DelegationMemberFactory(delegation=delegation, person=ukrainian, role="Observer")
    outcome = OutcomeFactory(round=held, issue=borders, status="raised", text="It came up.")
    outcome.sources.add(wire)
    demand = PositionFactory(round=held, party=north, issue=water, stance="demand", key=None)
    demand.sources.add(wire)
    statement = StatementFactory(round=held, person=loner, text="Nobody asked me.")
    statement.sources.add(wire)
    draft = RoundFactory(
        negotiation=negotiation,
        number=2,
        title="Quiet draft",
        published=False,
        status=Round.Status.SCHEDULED,
        format=None,
    )
    draft.sources.add(leak)
    PositionFactory(
        round=draft,
        party=turkey,
        issue=water,
        stance="offer",
        text="Mediation.",
        responds_to=demand,
    )
    return negotiation


@pytest.fixture
def backup(tmp_path) -> Path:
    """The demo and the border talks, exported to a folder; the database then emptied."""
    load_demo()
    border_talks()
    directory = tmp_path / "backup"
    export_all(directory)
    empty_the_database()
    return directory


# --- export_all -------------------------------------------------------------------------


def test_export_all_writes_each_negotiation_as_its_export_with_drafts(tmp_path):
    demo, border = load_demo(), border_talks()
    directory = tmp_path / "new" / "folder"  # created, parents too
    out = export_all(directory)
    assert files_of(directory) == {
        "border-talks.json": export_negotiation(border).encode(),
        f"{DEMO}.json": export_negotiation(demo).encode(),
    }
    rounds = demo.rounds.count() + 2
    assert f"Wrote 2 negotiations ({rounds} rounds, drafts included) to {directory}." in out
    exported = json.loads((directory / "border-talks.json").read_text(encoding="utf-8"))
    assert [(r["number"], r["published"]) for r in exported["rounds"]] == [(1, True), (2, False)]
    assert [s["key"] for s in exported["sources"]] == ["leak", "wire"]
    # The keyless position that the draft answers gets a made-up key, so no link is lost.
    answered = exported["rounds"][0]["positions"][0]["key"]
    assert answered.startswith("position-")
    assert exported["rounds"][1]["positions"][0]["responds_to"] == answered


@pytest.mark.django_db(transaction=True)
def test_export_all_reads_in_one_snapshot_outside_a_transaction(tmp_path):
    """As `manage.py export_all` runs: its own transaction (REPEATABLE READ, read only, on
    PostgreSQL), which the other tests, inside the test's transaction, do not reach."""
    negotiation = load_demo()
    export_all(tmp_path)
    assert files_of(tmp_path) == {f"{DEMO}.json": export_negotiation(negotiation).encode()}


def test_export_all_overwrites_earlier_files_and_leaves_other_files_alone(tmp_path):
    negotiation = load_demo()
    (tmp_path / f"{DEMO}.json").write_text("stale", encoding="utf-8")
    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")
    export_all(tmp_path)
    assert files_of(tmp_path) == {
        "notes.txt": b"mine",
        f"{DEMO}.json": export_negotiation(negotiation).encode(),
    }


def test_export_all_of_an_empty_database_writes_nothing(tmp_path):
    out = export_all(tmp_path / "empty")
    assert "Wrote 0 negotiations (0 rounds, drafts included)" in out
    assert files_of(tmp_path / "empty") == {}


def test_export_all_refuses_a_file_where_the_directory_should_be(tmp_path):
    load_demo()
    target = tmp_path / "backup.json"
    target.write_text("keep me", encoding="utf-8")
    with pytest.raises(CommandError, match=r"backup\.json: exists and is not a directory\."):
        export_all(target)
    assert target.read_text(encoding="utf-8") == "keep me"
    with pytest.raises(CommandError, match=r"cannot create the directory \(Not a directory\)"):
        export_all(target / "inside")


def test_export_all_refuses_a_directory_it_cannot_write_to(tmp_path, monkeypatch):
    load_demo()
    locked = tmp_path / "locked"
    locked.mkdir()
    # chmod is no test when the suite runs as root, whom access() always lets write.
    real_access = os.access
    monkeypatch.setattr(
        os, "access", lambda path, mode: False if Path(path) == locked else real_access(path, mode)
    )
    with pytest.raises(CommandError, match=r"locked: the directory is not writable\."):
        export_all(locked)
    assert files_of(locked) == {}


# --- A full restore -----------------------------------------------------------------------


def test_a_full_restore_into_an_empty_database_gives_identical_exports(tmp_path, backup):
    assert sorted(files_of(backup)) == ["border-talks.json", f"{DEMO}.json"]
    result = import_all(backup)
    demo_rounds = len(json.loads((backup / f"{DEMO}.json").read_bytes())["rounds"])
    assert f"Imported 2 negotiations (0 replaced) with {demo_rounds + 2} rounds" in result.out
    assert result.err == ""  # no warnings: every party and person is referred to

    again = tmp_path / "again"
    export_all(again)
    assert files_of(again) == files_of(backup)

    draft = Round.objects.get(negotiation__slug="border-talks", number=2)
    assert not draft.published
    record = draft.history.get()
    assert record.history_change_reason == "Restored from border-talks.json (import_all)"
    nora = Person.objects.get(slug="nora-north")
    assert (nora.party.slug, nora.title) == ("northland", "Envoy")


def test_a_restore_leaves_negotiations_that_are_not_in_the_backup_alone(tmp_path, backup):
    other = NegotiationFactory(slug="other-talks")
    RoundFactory(negotiation=other, number=1)
    import_all(backup)
    assert sorted(Negotiation.objects.values_list("slug", flat=True)) == [
        "border-talks",
        "other-talks",
        DEMO,
    ]
    assert other.rounds.count() == 1


# --- import_all refusals: every problem named with its file, nothing written ----------------


def test_an_invalid_file_among_valid_ones_imports_nothing_and_names_the_file(backup):
    broken = json.loads((backup / f"{DEMO}.json").read_bytes())
    broken["negotiation"]["slug"] = "broken-copy"
    broken["rounds"][0]["status"] = "adjourned"
    broken["rounds"][2]["hosts"] = ["atlantis"]
    (backup / "broken-copy.json").write_text(json.dumps(broken), encoding="utf-8")
    (backup / "zz-not-json.json").write_text("{ oops", encoding="utf-8")
    before = row_counts()

    refused = refused_import(backup)

    assert refused.message == "3 problems in 2 of 4 files; nothing was imported."
    lines = refused.err.splitlines()
    assert lines[0].startswith('broken-copy.json: rounds[0].status: "adjourned" is not one of:')
    assert lines[1:] == [
        'broken-copy.json: rounds[2].hosts[0]: unknown party "atlantis"',
        "zz-not-json.json: not valid JSON: Expecting property name enclosed in double quotes "
        "at line 1, column 3",
    ]
    assert row_counts() == before


def test_two_files_of_one_negotiation_are_refused(backup):
    (backup / "copy.json").write_bytes((backup / "border-talks.json").read_bytes())
    before = row_counts()
    refused = refused_import(backup)
    assert refused.message == "1 problem in 1 of 3 files; nothing was imported."
    assert refused.err == (
        'copy.json: negotiation.slug: "border-talks" is also the negotiation of border-talks.json\n'
    )
    assert row_counts() == before


def test_a_file_over_the_size_limit_is_a_problem_of_that_file(backup, settings):
    size = (backup / f"{DEMO}.json").stat().st_size
    settings.PARLEY_IMPORT_MAX_BYTES = size - 1
    before = row_counts()
    refused = refused_import(backup)
    assert refused.err == (
        f"{DEMO}.json: the file is {size:,} bytes; the limit is {size - 1:,} "
        "(PARLEY_IMPORT_MAX_BYTES)\n"
    )
    assert row_counts() == before


def test_an_empty_directory_is_refused(tmp_path):
    (tmp_path / "notes.txt").write_text("not a backup", encoding="utf-8")
    (tmp_path / ".hidden.json").write_text("{}", encoding="utf-8")
    before = row_counts()
    refused = refused_import(tmp_path)
    assert refused.message == f"{tmp_path}: no *.json files; nothing was imported."
    assert row_counts() == before


def test_a_missing_directory_or_a_file_is_refused(tmp_path):
    with pytest.raises(CommandError, match=r"nope: no such directory\."):
        import_all(tmp_path / "nope")
    (tmp_path / "file.json").write_text("{}", encoding="utf-8")
    with pytest.raises(CommandError, match=r"file\.json: is not a directory\."):
        import_all(tmp_path / "file.json")


@pytest.mark.parametrize(
    "failure",
    [
        InvalidDocument([Problem("negotiation.slug", "somebody imported it meanwhile")]),
        IntegrityError("duplicate key value violates unique constraint"),
    ],
    ids=["invalid", "database error"],
)
def test_a_failure_during_the_import_rolls_back_the_files_already_written(
    backup, monkeypatch, failure
):
    """Every file passed the check, but the second one fails while being written (a
    concurrent write, say): the first, already imported, is rolled back too."""
    real = import_all_command.import_negotiation
    calls = []

    def flaky(data, **kwargs):
        calls.append(kwargs["reason"])
        if len(calls) == 2:
            raise failure
        return real(data, **kwargs)

    monkeypatch.setattr(import_all_command, "import_negotiation", flaky)
    before = row_counts()
    refused = refused_import(backup)
    assert refused.message.startswith(f"{DEMO}.json: ")
    assert refused.message.endswith("nothing was imported.")
    assert calls == [
        "Restored from border-talks.json (import_all)",
        f"Restored from {DEMO}.json (import_all)",
    ]
    assert row_counts() == before
    if isinstance(failure, InvalidDocument):
        assert refused.err == f"{DEMO}.json: negotiation.slug: somebody imported it meanwhile\n"


# --- --replace ----------------------------------------------------------------------------


def test_existing_negotiations_are_refused_without_replace_and_replaced_with_it(tmp_path):
    demo = load_demo()
    border_talks()
    export_all(tmp_path)
    edited = json.loads((tmp_path / f"{DEMO}.json").read_bytes())
    edited["negotiation"]["title"] = "Restored talks"
    edited["rounds"] = edited["rounds"][:3]
    (tmp_path / f"{DEMO}.json").write_text(json.dumps(edited), encoding="utf-8")
    before = row_counts()

    refused = refused_import(tmp_path)
    assert refused.message == "2 problems in 2 of 2 files; nothing was imported."
    assert refused.err.splitlines() == [
        'border-talks.json: negotiation.slug: a negotiation "border-talks" already exists '
        "(import with replace to overwrite it)",
        f'{DEMO}.json: negotiation.slug: a negotiation "{DEMO}" already exists '
        "(import with replace to overwrite it)",
    ]
    assert row_counts() == before

    result = import_all(tmp_path, "--replace")
    assert "Imported 2 negotiations (2 replaced) with 5 rounds" in result.out
    replaced = Negotiation.objects.get(slug=DEMO)
    assert (replaced.title, replaced.rounds.count()) == ("Restored talks", 3)
    assert replaced.pk != demo.pk
    assert Round.history.filter(negotiation_id=demo.pk, history_type="-").count() == 11
    again = tmp_path / "again"
    export_all(again)
    assert (again / "border-talks.json").read_bytes() == (
        tmp_path / "border-talks.json"
    ).read_bytes()
    restored = json.loads((again / f"{DEMO}.json").read_bytes())
    assert (restored["negotiation"], restored["rounds"]) == (
        edited["negotiation"],
        edited["rounds"],
    )


# --- History reasons fit the history's 100 characters ---------------------------------------


def test_a_restore_from_a_file_with_a_long_name_keeps_a_reason_that_fits(tmp_path):
    load_demo()
    export_all(tmp_path)
    (tmp_path / f"{DEMO}.json").rename(tmp_path / f"{'x' * 150}.json")
    empty_the_database()
    import_all(tmp_path)
    reason = Round.history.order_by("-history_id").values_list("history_change_reason", flat=True)[
        0
    ]
    assert reason == f"Restored from {'x' * 150}"[:100]


def test_the_web_import_of_a_file_with_a_long_name_keeps_a_reason_that_fits(users, client):
    """Found while testing the restore. negotiations/views/analyst.py, import_file: the
    reason defaults to f"Imported {upload.name}", unchecked; history_change_reason holds
    100 characters. On PostgreSQL the upload below fails with a 500 (DataError: value too
    long for type character varying(100)); SQLite stores all 134 characters."""
    demo = load_demo()
    document = json.loads(export_negotiation(demo))
    document["negotiation"]["slug"] = "long-name-copy"
    name = "a" * 120 + ".json"
    client = Client(raise_request_exception=False)
    client.force_login(users["editor"])
    response = client.post(
        "/log/import/",
        {"file": SimpleUploadedFile(name, json.dumps(document).encode(), "application/json")},
    )
    assert response.status_code == 200
    copy = Negotiation.objects.get(slug="long-name-copy")
    reasons = Round.history.filter(negotiation_id=copy.pk).values_list(
        "history_change_reason", flat=True
    )
    longest = max(reasons, key=len)
    assert len(longest) <= 100, f"a {len(longest)}-character reason: {longest!r}"
