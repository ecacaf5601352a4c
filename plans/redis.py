"""The Redis client that holds the sale data, behind one function so a cluster client can be swapped in."""

from __future__ import annotations

import threading

from django.conf import settings

_cluster_client = None
_cluster_lock = threading.Lock()


def sale_redis():
    """The client for sale data: the cache's connection, or a Redis Cluster client.

    ``FLASHSALE_REDIS_MODE = "cluster"`` selects ``redis.cluster.RedisCluster`` built from
    ``REDIS_URL``. Pipelines sent through a cluster client must only touch the keys of one
    session (they share the ``{s:ID}`` hash tag, so one slot); ``sessions_index`` is written
    with separate commands.
    """
    if getattr(settings, "FLASHSALE_REDIS_MODE", "standalone") == "cluster":
        return _cluster()
    from django_redis import get_redis_connection

    return get_redis_connection("default")


def is_cluster() -> bool:
    return getattr(settings, "FLASHSALE_REDIS_MODE", "standalone") == "cluster"


def _cluster():
    # One client per process: it holds the slot map and a connection pool per node.
    global _cluster_client
    if _cluster_client is None:
        with _cluster_lock:
            if _cluster_client is None:
                from redis.cluster import RedisCluster

                _cluster_client = RedisCluster.from_url(settings.FLASHSALE_SALE_REDIS_URL)
    return _cluster_client


def as_str(value) -> str | None:
    """Redis replies are bytes with the cache's client; normalise to ``str``."""
    if value is None:
        return None
    return value.decode() if isinstance(value, bytes) else str(value)


def as_int(value, default: int = 0) -> int:
    if value is None or value == b"" or value == "":
        return default
    return int(value)
