from django.core.management.base import BaseCommand

from negotiations.roles import setup_roles


class Command(BaseCommand):
    help = "Create the Analysts and Editors groups with their permissions (safe to re-run)."

    def handle(self, *args, **options):
        for name, count in setup_roles().items():
            self.stdout.write(f"{name}: {count} permissions")
