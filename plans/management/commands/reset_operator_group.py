"""Put the operators group back to exactly its default permissions (migrate never does: hand-made grants stay)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from plans.permissions import OPERATORS_GROUP, sync_operator_group


class Command(BaseCommand):
    help = "Reset the operators group to the default permissions, dropping grants added or removed by hand."

    def handle(self, *args, **options):
        held = sync_operator_group()
        self.stdout.write(f"group {OPERATORS_GROUP!r} reset: {held} permissions")
