"""Prometheus metrics: request latency by route, the business collectors, and the ``/metrics`` page.

Two kinds of figures:

- **Per request** (this process counts them): ``flashsale_http_request_duration_seconds``, a
  histogram by route name, method and status, recorded by ``RequestMetricsMiddleware``. Its cost
  is a clock read and one observation in memory (a memory-mapped file under gunicorn): no Redis
  command and no SQL, so the hot routes keep their one round trip.
- **Per scrape** (read from Redis and PostgreSQL when Prometheus asks): every collector named in
  ``FLASHSALE_METRICS_COLLECTORS`` runs once per scrape of ``/metrics``, never on a shopper's
  request. A collector that fails (its store is down) is reported by
  ``flashsale_metrics_collector_up{collector}`` = 0 and the others still answer.

Under gunicorn every worker is a process of its own: ``gunicorn.conf.py`` gives them a shared
``PROMETHEUS_MULTIPROC_DIR`` (emptied when the master starts; a dead worker's live gauges are
dropped by ``mark_process_dead``), and the scrape adds up every worker's files, so whichever
worker answers ``/metrics`` reports the whole server.
"""

from __future__ import annotations

import hmac
import logging
import os
import time
from collections.abc import Iterable, Iterator

from django.conf import settings
from django.utils.module_loading import import_string
from prometheus_client import REGISTRY, CollectorRegistry, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector

log = logging.getLogger(__name__)

# Seconds; the reserve request and the stock poll answer in about a millisecond, pages in tens.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# The environ key under which the WSGI application notes when a request arrived
# (``time.perf_counter()``): a hot-route request handed to the stack after work of its own (the
# quick reserve path's EVALSHA) is timed from there, not from the middleware's start.
STARTED_AT = "flashsale.started_at"

REQUEST_DURATION = Histogram(
    "flashsale_http_request_duration_seconds",
    "Time Django spent on a request, by resolved route name, method and status code.",
    ["route", "method", "status"],
    buckets=LATENCY_BUCKETS,
)


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


def route_label(request) -> str:
    """The resolved route's name (``namespace:name``): bounded, unlike the path with its ids."""
    match = getattr(request, "resolver_match", None)
    if match is not None:
        return match.view_name or match.route or "unnamed"
    if request.path_info.startswith("/" + settings.STATIC_URL.lstrip("/")):
        return "static"
    return "unmatched"


class RequestMetricsMiddleware:
    """Times every request (the hot routes too) into ``flashsale_http_request_duration_seconds``.

    First in ``MIDDLEWARE``, so the time includes the other middleware; on the hot routes it starts
    when the WSGI application took the request (``STARTED_AT``). Label children are kept in
    a dict so a request does one dict lookup instead of the client's locked ``labels()``; its keys
    are bounded (route names x known methods x status codes).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = request.META.get(STARTED_AT) or time.perf_counter()
        response = self.get_response(request)
        observe_request(route_label(request), request.method, response.status_code, started=started)
        return response


_children: dict[tuple[str, str, int], Histogram] = {}


def observe_request(route: str, method: str | None, status: int, *, started: float) -> None:
    """One request of ``route`` answered now, timed from ``started`` (``time.perf_counter()``).

    The middleware's, and the answers the hot routes give before Django (``flashsale.hot_routes``).
    """
    method = method if method in KNOWN_METHODS else "other"
    key = (route, method, status)
    child = _children.get(key)
    if child is None:
        child = _children[key] = REQUEST_DURATION.labels(route, method, str(status))
    child.observe(time.perf_counter() - started)


# --- the scrape -----------------------------------------------------------------------------------


class _Collectors:
    """What one scrape reads: this server's own counters, then every business collector."""

    def __init__(self, sources: Iterable):
        self.sources = list(sources)

    def collect(self) -> Iterator[Metric]:
        for source in self.sources:
            yield from source.collect()


def process_registry():
    """This server's per-request metrics: every gunicorn worker's files, or this process alone."""
    directory = multiprocess_dir()
    if directory is None:
        return REGISTRY
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=directory)
    return registry


def business_collectors() -> list:
    return [import_string(dotted)() for dotted in settings.FLASHSALE_METRICS_COLLECTORS]


class GuardedCollectors:
    """Runs each business collector once; one that raises is reported down, the others still count."""

    def __init__(self, collectors: Iterable):
        self.collectors = list(collectors)

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "flashsale_metrics_collector_up",
            "1 when the collector could read its store on this scrape.",
            labels=["collector"],
        )
        duration = GaugeMetricFamily(
            "flashsale_metrics_collector_duration_seconds",
            "Time the collector took on this scrape.",
            labels=["collector"],
        )
        for collector in self.collectors:
            name = type(collector).__name__
            started = time.perf_counter()
            try:
                families = list(collector.collect())
            except Exception as exc:  # a store that is down must not take the whole scrape with it
                log.warning("metrics collector %s failed: %s", name, type(exc).__name__)
                up.add_metric([name], 0)
            else:
                up.add_metric([name], 1)
                yield from families
            duration.add_metric([name], time.perf_counter() - started)
        yield up
        yield duration


def scrape_sources():
    """Everything ``/metrics`` shows, read now."""
    return _Collectors([process_registry(), GuardedCollectors(business_collectors())])


def bearer_token_matches(request) -> bool:
    """True when the request carries ``Authorization: Bearer <FLASHSALE_METRICS_TOKEN>`` (compared in
    constant time); never without a configured token."""
    expected = settings.FLASHSALE_METRICS_TOKEN
    if not expected:
        return False
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), expected.encode())
