from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from negotiations.interchange import export_negotiation
from negotiations.models import Negotiation


class Command(BaseCommand):
    help = "Write one negotiation, drafts included, as a canonical parley/1 JSON document."

    def add_arguments(self, parser):
        parser.add_argument("slug", help="The negotiation's slug.")
        parser.add_argument(
            "-o", "--output", type=Path, help="File to write (standard output by default)."
        )

    def handle(self, *args, slug: str, output: Path | None, **options):
        negotiation = Negotiation.objects.filter(slug=slug).first()
        if negotiation is None:
            known = ", ".join(Negotiation.objects.values_list("slug", flat=True)) or "none"
            raise CommandError(f'No negotiation "{slug}". Known slugs: {known}.')
        text = export_negotiation(negotiation)
        if output is None:
            self.stdout.write(text, ending="")
            return
        try:
            output.write_text(text, encoding="utf-8")
        except OSError as error:
            raise CommandError(f"{output}: cannot write the file ({error.strerror}).") from None
        self.stderr.write(f'Wrote "{slug}" to {output}.')
