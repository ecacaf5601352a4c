"""Fixtures of the scale-out tests: a local Redis Cluster, and site processes stopped in teardown."""

import os
import socket

import pytest

from tests.support.cluster import LocalCluster


def _bindable(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_cluster_base() -> int:
    """Three consecutive free ports from 17100 (and their cluster bus ports, +10000), from a pid-based start.

    Starting from the pid spreads concurrent runs apart; skipping busy ports keeps a leftover
    server of another run from being mistaken for one of ours.
    """
    first = (os.getpid() % 200) * 3
    for offset in range(200):
        base = 17100 + ((first + offset * 3) % 600)
        if all(_bindable(base + n) and _bindable(base + n + 10000) for n in range(3)):
            return base
    raise RuntimeError("no three free ports for the Redis Cluster in 17100-17699")


@pytest.fixture(scope="session")
def redis_cluster(tmp_path_factory):
    base = free_cluster_base()
    cluster = LocalCluster(ports=[base, base + 1, base + 2], workdir=tmp_path_factory.mktemp("cluster"))
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def cluster_sale_redis(redis_cluster, settings):
    """Route the sale data through redis-py's cluster client for one test."""
    import flashsale.store.client

    settings.FLASHSALE_REDIS_MODE = "cluster"
    settings.FLASHSALE_SALE_REDIS_URL = redis_cluster.url
    flashsale.store.client._cluster_client = None
    client = flashsale.store.client.sale_redis()
    client.flushall(target_nodes="primaries")
    yield client
    client.flushall(target_nodes="primaries")
    client.close()
    flashsale.store.client._cluster_client = None
