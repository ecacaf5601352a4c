"""The transaction drainer killed with SIGKILL after committing a batch and before acknowledging it.

The batch stays pending in the stream's consumer group; the next drainer re-reads it and the
upsert by TransactionID makes the second write a no-op: no duplicate, no missing row.
"""

from __future__ import annotations

import os
import signal
import sys
import time

import pytest
from django.db import connection
from ulid import ULID

from flashsale.store import keys
from reservations import holds
from reservations.drain import GROUP, LOCK_MS
from reservations.models import Transaction
from tests.faults.shop import assert_stock_invariant, make_shoppers, open_sale
from tests.support.processes import ROOT, run_manage, site_environment, wait_for

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
    os.kill(drainer.pid, signal.SIGKILL)
    assert drainer.wait(timeout=10) == -signal.SIGKILL

    # Committed but not acknowledged: the rows exist and the entries are still pending.
    assert Transaction.objects.filter(session=sale.session).count() == BATCH
    assert redis_conn.xpending(stream, GROUP)["pending"] == BATCH
    # SIGKILL skips the drainer's `finally`: its lock stays until its TTL runs out, and until then
    # every other drainer skips the session.
    assert 0 < redis_conn.pttl(keys.drain_lock(sale.id)) <= LOCK_MS
    blocked = run_manage("drain_transactions", "--session", str(sale.id), env=env)
    assert blocked.returncode == 0, blocked.stderr
    assert "0 stream events persisted" in blocked.stdout
    # Let the lock's TTL run out now instead of waiting LOCK_MS.
    redis_conn.pexpire(keys.drain_lock(sale.id), 1)
    wait_for(lambda: not redis_conn.exists(keys.drain_lock(sale.id)), what="the dead drainer's lock to expire")

    restarted = run_manage("drain_transactions", "--session", str(sale.id), env=env)
    assert restarted.returncode == 0, restarted.stderr
    assert "12 stream events persisted" in restarted.stdout  # the 5 pending again, then the 7 others

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
