"""Redis restarted mid-session: with AOF the session carries on; empty, rebuild_session restores it.

The site runs under gunicorn against a redis-server of the test's own (cache, shopper sessions and
sale data all live there), so restarting that server is what a real outage looks like to the site.
"""

from __future__ import annotations

import time
from collections import Counter
from decimal import Decimal

import pytest

from flashsale.store import keys
from flashsale.store.replies import as_str
from reservations import holds
from reservations.drain import drain_session
from reservations.models import Transaction
from tests.support.books import assert_every_success_persisted, assert_units_accounted, redis_books
from tests.support.burst import run_burst
from tests.support.processes import run_manage, site_environment
from tests.support.redis_settings import point_settings_at_redis
from tests.support.sales import assert_stock_invariant, item_figures
from tests.support.shoppers import make_shoppers, open_sale

pytestmark = pytest.mark.postgres


def _answered(attempts) -> Counter:
    statuses = Counter(a.status for a in attempts)
    assert not [s for s in statuses if s is None or s >= 500], statuses
    return statuses


@pytest.mark.slow
def test_with_aof_a_restart_loses_nothing_and_the_session_carries_on(transactional_db, processes, settings):
    private = processes.redis(aof=True)
    point_settings_at_redis(settings, private.url)
    r = private.client()
    sale = open_sale(quantities=(30,), limit=3)
    shoppers = make_shoppers(10, sale_ids=[sale.id])
    site = processes.gunicorn(redis_url=private.url, workers=2)

    first = run_burst(shoppers, base_urls=[site.url], sale_id=sale.id, item_id=sale.item.pk, clicks_each=1)
    assert _answered(first) == {303: 10}
    users = [s.user_id for s in shoppers]
    before_figures, before_books = item_figures(r, sale.id, sale.item.pk), redis_books(r, sale.id, users)
    stream_before = r.xlen(keys.stream(sale.id))

    private.shutdown()
    private.start()

    # Everything written before the SHUTDOWN is back: stock, counts, holds, the stream, the sessions.
    assert item_figures(r, sale.id, sale.item.pk) == before_figures
    assert redis_books(r, sale.id, users).txns == before_books.txns
    assert r.xlen(keys.stream(sale.id)) == stream_before
    # Same shoppers, same cookies: still logged in with their CAPTCHA pass (a lost session would be 302/403).
    second = run_burst(shoppers, base_urls=[site.url], sale_id=sale.id, item_id=sale.item.pk, clicks_each=3)
    statuses = _answered(second)
    assert statuses[303] == 20 and statuses[403] == 10, statuses  # 2 more each, then the limit of 3

    books = redis_books(r, sale.id, users)
    assert_units_accounted(r, sale, books)
    assert assert_stock_invariant(r, sale.id, sale.item.pk)["held"] == 30
    drain_session(sale.id)
    assert_every_success_persisted(sale, books, first + second)


@pytest.mark.slow
def test_with_aof_always_a_crash_mid_burst_loses_no_acknowledged_reservation(transactional_db, processes, settings):
    private = processes.redis(aof=True)
    point_settings_at_redis(settings, private.url)
    r = private.client()
    sale = open_sale(quantities=(40,), limit=4)
    shoppers = make_shoppers(16, sale_ids=[sale.id])
    site = processes.gunicorn(redis_url=private.url, workers=2)

    def crash_and_restart() -> None:
        private.crash()
        private.start()

    attempts = run_burst(
        shoppers,
        base_urls=[site.url],
        sale_id=sale.id,
        item_id=sale.item.pk,
        clicks_each=4,
        at_response=16,
        action=crash_and_restart,
    )
    # Clicks during the outage may fail (500 or a lost sale page); every 303 must have survived.
    statuses = Counter(a.status for a in attempts)
    assert statuses[303] >= 16, statuses
    books = redis_books(r, sale.id, [s.user_id for s in shoppers])
    assert_units_accounted(r, sale, books)
    assert_stock_invariant(r, sale.id, sale.item.pk)
    drain_session(sale.id)
    assert_every_success_persisted(sale, books, attempts)
    # After the restart the site answers normally again (no connection left broken).
    fresh = make_shoppers(4, sale_ids=[sale.id], prefix="after")
    after = run_burst(fresh, base_urls=[site.url], sale_id=sale.id, item_id=sale.item.pk, clicks_each=1)
    assert set(Counter(a.status for a in after)) <= {303, 409}
    assert_stock_invariant(r, sale.id, sale.item.pk)
    print(f"\nstatuses during the crash burst: {dict(statuses)}")


@pytest.mark.slow
def test_restarted_empty_rebuild_session_restores_from_postgresql(transactional_db, processes, settings):
    private = processes.redis(aof=False)
    point_settings_at_redis(settings, private.url)
    r = private.client()
    sale = open_sale(quantities=(20, 5), limit=2, price=Decimal("10.00"))
    hot, other = sale.items
    shoppers = make_shoppers(6, sale_ids=[sale.id])
    site = processes.gunicorn(redis_url=private.url, workers=2)

    drained = run_burst(shoppers[:5], base_urls=[site.url], sale_id=sale.id, item_id=hot.pk, clicks_each=2)
    assert _answered(drained) == {303: 10}
    # One payment in time, one an hour late (after the hold's expiry: flagged, its unit back on sale).
    paid = drained[0].txn_id
    assert holds.confirm_payment(sale.id, paid, gateway_order_id="ord_1", amount="10.00", now=time.time()).outcome == (
        "paid"
    )
    late = drained[1].txn_id
    outcome = holds.confirm_payment(sale.id, late, gateway_order_id="ord_2", amount="10.00", now=time.time() + 3600)
    assert outcome.outcome == "paid_after_expiry"
    drain_session(sale.id)
    assert Transaction.objects.filter(session=sale.session).count() == 10
    # One more reservation after the last drain: it only ever lived in Redis.
    (undrained,) = run_burst(shoppers[5:], base_urls=[site.url], sale_id=sale.id, item_id=other.pk, clicks_each=1)
    assert undrained.status == 303
    before = {item.pk: item_figures(r, sale.id, item.pk) for item in sale.items}

    private.shutdown()
    private.start()  # no AOF, no RDB: an empty server
    assert r.dbsize() == 0

    result = run_manage("rebuild_session", str(sale.id), env=site_environment(redis_url=private.url))
    assert result.returncode == 0, result.stdout + result.stderr
    report = result.stdout
    assert f"session {sale.id}: 10 transactions restored, 8 holds" in report
    assert f"item {hot.pk}: allocated 20 adjusted +0 -> remaining 11, held 8, paid 1" in report
    assert f"item {other.pk}: allocated 5 adjusted +0 -> remaining 5, held 0, paid 0" in report
    assert "reservations made after the last drain never reached PostgreSQL" in report

    hot_after = assert_stock_invariant(r, sale.id, hot.pk)
    other_after = assert_stock_invariant(r, sale.id, other.pk)
    # The paid-after-expiry unit went back on sale before the outage, and is still on sale after it.
    assert (hot_after["held"], hot_after["paid"]) == (before[hot.pk]["held"], before[hot.pk]["paid"])
    assert hot_after["remaining"] == before[hot.pk]["remaining"]
    # The undrained reservation is not in PostgreSQL: its unit is back on sale and its txn is unknown.
    assert before[other.pk]["held"] == 1 and other_after["held"] == 0 and other_after["remaining"] == 5
    assert holds.transaction_state(sale.id, undrained.txn_id) == {}
    assert (
        holds.confirm_payment(
            sale.id, undrained.txn_id, gateway_order_id="ord_3", amount="10.00", now=time.time()
        ).outcome
        == "unknown"
    )
    assert as_str(r.hget(keys.txn(sale.id, paid), "status")) == "paid"
    assert as_str(r.hget(keys.txn(sale.id, late), "status")) == "paid_after_expiry"

    # The site sells again from the rebuilt state (shopper sessions were lost with the data: new logins).
    fresh = make_shoppers(3, sale_ids=[sale.id], prefix="after")
    again = run_burst(fresh, base_urls=[site.url], sale_id=sale.id, item_id=hot.pk, clicks_each=1)
    assert _answered(again) == {303: 3}
    assert assert_stock_invariant(r, sale.id, hot.pk)["remaining"] == hot_after["remaining"] - 3
