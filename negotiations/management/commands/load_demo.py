from pathlib import Path

from django.core.management.base import BaseCommand

from negotiations.interchange import import_negotiation
from negotiations.models import Negotiation

DEMO = Path(__file__).resolve().parents[2] / "demo" / "russia-ukraine.json"
DEMO_SLUG = "russia-ukraine"


class Command(BaseCommand):
    help = "Load the demo negotiation (Russia–Ukraine talks) unless it is already there."

    def handle(self, *args, **options):
        if Negotiation.objects.filter(slug=DEMO_SLUG).exists():
            self.stdout.write(f'The demo negotiation "{DEMO_SLUG}" is already loaded.')
            return
        result = import_negotiation(DEMO.read_bytes(), reason="Demo data loaded")
        self.stdout.write(
            self.style.SUCCESS(
                f'Loaded the demo negotiation "{DEMO_SLUG}" '
                f"({result.counts.get('rounds', 0)} rounds)."
            )
        )
