"""Restore a sale session's Redis state from PostgreSQL and report what cannot be accounted for."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from plans.exceptions import PlansError
from plans.models import SaleSession
from reservations.rebuild import RebuildRefused, rebuild_session


class Command(BaseCommand):
    help = "Rebuild a session's stock, holds and counts in Redis from the Transaction table."

    def add_arguments(self, parser):
        parser.add_argument("session_id", type=int)
        parser.add_argument("--force", action="store_true", help="Discard what Redis still holds for it first.")

    def handle(self, *args, session_id: int, force: bool = False, **options):
        try:
            report = rebuild_session(session_id, force=force)
        except SaleSession.DoesNotExist as exc:
            raise CommandError(f"No session {session_id}.") from exc
        except (RebuildRefused, PlansError) as exc:
            raise CommandError(exc.message) from exc
        for line in report.lines():
            self.stdout.write(line)
        if report.problems:
            self.stderr.write(f"{len(report.problems)} problem(s) need an operator's look.")
