import os

import pytest

from tests.scaleout.cluster import LocalCluster


@pytest.fixture(scope="session")
def redis_cluster(tmp_path_factory):
    base = 17100 + (os.getpid() % 200) * 3
    cluster = LocalCluster(ports=[base, base + 1, base + 2], workdir=tmp_path_factory.mktemp("cluster"))
    cluster.start()
    yield cluster
    cluster.stop()


@pytest.fixture
def cluster_sale_redis(redis_cluster, settings):
    """Route the sale data through redis-py's cluster client for one test."""
    import plans.redis

    settings.FLASHSALE_REDIS_MODE = "cluster"
    settings.FLASHSALE_SALE_REDIS_URL = redis_cluster.url
    plans.redis._cluster_client = None
    client = plans.redis.sale_redis()
    client.flushall(target_nodes="primaries")
    yield client
    client.flushall(target_nodes="primaries")
    client.close()
    plans.redis._cluster_client = None
