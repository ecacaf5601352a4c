"""Load one sale session into Redis from the shell: ``manage.py load_session ID``."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError

from flashsale.progress import add_quiet_argument, command_progress
from plans.exceptions import SessionNotLoadable
from plans.loading import load_session_into_redis
from plans.models import SaleSession


class Command(BaseCommand):
    help = "Copy a sale session into Redis (idempotent: units already loaded are not pushed again)."

    def add_arguments(self, parser):
        parser.add_argument("session_id", type=int)
        parser.add_argument(
            "--replace-foreign",
            action="store_true",
            help="Replace what another database left in Redis under this session id, even if it may be live.",
        )
        add_quiet_argument(parser)

    def handle(self, *args, session_id: int, replace_foreign: bool = False, **options):
        session = SaleSession.objects.filter(pk=session_id).first()
        if session is None:
            raise CommandError(f"No sale session with id {session_id}.")
        started = time.perf_counter()
        try:
            result = load_session_into_redis(
                session, replace_foreign=replace_foreign, progress=command_progress(self, options)
            )
        except SessionNotLoadable as exc:
            raise CommandError(exc.message) from exc
        elapsed = time.perf_counter() - started
        self.stdout.write(f"Loaded {result.describe()} in {elapsed:.2f}s")
