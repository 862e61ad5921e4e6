import contextlib
import os
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from negotiations.interchange import export_negotiation
from negotiations.models import Negotiation, Round


class Command(BaseCommand):
    help = (
        "Write every negotiation, drafts included, as a canonical parley/1 file "
        "DIR/<slug>.json (a backup that import_all restores)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "directory", type=Path, help="Folder to write to (created if it does not exist)."
        )

    def handle(self, *args, directory: Path, **options):
        _prepare(directory)
        # One read-only transaction, so that every file comes from the same state of the
        # database even while analysts keep saving (PostgreSQL needs REPEATABLE READ for
        # that; SQLite's read transaction is a snapshot already). Inside a caller's
        # transaction, that transaction's isolation applies.
        outermost = not connection.in_atomic_block
        with transaction.atomic():
            if outermost and connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            negotiations = list(Negotiation.objects.order_by("slug"))
            rounds = Round.objects.filter(negotiation__in=negotiations).count()
            for negotiation in negotiations:
                _write(directory / f"{negotiation.slug}.json", export_negotiation(negotiation))
        count = len(negotiations)
        self.stdout.write(
            self.style.SUCCESS(
                f"Wrote {count} negotiation{'s' if count != 1 else ''} "
                f"({rounds} round{'s' if rounds != 1 else ''}, drafts included) to {directory}."
            )
        )


def _prepare(directory: Path) -> None:
    """Make sure `directory` is a folder this process can write into."""
    if directory.exists() and not directory.is_dir():
        raise CommandError(f"{directory}: exists and is not a directory.")
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise CommandError(
            f"{directory}: cannot create the directory ({error.strerror})."
        ) from None
    if not os.access(directory, os.W_OK | os.X_OK):
        raise CommandError(f"{directory}: the directory is not writable.")


def _write(path: Path, text: str) -> None:
    """Write through a temporary file, so a failure never leaves half a file behind."""
    partial = path.with_name(f".{path.name}.partial")
    try:
        partial.write_text(text, encoding="utf-8")
        partial.replace(path)
    except OSError as error:
        with contextlib.suppress(OSError):
            partial.unlink(missing_ok=True)
        raise CommandError(f"{path}: cannot write the file ({error.strerror}).") from None
