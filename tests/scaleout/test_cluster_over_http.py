"""The whole reserve path over HTTP with the sale data on a Redis Cluster.

gunicorn runs with ``FLASHSALE_REDIS_MODE=cluster``: the sale page, the reserve request (its rate
limits counted in the same script) and the drainer all go through redis-py's cluster client,
while sessions and the cache stay on the plain Redis. Two sessions on different shards sell at once.
"""

from __future__ import annotations

from collections import Counter

import pytest

from flashsale.store import keys
from reservations.drain import drain_session
from tests.support.books import assert_every_success_persisted, assert_units_accounted, redis_books
from tests.support.burst import run_burst
from tests.support.cluster import node_of
from tests.support.sales import assert_stock_invariant
from tests.support.shoppers import make_shoppers, open_sale

pytestmark = [pytest.mark.postgres, pytest.mark.cluster, pytest.mark.slow]

UNITS = 20


def test_a_burst_over_http_on_the_cluster_sells_each_unit_once(
    transactional_db, processes, settings, cluster_sale_redis, redis_cluster
):
    client = cluster_sale_redis
    sales = [open_sale(quantities=(UNITS,), limit=2)]
    while node_of(client, keys.session(sales[-1].id)) == node_of(client, keys.session(sales[0].id)):
        sales.append(open_sale(quantities=(UNITS,), limit=2))
    sales = [sales[0], sales[-1]]
    shoppers = make_shoppers(16, sale_ids=[s.id for s in sales])
    site = processes.gunicorn(
        redis_url=settings.CACHES["default"]["LOCATION"],
        workers=2,
        FLASHSALE_REDIS_MODE="cluster",
        FLASHSALE_SALE_REDIS_URL=redis_cluster.url,
    )

    for sale in sales:
        attempts = run_burst(shoppers, base_urls=[site.url], sale_id=sale.id, item_id=sale.item.pk, clicks_each=2)
        statuses = Counter(a.status for a in attempts)
        assert statuses == {303: UNITS, 409: 32 - UNITS}, statuses
        figures = assert_stock_invariant(client, sale.id, sale.item.pk)
        assert figures["held"] == UNITS and figures["remaining"] == 0
        books = redis_books(client, sale.id, [s.user_id for s in shoppers])
        assert_units_accounted(client, sale, books)
        drain_session(sale.id)
        assert_every_success_persisted(sale, books, attempts)
