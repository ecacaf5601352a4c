"""``python -m bench ingest|session-load|reconcile|waiting-room``: the component measurements by hand.

They replace the ``ingest_benchmark`` and ``reconcile_benchmark`` management commands: the same
passes, the same printed figures, and nothing left behind.
"""

from __future__ import annotations

import pytest

from bench.cli import main
from bench.reconcile import BenchmarkResult
from catalog.models import Product, Provider, SyncRun
from plans.models import SaleSession
from tests.support.redis_guard import keys_but_marker


def test_ingest_prints_the_three_passes_and_cleans_up(db, capsys):
    assert main(["ingest", "--count", "40"]) == 0

    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0].strip() for line in lines] == ["create", "unchanged", "update"]
    assert "(created 40, updated 0, unchanged 0)" in lines[0]
    assert "(created 0, updated 0, unchanged 40)" in lines[1]
    assert "(created 0, updated 40, unchanged 0)" in lines[2]
    assert not Provider.objects.exists() and not Product.objects.exists() and not SyncRun.objects.exists()


def test_session_load_prints_the_time_and_cleans_up(db, redis_conn, capsys):
    assert main(["session-load", "--items", "3", "--units", "10"]) == 0

    assert capsys.readouterr().out.startswith("loaded 3 items x 10 units into Redis in ")
    assert not SaleSession.objects.exists()
    assert keys_but_marker(redis_conn) == set()


def test_reconcile_summary_names_every_figure():
    result = BenchmarkResult(
        count=2000,
        seconds=0.5,
        discrepancies=5,
        expected_discrepancies=5,
        status="discrepancies",
        peak_traced_bytes=3 * 2**20,
    )

    line = result.summary(peak_rss_mb=90)

    assert line == (
        "reconciled 2000 transactions in 0.50s (4,000/s); 5 discrepancies (expected 5); status discrepancies; "
        "peak RSS of this process 90 MB; peak Python allocations while reconciling 3.0 MB"
    )


def test_an_unknown_command_is_refused(capsys):
    with pytest.raises(SystemExit) as refused:
        main(["ingest-benchmark"])

    assert refused.value.code == 2
    assert "invalid choice: 'ingest-benchmark'" in capsys.readouterr().err
