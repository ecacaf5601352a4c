"""The drainer's per-session lock: renewed while a drain works, released only by its holder, one per process name."""

from __future__ import annotations

import os
import threading

import pytest

from flashsale.store import keys
from reservations import drain
from reservations.holds import reserve_units
from tests.support.polling import wait_until


# The parked drain writes its rows from another thread while the test's transaction is open:
# SQLite's in-memory test database locks the table against it.
@pytest.mark.postgres
def test_the_lock_is_renewed_while_a_batch_takes_longer_than_its_ttl(load_sale, make_user, redis_conn, clock, settings):
    settings.FLASHSALE_DRAIN_LOCK_SECONDS = 1
    sale = load_sale(quantities=[3])
    reserve_units(sale.id, sale.item.pk, user_id=make_user().pk, quantity=1, txn_id="A" * 26, now=clock.now())
    parked, release = threading.Event(), threading.Event()

    def park(ids):
        parked.set()
        release.wait(30)

    worker = threading.Thread(target=drain.drain_session, args=(sale.id,), kwargs={"before_ack": park})
    worker.start()
    try:
        assert parked.wait(10), "the drain never reached its acknowledgement"
        lock = keys.drain_lock(sale.id)
        token = redis_conn.get(lock)
        started = _redis_seconds(redis_conn)

        def outlived_its_ttl() -> bool:
            assert redis_conn.get(lock) == token, "the lock ran out while the drain was still working"
            return _redis_seconds(redis_conn) > started + 2 * settings.FLASHSALE_DRAIN_LOCK_SECONDS

        # Twice the TTL passes (by Redis's clock) and the lock is still the parked drain's.
        wait_until(outlived_its_ttl, what="twice the lock's TTL to pass")
        # Meanwhile another drainer is kept off the session.
        assert drain.drain_session(sale.id, consumer="another") == 0
    finally:
        release.set()
        worker.join(10)
    assert not redis_conn.exists(keys.drain_lock(sale.id))


def _redis_seconds(redis_conn) -> float:
    seconds, micros = redis_conn.time()
    return seconds + micros / 1e6


def test_a_lock_that_ran_out_and_was_taken_is_not_released_by_its_old_holder(load_sale, redis_conn, settings):
    sale = load_sale(quantities=[1])
    lock = keys.drain_lock(sale.id)
    with drain.session_lock(redis_conn, sale.id) as held:
        assert held is not None
        # Our lock ran out and another drainer took it: leaving the block must not delete theirs.
        redis_conn.set(lock, "someone-else")
    assert redis_conn.get(lock) == b"someone-else"


def test_each_process_drains_under_its_own_consumer_name(monkeypatch):
    own = drain.consumer_name()
    assert own == drain.consumer_name()
    assert str(os.getpid()) in own
    # After a fork (Celery's prefork workers) the child's pid differs: so does its name.
    monkeypatch.setattr(drain.os, "getpid", lambda: 424242)
    child = drain.consumer_name()
    assert child != own and "-424242-" in child
