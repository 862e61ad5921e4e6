from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, transaction

from negotiations.interchange import InvalidDocument, Problem, import_negotiation, read_document

# The history keeps at most 100 characters of a change's reason.
REASON_LENGTH = 100


class Command(BaseCommand):
    help = (
        "Import every *.json parley/1 file of a directory (a backup written by export_all): "
        "every file is checked first, and then all are imported in one transaction, or none."
    )

    def add_arguments(self, parser):
        parser.add_argument("directory", type=Path, help="Folder holding the *.json files.")
        parser.add_argument(
            "--replace",
            action="store_true",
            help="Replace negotiations that already exist (kept in history); without it, "
            "a file for an existing negotiation is a problem and nothing is imported.",
        )

    def handle(self, *args, directory: Path, replace: bool, **options):
        paths = _files(directory)
        problems = self.find_problems(paths, replace=replace)
        if problems:
            for path, problem in problems:
                self.stderr.write(f"{path.name}: {problem}")
            count, files = len(problems), len({path for path, _ in problems})
            raise CommandError(
                f"{count} problem{'s' if count != 1 else ''} in {files} of {len(paths)} "
                f"file{'s' if len(paths) != 1 else ''}; nothing was imported."
            )

        results = []
        path = paths[0]
        try:
            with transaction.atomic():
                for path in paths:
                    reason = f"Restored from {path.name} (import_all)"[:REASON_LENGTH]
                    result = import_negotiation(_read(path), replace=replace, reason=reason)
                    results.append((path, result))
        except InvalidDocument as invalid:
            # Only a file changed since the check, or a concurrent write, can get here.
            for problem in invalid.problems:
                self.stderr.write(f"{path.name}: {problem}")
            raise CommandError(f"{path.name}: cannot be imported; nothing was imported.") from None
        except Unreadable as error:
            raise CommandError(f"{path.name}: {error}; nothing was imported.") from None
        except DatabaseError as error:
            raise CommandError(
                f"{path.name}: the database refused the import ({error}); nothing was imported."
            ) from None

        for path, result in results:
            for warning in result.warnings:
                self.stderr.write(self.style.WARNING(f"{path.name}: warning: {warning}"))
        rounds = sum(result.counts.get("rounds", 0) for _, result in results)
        replaced = sum(result.replaced for _, result in results)
        count = len(results)
        self.stdout.write(
            self.style.SUCCESS(
                f"Imported {count} negotiation{'s' if count != 1 else ''} "
                f"({replaced} replaced) with {rounds} round{'s' if rounds != 1 else ''} "
                f"from {directory}."
            )
        )

    def find_problems(self, paths: list[Path], *, replace: bool) -> list[tuple[Path, Problem]]:
        """Every problem of every file, and negotiations that more than one file holds."""
        problems: list[tuple[Path, Problem]] = []
        holders: dict[str, Path] = {}
        for path in paths:
            try:
                document = read_document(_read(path), replace=replace)
            except Unreadable as error:
                problems.append((path, Problem("", str(error))))
                continue
            except InvalidDocument as invalid:
                problems += [(path, problem) for problem in invalid.problems]
                continue
            slug = document["negotiation"]["slug"]
            if slug in holders:
                problems.append(
                    (
                        path,
                        Problem(
                            "negotiation.slug",
                            f'"{slug}" is also the negotiation of {holders[slug].name}',
                        ),
                    )
                )
            else:
                holders[slug] = path
        return problems


def _files(directory: Path) -> list[Path]:
    """The directory's *.json files in name order (hidden files left out)."""
    if not directory.exists():
        raise CommandError(f"{directory}: no such directory.")
    if not directory.is_dir():
        raise CommandError(f"{directory}: is not a directory.")
    try:
        paths = sorted(
            path
            for path in directory.iterdir()
            if path.suffix == ".json" and not path.name.startswith(".") and path.is_file()
        )
    except OSError as error:
        raise CommandError(f"{directory}: cannot read the directory ({error.strerror}).") from None
    if not paths:
        raise CommandError(f"{directory}: no *.json files; nothing was imported.")
    return paths


class Unreadable(Exception):
    """A file that cannot be read, or is over the size limit."""


def _read(path: Path) -> bytes:
    limit = settings.PARLEY_IMPORT_MAX_BYTES
    try:
        size = path.stat().st_size
        if size > limit:
            raise Unreadable(
                f"the file is {size:,} bytes; the limit is {limit:,} (PARLEY_IMPORT_MAX_BYTES)"
            )
        return path.read_bytes()
    except OSError as error:
        raise Unreadable(f"cannot read the file ({error.strerror})") from None
