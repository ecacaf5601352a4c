"""Restore sale sessions' Redis state from PostgreSQL and report what cannot be accounted for."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from flashsale import clock
from flashsale.progress import add_quiet_argument, command_progress
from plans.exceptions import PlansError
from plans.models import SaleSession
from reservations.rebuild import RebuildRefused, rebuild_session

LIVE_STATES = (SaleSession.State.LOADED, SaleSession.State.LIVE)


class Command(BaseCommand):
    help = (
        "Rebuild a session's stock, holds and counts in Redis from the Transaction table; with --all-live, "
        "every session PostgreSQL says is loaded or live and not over (after Redis lost its data)."
    )

    def add_arguments(self, parser):
        parser.add_argument("session_id", type=int, nargs="?")
        parser.add_argument(
            "--all-live",
            action="store_true",
            help="Every loaded or live session whose window is not over; those still in Redis are skipped "
            "unless --force.",
        )
        parser.add_argument("--force", action="store_true", help="Discard what Redis still holds for it first.")
        add_quiet_argument(parser)

    def handle(self, *args, session_id: int | None, all_live: bool = False, force: bool = False, **options):
        if (session_id is None) == (not all_live):
            raise CommandError("Name one session id, or --all-live.")
        progress = command_progress(self, options)
        if session_id is not None:
            report = self._rebuild(session_id, force=force, progress=progress)
            self._print(report)
            return
        sessions = list(
            SaleSession.objects.filter(state__in=LIVE_STATES, ends_at__gt=clock.now())
            .order_by("starts_at")
            .values_list("pk", flat=True)
        )
        if not sessions:
            self.stdout.write("No loaded or live session to rebuild.")
            return
        failed = 0
        for sid in sessions:
            try:
                report = rebuild_session(sid, force=force, progress=progress)
            except (RebuildRefused, PlansError) as exc:
                self.stdout.write(f"session {sid}: skipped: {exc.message}")
                failed += not isinstance(exc, RebuildRefused)
                continue
            self._print(report)
        if failed:
            raise CommandError(f"{failed} of {len(sessions)} sessions could not be rebuilt.")

    def _rebuild(self, session_id: int, *, force: bool, progress):
        try:
            return rebuild_session(session_id, force=force, progress=progress)
        except SaleSession.DoesNotExist as exc:
            raise CommandError(f"No session {session_id}.") from exc
        except (RebuildRefused, PlansError) as exc:
            raise CommandError(exc.message) from exc

    def _print(self, report) -> None:
        for line in report.lines():
            self.stdout.write(line)
        if report.problems:
            self.stderr.write(f"{len(report.problems)} problem(s) need an operator's look.")
