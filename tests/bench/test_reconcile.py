"""The benchmark reconciles through the real sandbox process, finds exactly the seeded differences, cleans up."""

from __future__ import annotations

from bench.reconcile import run_benchmark
from reconciliation.models import ReconciliationRun
from reservations.models import Transaction


def test_benchmark_finds_the_seeded_differences_and_cleans_up(transactional_db):
    result = run_benchmark(2500, port=18420)
    assert result.seconds > 0
    assert result.discrepancies == result.expected_discrepancies == 2 * 3 + 1
    assert not Transaction.objects.exists() and not ReconciliationRun.objects.exists()
