"""The beat tasks run over every loaded session: expiry every 15 s; draining is the drainer process's job."""

from __future__ import annotations

from pathlib import Path

from flashsale import settings as site_settings
from reservations import tasks
from reservations.holds import reserve_units
from reservations.models import Transaction
from tests.support.redis_monitor import commands_during
from tests.support.sales import item_figures

PROCFILE = Path(__file__).resolve().parents[2] / "Procfile"


def test_the_tasks_are_scheduled():
    schedule = site_settings.CELERY_BEAT_SCHEDULE
    assert schedule["reservations-expire-holds"]["task"] == "reservations.tasks.expire_holds"
    assert schedule["reservations-expire-holds"]["schedule"] == 15
    # One drainer is enough: the Procfile's (and compose's) `drain_transactions --follow`.
    assert "reservations-drain-transactions" not in schedule
    assert sum(line.split(":", 1)[1].count("drain_transactions") for line in PROCFILE.read_text().splitlines()) == 1


def test_beat_drains_too_when_given_a_period():
    import os
    import subprocess
    import sys

    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings as s;"
            "print(s.CELERY_BEAT_SCHEDULE['reservations-drain-transactions']['schedule'])",
        ],
        cwd=PROCFILE.parent,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "flashsale.settings", "FLASHSALE_DRAIN_EVERY_SECONDS": "2"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "2.0"


def test_expire_then_drain_across_sessions(load_sale, make_user, redis_conn, clock, settings):
    settings.FLASHSALE_RESERVATION_TTL_SECONDS = 60
    sales = [load_sale(quantities=[3]) for _ in range(2)]
    for n, sale in enumerate(sales):
        reserve_units(sale.id, sale.item.pk, user_id=make_user().pk, quantity=1, txn_id=f"{n:026d}", now=clock.now())
    clock.advance(seconds=60)

    assert tasks.expire_holds.apply().get() == 2
    assert tasks.expire_holds.apply().get() == 0
    assert tasks.drain_transactions.apply().get() == 4

    assert sorted(Transaction.objects.values_list("status", flat=True)) == ["expired", "expired"]
    for sale in sales:
        assert item_figures(redis_conn, sale.id, sale.item.pk)["remaining"] == 3


def test_the_drain_command_runs_once(load_sale, make_user, clock):
    from io import StringIO

    from django.core.management import call_command

    sale = load_sale(quantities=[3])
    reserve_units(sale.id, sale.item.pk, user_id=make_user().pk, quantity=1, txn_id="A" * 26, now=clock.now())
    out = StringIO()
    call_command("drain_transactions", stdout=out)
    assert "1 stream events persisted" in out.getvalue()
    assert Transaction.objects.count() == 1


def test_the_drain_command_reads_batches_of_the_configured_size(load_sale, make_user, clock, redis_conn, settings):
    """FLASHSALE_DRAIN_BATCH_SIZE reaches the command (the Procfile's drainer), not only the beat task."""
    from django.core.management import call_command

    settings.FLASHSALE_DRAIN_BATCH_SIZE = 2
    sale = load_sale(quantities=[5], limit=5)
    for n in range(5):
        reserve_units(sale.id, sale.item.pk, user_id=make_user().pk, quantity=1, txn_id=f"{n:026d}", now=clock.now())

    sent = commands_during(redis_conn, lambda: call_command("drain_transactions", "--session", str(sale.id)))

    # 5 events in batches of 2: three reads that return entries, then an empty one.
    assert sent.count("XREADGROUP") >= 4
    assert sent.count("XACK") == 3
    assert Transaction.objects.count() == 5
