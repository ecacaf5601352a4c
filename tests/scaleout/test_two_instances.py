"""Two gunicorn instances on different ports, one Redis and one PostgreSQL, under one burst.

Web nodes are stateless: shoppers alternate between the two instances from click to click, and
the totals still add up: successes across both == units sold, never more than allocated.
"""

from __future__ import annotations

from collections import Counter

import pytest

from reservations.drain import drain_session
from tests.support.books import assert_every_success_persisted, assert_units_accounted, redis_books
from tests.support.burst import run_burst
from tests.support.sales import assert_stock_invariant
from tests.support.shoppers import make_shoppers, open_sale

SHOPPERS = 30
CLICKS_EACH = 3
UNITS = 50  # fewer than the 90 clicks: the item sells out during the burst

pytestmark = pytest.mark.postgres


@pytest.mark.slow
def test_two_instances_share_the_stock_without_overselling(transactional_db, processes, settings, redis_conn):
    redis_url = settings.CACHES["default"]["LOCATION"]
    sale = open_sale(quantities=(UNITS,), limit=CLICKS_EACH)
    shoppers = make_shoppers(SHOPPERS, sale_ids=[sale.id])
    first = processes.gunicorn(redis_url=redis_url, workers=2)
    second = processes.gunicorn(redis_url=redis_url, workers=2)
    assert first.port != second.port

    attempts = run_burst(
        shoppers, base_urls=[first.url, second.url], sale_id=sale.id, item_id=sale.item.pk, clicks_each=CLICKS_EACH
    )

    statuses = Counter(a.status for a in attempts)
    assert set(statuses) <= {303, 409}, statuses  # reserved or sold out; never an error
    successes = [a for a in attempts if a.status == 303]
    by_instance = Counter(a.base_url for a in successes)
    assert set(by_instance) == {first.url, second.url}, by_instance  # both instances sold
    assert len({a.txn_id for a in successes}) == len(successes)  # each success is its own reservation
    figures = assert_stock_invariant(redis_conn, sale.id, sale.item.pk)
    assert sum(a.units for a in successes) == figures["held"] == UNITS  # sold out, exactly
    assert figures["remaining"] == 0 and statuses[409] == SHOPPERS * CLICKS_EACH - UNITS

    books = redis_books(redis_conn, sale.id, [s.user_id for s in shoppers])
    assert_units_accounted(redis_conn, sale, books)
    drain_session(sale.id)
    assert_every_success_persisted(sale, books, attempts)
