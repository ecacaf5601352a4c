"""Sync runs do not pile up: runs older than ``CATALOG_SYNC_RUN_RETENTION_DAYS`` go, with their rejections.

A pull provider on a 15-minute interval records 96 runs a day, each with up to a thousand
rejected records kept for the operator; nothing else reads old runs. Every provider keeps its
latest run whatever its age, so its admin page always says how the last delivery went. Runs
are deleted in batches by id, so a long backlog is never loaded into memory.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Max
from django.utils import timezone

from catalog.models import SyncRejection, SyncRun
from flashsale.progress import NO_PROGRESS, Progress


@dataclass(frozen=True)
class Pruned:
    runs: int
    rejections: int
    cutoff: datetime | None


def prune_sync_runs(
    *, days: int | None = None, now: datetime | None = None, batch_size: int = 1000, progress: Progress = NO_PROGRESS
) -> Pruned:
    """Delete runs started more than ``days`` ago (default: the setting; 0 keeps everything)."""
    days = settings.CATALOG_SYNC_RUN_RETENTION_DAYS if days is None else days
    if days < 0:
        raise ValueError("days must be 0 (keep everything) or more")
    if days == 0:
        return Pruned(runs=0, rejections=0, cutoff=None)
    cutoff = (now or timezone.now()) - timedelta(days=days)
    latest = SyncRun.objects.values("provider").annotate(latest=Max("pk")).values("latest")
    old = SyncRun.objects.filter(started_at__lt=cutoff).exclude(pk__in=latest).order_by("pk")
    runs = rejections = 0
    if progress is not NO_PROGRESS:  # counting costs a query: only when someone watches
        progress.start("sync runs", old.count(), unit="runs")
    while batch := list(old.values_list("pk", flat=True)[:batch_size]):
        _, by_model = SyncRun.objects.filter(pk__in=batch).delete()
        runs += by_model.get(SyncRun._meta.label, 0)
        rejections += by_model.get(SyncRejection._meta.label, 0)
        progress.advance(len(batch))
    progress.finish()
    return Pruned(runs=runs, rejections=rejections, cutoff=cutoff)
