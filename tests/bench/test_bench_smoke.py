"""The bench still runs end to end: a 2-second burst per scenario, figures written, nothing oversold.

No assertion on speed: the figures only have to exist. The bench gets its own database (the test
database's name + "_bench_smoke", dropped afterwards), the test Redis database, which every test
empties anyway, and a port nothing listens on.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
import redis
from django.conf import settings
from psycopg import sql

BASE_DIR = Path(__file__).resolve().parents[2]
FIGURES = {
    "floor_rps",
    "reserve_rps",
    "peer_rps",
    "sale_page_rps",
    "reserve_vs_floor",
    "reserve_vs_peer",
    "reserve_p99_ms",
    "floor_p99_ms",
    "oversold",
    "hot_path_sql_queries",
    "redis_commands_per_reserve",
    "engine_vs_pg",
    "ingest_products_per_s",
    "session_load_s",
    "reconcile_100k_s",
}


def _bench_database_url() -> str:
    parts = urlsplit(os.environ.get("DATABASE_URL", ""))
    return urlunsplit(parts._replace(path=f"/{parts.path.lstrip('/')}_bench_smoke"))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _database_exists(url: str) -> bool:
    parts = urlsplit(url)
    with psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True) as conn:
        return bool(conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [parts.path.lstrip("/")]).fetchone())


def _drop_database(url: str) -> None:
    parts = urlsplit(url)
    with psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(parts.path.lstrip("/"))))


@pytest.mark.slow
def test_smoke_run_writes_every_figure_and_oversells_nothing(tmp_path):
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        pytest.skip("the bench drives PostgreSQL (pgbench, SELECT ... FOR UPDATE): set DATABASE_URL")
    output = tmp_path / "bench.json"
    database_url = _bench_database_url()
    env = {
        **os.environ,
        "BENCH_DATABASE_URL": database_url,
        "BENCH_REDIS_URL": settings.REDIS_URL,
        "BENCH_PORT": str(_free_port()),
        "BENCH_OUTPUT": str(output),
    }
    try:
        completed = subprocess.run(
            # The components have tests of their own (tests/bench), and the way the bench runs
            # them has test_components_measure.py: here they would add half a minute.
            [sys.executable, "-m", "bench", "--smoke", "--no-components"],
            cwd=BASE_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
    finally:
        _drop_database(database_url)
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    assert not _database_exists(database_url)

    figures = json.loads(output.read_text())
    assert FIGURES <= figures.keys()
    assert figures["oversold"] == 0
    assert figures["consistent"] is True
    measured = figures["scenarios"]
    for scenario in (
        "floor",
        "floor_hot",
        "floor_redis",
        "peer",
        "reserve",
        "reserve_sellout",
        "sale_page",
        "stock_poll",
    ):
        assert measured[scenario]["requests"] > 0, scenario
    # The calibration view made its Redis round trip for every answer it gave (Redis counted
    # the script's runs; the warm-up's are in that count too).
    assert set(measured["floor_redis"]["statuses"]) == {"303"}
    assert measured["floor_redis"]["script_calls"] >= measured["floor_redis"]["requests"]
    assert figures["calibration_script_per_s"] is not None
    # The peer's reservations went through: every answer was a redirect to the gateway.
    assert set(measured["peer"]["statuses"]) == {"303"}
    assert figures["engine_vs_pg"] is not None, figures["unavailable"]
    # Skipped components are named, with the reason, and their figures are null.
    for skipped in ("ingest_products_per_s", "session_load_s", "reconcile_100k_s", "lua_instructions_per_decision"):
        assert figures[skipped] is None and figures["unavailable"][skipped] == "skipped (--no-components)"
    # The SQL counter sees queries (the peer makes three per reservation), so the hot path's
    # zero is a measurement, not a counter that never fires.
    assert figures["peer_sql_queries_per_request"] >= 3
    assert figures["hot_path_sql_queries"] == 0
    # Each burst reserved new units: no answer was a replay of an earlier reservation.
    assert measured["reserve"]["new_reservations"] > 0
    # Where the CPU went, per request: the workers and wrk always; Redis when its server runs
    # on this machine (INFO names its pid), and PostgreSQL's backends for the peer.
    for scenario in ("floor", "reserve", "peer", "sale_page"):
        cpu = measured[scenario]["cpu_us_per_request"]
        assert cpu["web"] > 0 and cpu["wrk"] > 0 and cpu["machine"] > 0, (scenario, cpu)
    redis_comm = Path(f"/proc/{redis.Redis.from_url(settings.REDIS_URL).info('server')['process_id']}/comm")
    if redis_comm.exists() and redis_comm.read_text().startswith("redis"):
        assert measured["reserve"]["cpu_us_per_request"]["redis"] > 0
    assert measured["peer"]["cpu_us_per_request"]["postgres"] > 0
