"""Delete old sync runs and their rejections now (beat does it daily)."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand

from catalog.retention import prune_sync_runs
from flashsale.progress import add_quiet_argument, command_progress


class Command(BaseCommand):
    help = "Delete sync runs (and their rejected records) older than --days; each provider keeps its latest run."

    def add_arguments(self, parser):
        parser.add_argument(
            "--days",
            type=int,
            default=None,
            help=f"Keep this many days (default CATALOG_SYNC_RUN_RETENTION_DAYS, now "
            f"{settings.CATALOG_SYNC_RUN_RETENTION_DAYS}; 0 keeps everything).",
        )
        add_quiet_argument(parser)

    def handle(self, *args, days: int | None, **options):
        if days is not None and days < 0:
            self.stderr.write("--days must be 0 (keep everything) or more.")
            raise SystemExit(2)
        pruned = prune_sync_runs(days=days, progress=command_progress(self, options))
        if pruned.cutoff is None:
            self.stdout.write("Retention is 0 days: every sync run is kept.")
            return
        self.stdout.write(
            f"Deleted {pruned.runs} sync run(s) started before {pruned.cutoff:%Y-%m-%d %H:%M} UTC "
            f"and {pruned.rejections} rejected record(s); each provider keeps its latest run."
        )
