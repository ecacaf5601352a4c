"""A gunicorn worker killed with SIGKILL in the middle of a burst of reservations.

The reserve decision is one Lua script, so a worker dying at any instant leaves Redis either
before or after the whole decision: no unit lost, none sold twice. A shopper whose connection
broke clicks again; the same TransactionID replays the reservation instead of taking more units.
"""

from __future__ import annotations

import os
import signal
from collections import Counter

import pytest

from reservations.drain import drain_session
from tests.support.books import assert_every_success_persisted, assert_units_accounted, redis_books
from tests.support.burst import run_burst
from tests.support.sales import assert_stock_invariant
from tests.support.shoppers import make_shoppers, open_sale

SHOPPERS = 24
CLICKS_EACH = 4
PAUSE_MS = 10_000
UNITS = 60  # fewer than SHOPPERS * CLICKS_EACH: the item sells out during the burst

pytestmark = pytest.mark.postgres


@pytest.mark.slow
def test_a_worker_killed_mid_burst_loses_and_duplicates_nothing(
    transactional_db, processes, site_redis_url, redis_conn
):
    sale = open_sale(quantities=(UNITS,), limit=CLICKS_EACH)
    shoppers = make_shoppers(SHOPPERS, sale_ids=[sale.id])
    site = processes.gunicorn(redis_url=site_redis_url, workers=3)
    workers_before = site.worker_pids()
    killed: list[int] = []

    def kill_a_worker() -> None:
        # Writes paused for a moment: workers block inside their request (rate limiter or reserve
        # script), so the one killed is certainly mid-request and its shopper's connection breaks.
        redis_conn.client_pause(PAUSE_MS, all=False)
        try:
            victim = site.busy_worker()
            os.kill(victim, signal.SIGKILL)
            killed.append(victim)
        finally:
            redis_conn.client_unpause()

    attempts = run_burst(
        shoppers,
        base_urls=[site.url],
        sale_id=sale.id,
        item_id=sale.item.pk,
        clicks_each=CLICKS_EACH,
        at_response=SHOPPERS,
        action=kill_a_worker,
    )

    # gunicorn noticed and replaced the worker.
    workers_after = site.wait_workers(other_than=set(killed))
    assert killed and killed[0] in workers_before and killed[0] not in workers_after
    # The killed worker's shopper saw the connection break and clicked again.
    assert any(a.retried for a in attempts)
    statuses = Counter(a.status for a in attempts)
    assert len(attempts) == SHOPPERS * CLICKS_EACH
    assert None not in statuses, f"a click got no answer even on its second try: {statuses}"
    assert not [s for s in statuses if s >= 500], statuses
    assert set(statuses) <= {303, 409, 403}, statuses  # reserved, sold out, per-user limit

    books = redis_books(redis_conn, sale.id, [s.user_id for s in shoppers])
    assert_units_accounted(redis_conn, sale, books)
    figures = assert_stock_invariant(redis_conn, sale.id, sale.item.pk)
    # Demand exceeded supply: every unit is held, and none twice (assert_units_accounted).
    assert figures["held"] == UNITS and figures["remaining"] == 0
    seen = {a.txn_id for a in attempts if a.status == 303}
    assert sum(int(books.txns[t]["quantity"]) for t in seen) <= figures["held"]

    drain_session(sale.id)
    assert_every_success_persisted(sale, books, attempts)
    print(
        f"\nworker {killed[0]} killed; {sum(a.retried for a in attempts)} clicks cut and retried; "
        f"{len(books.txns) - len(seen)} reservations the shoppers never saw; statuses {dict(statuses)}"
    )
