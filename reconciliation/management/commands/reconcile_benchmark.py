"""``python manage.py reconcile_benchmark --count 100000``: time a reconciliation of synthetic data."""

from __future__ import annotations

import resource

from django.core.management.base import BaseCommand

from reconciliation.benchmarks import run_benchmark


class Command(BaseCommand):
    help = "Reconcile COUNT synthetic transactions against a real sandbox gateway process and print the time."

    def add_arguments(self, parser):
        parser.add_argument("--count", type=int, default=100_000)
        parser.add_argument("--port", type=int, default=None, help="Sandbox port (default: any free loopback port).")
        parser.add_argument(
            "--trace-memory", action="store_true", help="Also report the peak Python allocations while reconciling."
        )

    def handle(self, *args, count, port, trace_memory, **options):
        result = run_benchmark(count, port=port, trace_memory=trace_memory)
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        self.stdout.write(
            f"reconciled {result.count} transactions in {result.seconds:.2f}s "
            f"({result.count / result.seconds:,.0f}/s); {result.discrepancies} discrepancies "
            f"(expected {result.expected_discrepancies}); status {result.status}; peak RSS of this process {peak_mb:.0f} MB"
            + (
                f"; peak Python allocations while reconciling {result.peak_traced_bytes / 2**20:.1f} MB"
                if result.peak_traced_bytes is not None
                else ""
            )
        )
