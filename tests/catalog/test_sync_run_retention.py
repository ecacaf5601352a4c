"""Old sync runs are deleted with their rejections; recent ones and each provider's latest stay."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone

from catalog.models import SyncRejection, SyncRun
from catalog.retention import prune_sync_runs
from catalog.tasks import prune_sync_runs as prune_task
from tests.factories import make_provider

pytestmark = pytest.mark.django_db


def _run(provider, *, days_ago: float, rejections: int = 0, status=SyncRun.Status.OK) -> SyncRun:
    run = SyncRun.objects.create(provider=provider, trigger=SyncRun.Trigger.SCHEDULE, status=status)
    # started_at is auto_now_add: age the run afterwards.
    SyncRun.objects.filter(pk=run.pk).update(started_at=timezone.now() - timedelta(days=days_ago))
    SyncRejection.objects.bulk_create(
        SyncRejection(run=run, index=i, external_id=f"x-{i}", errors={"price": ["bad"]}) for i in range(rejections)
    )
    return run


def _left(provider) -> set[int]:
    return set(SyncRun.objects.filter(provider=provider).values_list("pk", flat=True))


def test_runs_past_the_retention_go_with_their_rejections():
    provider = make_provider()
    old = [_run(provider, days_ago=40 + i, rejections=3) for i in range(4)]
    stuck = _run(provider, days_ago=35, status=SyncRun.Status.RUNNING)  # a worker died mid-run
    recent = [_run(provider, days_ago=d, rejections=2) for d in (29, 1)]

    pruned = prune_sync_runs(days=30, batch_size=2)

    assert (pruned.runs, pruned.rejections) == (5, 12)
    assert _left(provider) == {r.pk for r in recent}
    assert not SyncRejection.objects.filter(run_id__in=[r.pk for r in [*old, stuck]]).exists()
    assert SyncRejection.objects.count() == 4
    # Nothing more to do: a second pass deletes nothing.
    assert prune_sync_runs(days=30).runs == 0


def test_each_provider_keeps_its_latest_run_however_old():
    quiet, busy = make_provider(), make_provider()
    _run(quiet, days_ago=400)
    last_of_quiet = _run(quiet, days_ago=90, rejections=1)
    _run(busy, days_ago=60)
    last_of_busy = _run(busy, days_ago=45)

    assert prune_sync_runs(days=30).runs == 2
    assert _left(quiet) == {last_of_quiet.pk} and _left(busy) == {last_of_busy.pk}
    assert SyncRejection.objects.filter(run=last_of_quiet).count() == 1


def test_zero_days_keeps_everything_and_negative_is_refused():
    provider = make_provider()
    runs = {_run(provider, days_ago=d).pk for d in (500, 100, 1)}
    assert prune_sync_runs(days=0).runs == 0
    assert _left(provider) == runs
    with pytest.raises(ValueError):
        prune_sync_runs(days=-1)


def test_the_daily_task_and_the_command_use_the_setting(settings, capsys):
    provider = make_provider()
    _run(provider, days_ago=20)
    _run(provider, days_ago=12)
    latest = _run(provider, days_ago=2)
    settings.CATALOG_SYNC_RUN_RETENTION_DAYS = 15

    assert prune_task() == {"runs": 1, "rejections": 0}
    call_command("prune_sync_runs", "--days", "1")
    assert "Deleted 1 sync run(s)" in capsys.readouterr().out
    assert _left(provider) == {latest.pk}


def test_beat_runs_it_daily():
    entry = settings.CELERY_BEAT_SCHEDULE["catalog-prune-sync-runs"]
    assert entry["task"] == "catalog.tasks.prune_sync_runs" and entry["schedule"] == 24 * 3600
