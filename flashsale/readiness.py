"""Readiness: can this site serve a sale right now? Each dependency checked in parallel, with a timeout.

Checks (``CHECKS``): the database, the default Redis (cache, sessions, rate limits), the sale Redis
(the same server in standalone mode; every primary of a Redis Cluster in cluster mode), the Celery
broker, beat's heartbeat (``flashsale.tasks.beat_heartbeat`` stamps it every
``FLASHSALE_BEAT_HEARTBEAT_SECONDS``; too old means beat, the broker or every worker stopped) and
the drain lag (the oldest reservation event not yet persisted to PostgreSQL).

A check answers a ``CheckResult``: ``ok``, a short ``detail`` for staff and the metrics token
(never shown to the public: error texts may name hosts), and a figure where it has one (an age in
seconds). Each runs in a thread of a small pool and is given ``FLASHSALE_READINESS_TIMEOUT_SECONDS``:
a store that hangs makes its check "timeout", not the probe.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass

from django.conf import settings
from django.db import connections

from flashsale.store import keys
from flashsale.store.client import default_redis, is_cluster, sale_redis
from flashsale.store.replies import text


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    detail: str = ""
    value: float | None = None
    seconds: float = 0.0


class CheckFailed(Exception):
    """A check's own verdict (not a crash): ``detail`` says why, ``value`` carries its figure."""

    def __init__(self, detail: str, value: float | None = None):
        super().__init__(detail)
        self.detail = detail
        self.value = value


def _error_text(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}".strip().splitlines()
    return text[0][:300] if text else type(exc).__name__


def check_database() -> float | None:
    # Runs in a pool thread, which opens its own connection: close it, a probe must not leak them.
    connection = connections["default"]
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    finally:
        connection.close()
    return None


def check_redis() -> float | None:
    default_redis().ping()
    return None


def check_sale_redis() -> float | None:
    client = sale_redis()
    if not is_cluster():
        client.ping()
        return None
    from redis.cluster import RedisCluster

    # Every primary must answer: each holds some sessions' slots.
    client.ping(target_nodes=RedisCluster.PRIMARIES)
    state = client.cluster_info(target_nodes=RedisCluster.RANDOM).get("cluster_state")
    if state != "ok":
        raise CheckFailed(f"cluster_state is {state}")
    return None


def check_broker() -> float | None:
    from flashsale.celery import app

    with app.connection_for_write() as connection:
        connection.ensure_connection(
            max_retries=1, interval_start=0, interval_step=0, timeout=settings.FLASHSALE_READINESS_TIMEOUT_SECONDS
        )
    return None


def heartbeat_age(now: float | None = None) -> float | None:
    """Seconds since beat's heartbeat task last ran; ``None`` if it never did (or the stamp expired)."""
    raw = default_redis().get(keys.beat_heartbeat())
    if raw is None:
        return None
    return max(0.0, (time.time() if now is None else now) - float(text(raw)))


def check_beat() -> float | None:
    age = heartbeat_age()
    if age is None:
        raise CheckFailed("no heartbeat: beat or the workers are not running")
    if age > settings.FLASHSALE_BEAT_HEARTBEAT_MAX_AGE_SECONDS:
        raise CheckFailed(f"last heartbeat {age:.0f}s ago", value=age)
    return age


def check_drain() -> float | None:
    from reservations.drain import oldest_pending_age

    age = oldest_pending_age()
    if age > settings.FLASHSALE_READINESS_MAX_DRAIN_LAG_SECONDS:
        raise CheckFailed(f"oldest unpersisted reservation event is {age:.0f}s old", value=age)
    return age


CHECKS: dict[str, Callable[[], float | None]] = {
    "database": check_database,
    "redis": check_redis,
    "sale_redis": check_sale_redis,
    "broker": check_broker,
    "beat": check_beat,
    "drain": check_drain,
}
# What a web node needs to answer shoppers; a load balancer that pulls web nodes on "beat is late"
# would turn a late job into an outage, so it may ask for this scope only (?scope=web).
WEB_CHECKS = ("database", "redis", "sale_redis")

_pool = ThreadPoolExecutor(max_workers=len(CHECKS), thread_name_prefix="readiness")


def _timed(name: str, check: Callable[[], float | None]) -> CheckResult:
    started = time.perf_counter()
    try:
        value = check()
    except CheckFailed as exc:
        return CheckResult(name, False, exc.detail, exc.value, time.perf_counter() - started)
    except Exception as exc:  # any error of a driver means "not ready"; the text is for staff only
        return CheckResult(name, False, _error_text(exc), None, time.perf_counter() - started)
    return CheckResult(name, True, "ok", value, time.perf_counter() - started)


def run_checks(names: tuple[str, ...] | None = None, *, timeout: float | None = None) -> list[CheckResult]:
    """Run the named checks (all by default) in parallel; one still running at the deadline is down."""
    timeout = settings.FLASHSALE_READINESS_TIMEOUT_SECONDS if timeout is None else timeout
    names = tuple(CHECKS) if names is None else names
    futures = {name: _pool.submit(_timed, name, CHECKS[name]) for name in names}
    deadline = time.monotonic() + timeout
    results = []
    for name, future in futures.items():
        try:
            results.append(future.result(timeout=max(0.0, deadline - time.monotonic())))
        except FutureTimeout:
            results.append(CheckResult(name, False, f"no answer within {timeout:g}s", None, timeout))
    return results
