"""Which Redis holds the sale data, behind one function so a cluster client can be swapped in."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from django.conf import settings

if TYPE_CHECKING:
    from redis import Redis
    from redis.cluster import RedisCluster

_cluster_client: RedisCluster | None = None
_cluster_lock = threading.Lock()


def sale_redis() -> Any:
    """The client for sale data: the cache's connection, or a Redis Cluster client.

    ``FLASHSALE_REDIS_MODE = "cluster"`` selects ``redis.cluster.RedisCluster`` built from
    ``FLASHSALE_SALE_REDIS_URL``. Pipelines sent through a cluster client must only touch the keys
    of one session (they share the ``{s:ID}`` hash tag, so one slot); ``sessions_index`` is
    written with separate commands.

    Typed ``Any``: redis-py's standalone and cluster clients share no declared interface.
    """
    if is_cluster():
        return _cluster()
    return default_redis()


def default_redis() -> Redis:
    """The connection behind Django's cache: sessions, rate limits, auth caches."""
    from django_redis import get_redis_connection

    client: Redis = get_redis_connection("default")
    return client


def is_cluster() -> bool:
    return bool(getattr(settings, "FLASHSALE_REDIS_MODE", "standalone") == "cluster")


def _cluster() -> RedisCluster:
    # One client per process: it holds the slot map and a connection pool per node.
    global _cluster_client
    if _cluster_client is None:
        with _cluster_lock:
            if _cluster_client is None:
                from redis.cluster import RedisCluster

                _cluster_client = RedisCluster.from_url(settings.FLASHSALE_SALE_REDIS_URL)
    return _cluster_client
