"""Payment figures as Prometheus metrics: webhook outcomes (counted by the web processes) and the
reconciliation runs' discrepancies (read from PostgreSQL once per scrape)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from django.db.models import Count, Max
from prometheus_client import Counter
from prometheus_client.core import GaugeMetricFamily, Metric

from flashsale import clock
from reconciliation.models import Discrepancy, ReconciliationRun

WEBHOOK_OUTCOMES = Counter(
    "flashsale_webhook_outcomes",
    "Payment webhook deliveries by outcome: what the payment did (paid, paid_after_expiry, "
    "amount_mismatch, cancelled, unknown, ...) or why the delivery was refused (rejected_<reason>, "
    "replayed, in_progress, too_large).",
    ["outcome"],
)
# Discrepancies of runs older than this are history, not something to page anyone about.
RECENT_DAYS = 35


def count_webhook(outcome: str) -> None:
    WEBHOOK_OUTCOMES.labels(outcome).inc()


class ReconciliationCollector:
    def collect(self) -> Iterator[Metric]:
        since = clock.now().date() - timedelta(days=RECENT_DAYS)
        # A day reconciled again is judged by its latest run; the earlier runs are superseded.
        latest_runs = (
            ReconciliationRun.objects.filter(period__gte=since)
            .values("period")
            .annotate(latest=Max("pk"))
            .values("latest")
        )
        discrepancies = GaugeMetricFamily(
            "flashsale_reconciliation_discrepancies",
            f"Discrepancies in the latest run of each of the last {RECENT_DAYS} days, by kind and resolution.",
            labels=["kind", "resolution"],
        )
        found = {
            (row["kind"], row["resolution"]): row["n"]
            for row in Discrepancy.objects.filter(run_id__in=latest_runs)
            .values("kind", "resolution")
            .annotate(n=Count("pk"))
        }
        for kind in Discrepancy.Kind.values:
            for resolution in Discrepancy.Resolution.values:
                discrepancies.add_metric([kind, resolution], found.get((kind, resolution), 0))
        yield discrepancies

        last = GaugeMetricFamily(
            "flashsale_reconciliation_last_run_timestamp_seconds",
            "When the latest finished reconciliation run of each status finished (Unix time).",
            labels=["status"],
        )
        finished = ReconciliationRun.objects.exclude(finished_at=None).values("status").annotate(at=Max("finished_at"))
        for row in finished:
            last.add_metric([row["status"]], row["at"].timestamp())
        yield last
