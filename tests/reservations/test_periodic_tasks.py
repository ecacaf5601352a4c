"""The beat tasks run over every loaded session: expiry every 15 s, draining every 2 s."""

from __future__ import annotations

from flashsale import settings as site_settings
from reservations import tasks
from reservations.holds import reserve_units
from reservations.models import Transaction
from tests.reservations.conftest import item_figures


def test_the_tasks_are_scheduled():
    schedule = site_settings.CELERY_BEAT_SCHEDULE
    assert schedule["reservations-expire-holds"]["task"] == "reservations.tasks.expire_holds"
    assert schedule["reservations-expire-holds"]["schedule"] == 15
    assert schedule["reservations-drain-transactions"]["schedule"] == 2


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
