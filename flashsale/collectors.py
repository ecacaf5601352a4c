"""The readiness checks as metrics, read once per scrape: what the Redis-down and beat alerts watch."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily, Metric

from flashsale.readiness import run_checks


class ReadinessCollector:
    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "flashsale_dependency_up",
            "1 when the readiness check of the dependency passes (database, redis, sale_redis, broker, beat, drain).",
            labels=["check"],
        )
        seconds = GaugeMetricFamily(
            "flashsale_dependency_check_seconds", "Time the readiness check took on this scrape.", labels=["check"]
        )
        heartbeat = GaugeMetricFamily(
            "flashsale_beat_heartbeat_age_seconds",
            "Seconds since beat's heartbeat task last ran (absent when it never did).",
        )
        for result in run_checks():
            up.add_metric([result.name], 1 if result.ok else 0)
            seconds.add_metric([result.name], result.seconds)
            if result.name == "beat" and result.value is not None:
                heartbeat.add_metric([], result.value)
        yield up
        yield seconds
        yield heartbeat
