from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from negotiations.interchange import InvalidDocument, import_negotiation


class Command(BaseCommand):
    help = "Import one negotiation from a parley/1 JSON file (all or nothing)."

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path, help="The parley/1 file to read.")
        parser.add_argument(
            "--replace",
            action="store_true",
            help="Replace a negotiation with the same slug (one transaction, kept in history).",
        )

    def handle(self, *args, path: Path, replace: bool, **options):
        try:
            size = path.stat().st_size
            if size > settings.PARLEY_IMPORT_MAX_BYTES:
                raise CommandError(
                    f"{path}: the file is {size:,} bytes; the limit is "
                    f"{settings.PARLEY_IMPORT_MAX_BYTES:,} (PARLEY_IMPORT_MAX_BYTES)."
                )
            data = path.read_bytes()
        except OSError as error:
            raise CommandError(f"{path}: cannot read the file ({error.strerror}).") from None
        try:
            result = import_negotiation(data, replace=replace)
        except InvalidDocument as invalid:
            for problem in invalid.problems:
                self.stderr.write(f"{path}: {problem}")
            count = len(invalid.problems)
            raise CommandError(
                f"{path}: {count} problem{'s' if count != 1 else ''} found; nothing was imported."
            ) from None
        for warning in result.warnings:
            self.stderr.write(self.style.WARNING(f"{path}: warning: {warning}"))
        verb = "Replaced" if result.replaced else "Imported"
        rounds = result.counts.get("rounds", 0)
        self.stdout.write(
            self.style.SUCCESS(f'{verb} "{result.negotiation.slug}" with {rounds} rounds.')
        )
