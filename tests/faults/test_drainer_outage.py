"""The drainer (``drain_transactions --follow``) waits out outages of its stores and resumes.

Redis shut down and started again, Redis frozen (SIGSTOP) past the client's socket timeout, and the
drainer's PostgreSQL connection terminated: after each, the same drainer process persists the next
reservation. Before, the first Redis error ended the process (found by ``make soak``), and every
later reservation stayed unpersisted until someone restarted it.
"""

from __future__ import annotations

import os
import signal
import sys
import time

import pytest
from django.db import connection
from ulid import ULID

from reservations import holds
from reservations.models import Transaction
from tests.support.processes import site_environment, wait_for
from tests.support.redis_settings import point_settings_at_redis
from tests.support.shoppers import make_shoppers, open_sale

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

UNAVAILABLE = "a store is unavailable"
FREEZE_SECONDS = 3


def test_the_drainer_survives_redis_down_frozen_and_its_database_connection_terminated(
    transactional_db, processes, settings
):
    private = processes.redis(aof=True)
    point_settings_at_redis(settings, private.url)
    sale = open_sale(quantities=(10,), limit=5)
    (shopper,) = make_shoppers(1, sale_ids=[sale.id])
    drainer = processes.popen(
        [sys.executable, "manage.py", "drain_transactions", "--follow", "--interval", "0.2"],
        env=site_environment(redis_url=private.url),
        name="drainer",
    )
    log = processes.tmp_path / "drainer.log"

    def reserve_and_await_row() -> None:
        txn_id = str(ULID())
        holds.reserve_units(sale.id, sale.item.pk, user_id=shopper.user_id, quantity=1, txn_id=txn_id, now=time.time())
        wait_for(lambda: Transaction.objects.filter(txn_id=txn_id).exists(), what=f"the drainer to persist {txn_id}")
        assert drainer.poll() is None, log.read_text()

    def outages_logged() -> int:
        return log.read_text().count(UNAVAILABLE) if log.exists() else 0

    reserve_and_await_row()

    private.shutdown()
    wait_for(lambda: outages_logged() == 1 or drainer.poll() is not None, what="the drainer to notice Redis is down")
    assert drainer.poll() is None, f"the drainer exited on a Redis outage:\n{log.read_text()[-3000:]}"
    time.sleep(0.5)  # a few more failed passes while Redis stays down (nothing to await: it must not exit)
    assert drainer.poll() is None, log.read_text()
    private.start()
    reserve_and_await_row()

    os.kill(private.process.pid, signal.SIGSTOP)
    try:
        time.sleep(FREEZE_SECONDS)  # the outage itself: longer than the clients' socket timeout
    finally:
        os.kill(private.process.pid, signal.SIGCONT)
    reserve_and_await_row()

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        assert cursor.fetchone()[0] >= 1  # the drainer's own connection
    reserve_and_await_row()
