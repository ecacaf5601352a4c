"""/readyz against real dependencies this test starts and stops: a redis-server (cache, sessions and
sale data), another one as the Celery broker, a PostgreSQL server of its own, and the site under
gunicorn. Each stopped dependency turns readiness 503 naming it; started again, readiness is 200."""

from __future__ import annotations

import time

import pytest
import requests

from flashsale.store import keys
from tests.support.polling import wait_until
from tests.support.processes import postgres_binaries

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(postgres_binaries() is None, reason="needs PostgreSQL's server binaries (initdb)"),
]


def _readyz(site) -> tuple[int, dict]:
    response = requests.get(f"{site.url}/readyz", timeout=10)
    return response.status_code, response.json()


def _await(site, status: int, *, failing: set[str] | None = None) -> dict:
    seen = {}

    def answered() -> bool:
        seen["status"], seen["body"] = _readyz(site)
        if seen["status"] != status:
            return False
        return failing is None or set(seen["body"].get("failing", [])) == failing

    try:
        wait_until(answered, what=f"/readyz to answer {status} failing {failing}", timeout=30)
    except AssertionError as exc:  # say what it answered instead
        raise AssertionError(f"{exc}; its last answer: {seen.get('status')} {seen.get('body')}") from None
    return seen["body"]


def _stamp(redis_server, *, age: float = 0.0) -> None:
    redis_server.client().set(keys.beat_heartbeat(), repr(time.time() - age), ex=600)


def test_readiness_follows_each_dependency_down_and_back(processes, db):
    cache = processes.redis(aof=True, name="cache")
    broker = processes.redis(aof=False, name="broker")
    database = processes.postgres()
    site = processes.gunicorn(
        redis_url=cache.url,
        workers=1,
        DATABASE_URL=database.url,
        CELERY_BROKER_URL=broker.url,
        CELERY_RESULT_BACKEND=broker.url,
    )
    _stamp(cache)
    body = _await(site, 200)
    assert set(body["checks"].values()) == {"ok"}

    # The default Redis holds the sale data too (standalone), and beat's heartbeat.
    cache.stop()
    body = _await(site, 503, failing={"redis", "sale_redis", "beat", "drain"})
    assert "details" not in body
    cache.start()
    _await(site, 200)

    broker.stop()
    body = _await(site, 503, failing={"broker"})
    assert "refused" not in str(body).lower()
    broker.start()
    _await(site, 200)

    database.stop()
    _await(site, 503, failing={"database"})
    database.start()
    _await(site, 200)

    _stamp(cache, age=3600)
    _await(site, 503, failing={"beat"})
    _stamp(cache)
    _await(site, 200)

    # A loaded session whose oldest reservation event has waited two minutes for the drainer.
    r = cache.client()
    r.zadd(keys.sessions_index(), {"7": time.time()})
    r.xadd(keys.stream(7), {"type": "reserved", "txn": "01JLAGGING"}, id=f"{int((time.time() - 120) * 1000)}-0")
    _await(site, 503, failing={"drain"})
    r.delete(keys.stream(7))
    _await(site, 200)
