"""Load the demo data of every app (the catalog first), idempotently."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils.module_loading import import_string

from flashsale.progress import add_quiet_argument, command_progress


class Command(BaseCommand):
    help = (
        "Load demo data: the bundled catalog, then whatever each app adds to FLASHSALE_DEMO_SEEDERS. "
        "Safe to run again: nothing is created twice."
    )

    def add_arguments(self, parser):
        add_quiet_argument(parser)

    def handle(self, *args, **options):
        progress = command_progress(self, options)
        progress.start("demo data", len(settings.FLASHSALE_DEMO_SEEDERS), unit="steps")
        for dotted in settings.FLASHSALE_DEMO_SEEDERS:
            seeder = import_string(dotted)
            with transaction.atomic():
                lines = seeder()
            for line in lines or []:
                self.stdout.write(f"  {line}")
            progress.advance()
        progress.finish()
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
