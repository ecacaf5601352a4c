"""The transaction drainer killed with SIGKILL after committing a batch and before acknowledging it.

The batch stays pending in the stream's consumer group under the dead process's consumer name.
Its lock, no longer renewed, runs out within ``FLASHSALE_DRAIN_LOCK_SECONDS`` (3 s, at most 5);
another running drainer then claims the batch and drains the rest, and the upsert by
TransactionID makes the second write a no-op: no duplicate, no missing row.
"""

from __future__ import annotations

import os
import signal
import sys
import time

import pytest
from django.conf import settings
from django.db import connection
from ulid import ULID

from flashsale.store import keys
from reservations import holds
from reservations.drain import GROUP
from reservations.models import Transaction
from tests.support.processes import ROOT, run_manage, site_environment, wait_for
from tests.support.sales import assert_stock_invariant
from tests.support.shoppers import make_shoppers, open_sale

BATCH = 5

pytestmark = pytest.mark.postgres


def test_a_drainer_killed_before_xack_leaves_no_duplicate_and_no_gap(
    transactional_db, processes, site_redis_url, redis_conn, tmp_path
):
    sale = open_sale(quantities=(20,), limit=1)
    shoppers = make_shoppers(10, sale_ids=[sale.id])
    now = time.time()
    held = [
        holds.reserve_units(sale.id, sale.item.pk, user_id=s.user_id, quantity=1, txn_id=str(ULID()), now=now)
        for s in shoppers
    ]
    for reservation in held[:2]:
        holds.confirm_payment(sale.id, reservation.txn_id, gateway_order_id="ord", amount=reservation.amount, now=now)
    stream = keys.stream(sale.id)
    assert redis_conn.xlen(stream) == 12  # 10 reserved + 2 paid events

    marker = tmp_path / "parked"
    env = site_environment(redis_url=site_redis_url)
    drainer = processes.popen(
        [sys.executable, str(ROOT / "tests/faults/drain_runner.py"), str(sale.id), str(BATCH), str(marker)],
        env=env,
        name="drainer",
    )
    wait_for(lambda: marker.exists() and marker.read_text(), what="the drainer to commit its first batch")
    # A second drainer, as compose or a second host runs it: the session's lock keeps it off for now.
    follower = processes.popen(
        [sys.executable, "manage.py", "drain_transactions", "--follow", "--session", str(sale.id), "--interval", "0.2"],
        env=env,
        name="follower",
    )
    lock_ttl_ms = settings.FLASHSALE_DRAIN_LOCK_SECONDS * 1000
    # The parked drainer's lock is renewed while it lives, and never holds for more than its TTL.
    assert 0 < redis_conn.pttl(keys.drain_lock(sale.id)) <= lock_ttl_ms <= 5000
    assert settings.FLASHSALE_DRAIN_CLAIM_IDLE_MS <= lock_ttl_ms

    os.kill(drainer.pid, signal.SIGKILL)
    killed_at = time.monotonic()
    assert drainer.wait(timeout=10) == -signal.SIGKILL
    # Committed but not acknowledged: the rows exist and the entries are still pending.
    assert redis_conn.xpending(stream, GROUP)["pending"] >= BATCH
    # SIGKILL skips the drainer's `finally`: its lock, no longer renewed, runs out within its TTL.
    assert 0 < redis_conn.pttl(keys.drain_lock(sale.id)) <= lock_ttl_ms

    wait_for(
        lambda: redis_conn.xlen(stream) == 0 and redis_conn.xpending(stream, GROUP)["pending"] == 0,
        what="the other drainer to take the killed one's session over",
    )
    print(f"the follower drained the killed drainer's session {time.monotonic() - killed_at:.1f}s after the kill")
    assert follower.poll() is None  # it took over; it did not crash into it
    # The dead consumer is gone from the group once its entries were claimed; only the follower is left.
    consumers = redis_conn.xinfo_consumers(stream, GROUP)
    assert len(consumers) == 1 and consumers[0]["pending"] == 0

    rows = {t.txn_id: t for t in Transaction.objects.filter(session=sale.session)}
    assert set(rows) == {r.txn_id for r in held}
    assert sorted(t.status for t in rows.values()) == ["paid"] * 2 + ["reserved"] * 8
    assert all(rows[r.txn_id].units == list(r.units) for r in held)
    with connection.cursor() as cursor:
        cursor.execute("SELECT txn_id FROM reservations_transaction GROUP BY txn_id HAVING COUNT(*) > 1")
        assert cursor.fetchall() == []
    assert redis_conn.xpending(stream, GROUP)["pending"] == 0
    assert redis_conn.xlen(stream) == 0
    assert_stock_invariant(redis_conn, sale.id, sale.item.pk)
    # Running it again changes nothing.
    again = run_manage("drain_transactions", "--session", str(sale.id), env=env)
    assert "0 stream events persisted" in again.stdout
    assert Transaction.objects.filter(session=sale.session).count() == 10
