"""``bench.components.measure``: how ``make bench`` runs a component, in its own process with a limit.

The bench's smoke test runs without components (each has its own test: ingest, session load,
reconcile, waiting room, Lua instructions); this one proves the way the bench calls them.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings

from bench import components
from bench.components import measure
from bench.config import BenchConfig
from plans.models import SaleSession
from tests.support.redis_guard import keys_but_marker


def _config(tmp_path: Path) -> BenchConfig:
    database = settings.DATABASES["default"]
    url = f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}"
    return BenchConfig(
        database_url=url, redis_url=settings.REDIS_URL, port=0, output=tmp_path / "b.json", work_dir=tmp_path
    )


@pytest.mark.postgres
def test_a_component_runs_in_its_own_process_and_reports_its_figure(transactional_db, redis_conn, tmp_path):
    result = measure(_config(tmp_path), "session_load", 2, 5, timeout_s=120)

    assert result["value"] is not None and result["value"] > 0, result
    assert (result["unit"], result["sizes"]) == ("seconds", [2, 5])
    # The component's process cleaned up after itself, in the database and in Redis.
    assert not SaleSession.objects.exists()
    assert keys_but_marker(redis_conn) == set()


def test_an_unknown_measurement_is_a_reason_not_a_crash(tmp_path, monkeypatch):
    monkeypatch.setitem(components.COMPONENTS, "missing", ("bench.no_such_module", "measure", "things/s"))

    result = measure(_config(tmp_path), "missing", timeout_s=60)

    assert result["value"] is None
    assert "bench.no_such_module.measure" in result["reason"]
