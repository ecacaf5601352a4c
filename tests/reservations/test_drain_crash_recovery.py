"""A drainer killed after its commit and before XACK: the re-run re-reads and writes no duplicate."""

from __future__ import annotations

import pytest
from django.db import connection

from flashsale.store import keys
from reservations.drain import DrainInterrupted, drain_session
from reservations.holds import confirm_payment, reserve_units
from reservations.models import Transaction


def _crash(ids):
    raise DrainInterrupted(f"killed before acknowledging {len(ids)} events")


def test_a_crash_between_commit_and_ack_is_recovered_without_duplicates(load_sale, make_user, redis_conn, clock):
    sale = load_sale(quantities=[20])
    users = [make_user() for _ in range(5)]
    held = [
        reserve_units(sale.id, sale.item.pk, user_id=u.pk, quantity=1, txn_id=f"{n:026d}", now=clock.now())
        for n, u in enumerate(users)
    ]
    confirm_payment(sale.id, held[0].txn_id, gateway_order_id="g0", amount=held[0].amount, now=clock.now())

    with pytest.raises(DrainInterrupted):
        drain_session(sale.id, batch_size=4, before_ack=_crash)

    # The first batch is committed but still pending in the group.
    assert Transaction.objects.count() == 4
    pending = redis_conn.xpending(keys.stream(sale.id), "drainer")
    assert pending["pending"] == 4
    assert redis_conn.get(keys.drain_lock(sale.id)) is None  # the lock does not outlive the crash

    assert drain_session(sale.id, batch_size=4) == 6  # the 4 pending again, then the 2 new ones
    assert Transaction.objects.count() == 5
    # The live page's per-minute timeline counts each reservation once, delivered twice or not.
    assert sum(int(v) for v in redis_conn.hvals(keys.timeline(sale.id))) == 5
    assert drain_session(sale.id) == 0
    assert Transaction.objects.get(txn_id=held[0].txn_id).status == "paid"
    assert redis_conn.xpending(keys.stream(sale.id), "drainer")["pending"] == 0
    with connection.cursor() as cursor:
        cursor.execute("SELECT txn_id, COUNT(*) FROM reservations_transaction GROUP BY txn_id HAVING COUNT(*) > 1")
        assert cursor.fetchall() == []


def test_entries_left_by_a_dead_consumer_are_claimed(load_sale, make_user, redis_conn, clock, settings):
    settings.FLASHSALE_DRAIN_CLAIM_IDLE_MS = 0
    sale = load_sale(quantities=[5])
    reserve_units(sale.id, sale.item.pk, user_id=make_user().pk, quantity=1, txn_id="A" * 26, now=clock.now())
    with pytest.raises(DrainInterrupted):
        drain_session(sale.id, consumer="worker-that-dies", before_ack=_crash)
    assert drain_session(sale.id, consumer="worker-2") == 1
    assert Transaction.objects.count() == 1
    assert redis_conn.xpending(keys.stream(sale.id), "drainer")["pending"] == 0
