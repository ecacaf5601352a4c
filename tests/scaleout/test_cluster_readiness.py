"""Readiness of the sale data on a Redis Cluster: every primary must answer."""

from __future__ import annotations

import pytest

from flashsale import readiness
from tests.support.polling import wait_until

pytestmark = pytest.mark.cluster


def _sale_redis_check():
    (result,) = readiness.run_checks(("sale_redis",), timeout=5)
    return result


def test_a_stopped_primary_makes_the_sale_redis_not_ready_until_it_is_back(redis_cluster, cluster_sale_redis):
    assert _sale_redis_check().ok
    redis_cluster.stop_node(2)
    try:
        down = _sale_redis_check()
        assert not down.ok
        assert str(redis_cluster.ports[2]) in down.detail or "Connection" in down.detail
    finally:
        redis_cluster.start_node(2)
    wait_until(lambda: _sale_redis_check().ok, what="the sale_redis check to pass again", timeout=30)
