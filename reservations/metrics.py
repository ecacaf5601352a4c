"""What operators watch during a sale, as Prometheus metrics read once per scrape (never per request).

``SaleStockCollector``, per session loaded in Redis and item: units remaining / held / paid, units on
sale (allocated + adjustments), units returned to the list, refusals by reason; per session:
reservations made. Read with the admin live page's pipelined reads (``plans.stock``).

``SaleOperationsCollector``, per loaded session: drain lag (stream events not yet persisted, age of
the oldest), the expiry backlog (holds past their expiry the job has not released yet, age of the
oldest), the waiting room (length, admissions so far, the operators' rate, paused), and the latest
stock audit (drift per item, balanced or not, its age); site-wide: sessions whose latest audit
found drift.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from flashsale.store import keys
from flashsale.store.client import sale_redis
from flashsale.store.replies import as_int, as_str, text
from plans.stock import session_counts
from reservations.availability import loaded_session_ids
from reservations.drain import drain_lag, redis_now

REFUSAL_REASONS = ("sold_out", "limit", "rate_limited", "closed")


class SaleStockCollector:
    def collect(self) -> Iterator[Metric]:
        info = GaugeMetricFamily(
            "flashsale_sale_session_info",
            "A session loaded in Redis (1), with its name and state.",
            labels=["session", "name", "state"],
        )
        units = GaugeMetricFamily(
            "flashsale_sale_units",
            "Units of an item: remaining in the stock list, held by unpaid reservations, paid.",
            labels=["session", "item", "state"],
        )
        on_sale = GaugeMetricFamily(
            "flashsale_sale_units_on_sale",
            "Units the item may sell: allocated plus adjustments.",
            labels=["session", "item"],
        )
        returned = CounterMetricFamily(
            "flashsale_sale_units_returned",
            "Units given back to the list (expired or cancelled holds).",
            labels=["session", "item"],
        )
        refusals = CounterMetricFamily(
            "flashsale_sale_refusals", "Reserve requests refused, by reason.", labels=["session", "item", "reason"]
        )
        reservations = CounterMetricFamily(
            "flashsale_sale_reservations",
            "Reservations made in the session, as the drainer persisted them (the per-minute timeline).",
            labels=["session"],
        )
        r = sale_redis()
        for session_id in loaded_session_ids():
            # One slot per session: these two reads may share a pipeline on a cluster too.
            pipe = r.pipeline(transaction=False)
            pipe.hmget(keys.session(session_id), "name", "state")
            pipe.hvals(keys.timeline(session_id))
            (name, state), minutes = pipe.execute()
            sid = str(session_id)
            info.add_metric([sid, as_str(name) or "", as_str(state) or ""], 1)
            reservations.add_metric([sid], sum(as_int(count) for count in minutes))
            for item_id, counts in sorted(session_counts(session_id).items()):
                iid = str(item_id)
                units.add_metric([sid, iid, "remaining"], counts.remaining)
                units.add_metric([sid, iid, "held"], counts.held)
                units.add_metric([sid, iid, "paid"], counts.paid)
                on_sale.add_metric([sid, iid], counts.on_sale)
                returned.add_metric([sid, iid], counts.returned)
                for reason in REFUSAL_REASONS:
                    refusals.add_metric([sid, iid, reason], getattr(counts, f"rejected_{reason}"))
        yield from (info, units, on_sale, returned, refusals, reservations)


# The per-session gauges of SaleOperationsCollector: name -> help text (labelled by session).
SESSION_GAUGES = {
    "pending": ("flashsale_drain_pending_events", "Reservation stream events not yet persisted to PostgreSQL."),
    "lag": ("flashsale_drain_oldest_event_age_seconds", "Age of the oldest event not yet persisted (0 if none)."),
    "backlog": ("flashsale_expiry_backlog_holds", "Holds past their expiry that the expiry job has not released."),
    "overdue": ("flashsale_expiry_oldest_overdue_seconds", "How long the oldest expired hold has waited (0 if none)."),
    "waiting": ("flashsale_waiting_room_length", "Shoppers waiting (pre-queue and queue)."),
    "rate": ("flashsale_waiting_room_admission_rate", "Admissions per second the operators set (0: all at once)."),
    "paused": ("flashsale_waiting_room_paused", "1 while admissions are paused."),
    "balanced": ("flashsale_audit_balanced", "1 when the session's latest stock audit balanced."),
    "audit_age": ("flashsale_audit_age_seconds", "Seconds since the session's latest stock audit."),
}


class SaleOperationsCollector:
    def collect(self) -> Iterator[Metric]:
        families: dict[str, Metric] = {
            key: GaugeMetricFamily(name, help_text, labels=["session"])
            for key, (name, help_text) in SESSION_GAUGES.items()
        }
        families["admitted"] = CounterMetricFamily(
            "flashsale_waiting_room_admitted", "Shoppers admitted so far.", labels=["session"]
        )
        families["drift"] = GaugeMetricFamily(
            "flashsale_audit_drift_units",
            "Latest stock audit: units accounted for minus units on sale, per item (0 when balanced).",
            labels=["session", "item"],
        )
        r = sale_redis()
        now = redis_now(r)
        for session_id in loaded_session_ids():
            self._session(r, session_id, now, families)
        drifting = GaugeMetricFamily(
            "flashsale_audit_drifting_sessions", "Sessions whose latest stock audit found drift (the admin banner)."
        )
        drifting.add_metric([], r.zcard(keys.audit_alerts()))
        yield from families.values()
        yield drifting

    @staticmethod
    def _session(r: Any, session_id: int, now: float, families: dict[str, Any]) -> None:
        sid = str(session_id)
        stream_lag = drain_lag(session_id, now=now, client=r)
        families["pending"].add_metric([sid], stream_lag.pending)
        families["lag"].add_metric([sid], stream_lag.oldest_age)

        pipe = r.pipeline(transaction=False)
        pipe.zcount(keys.holds(session_id), "-inf", now)
        pipe.zrange(keys.holds(session_id), 0, 0, withscores=True)
        pipe.hmget(keys.waiting(session_id), "admitted", "rate", "paused")
        pipe.zcard(keys.waiting_pre(session_id))
        pipe.zcard(keys.waiting_queue(session_id))
        pipe.get(keys.audit(session_id))
        due, first_hold, (admitted, rate_text, paused_flag), pre, queue, report = pipe.execute()

        first_expiry = first_hold[0][1] if first_hold else None
        families["backlog"].add_metric([sid], due)
        families["overdue"].add_metric([sid], max(0.0, now - first_expiry) if due and first_expiry is not None else 0.0)
        families["waiting"].add_metric([sid], pre + queue)
        families["admitted"].add_metric([sid], as_int(admitted))
        rate = as_str(rate_text)
        families["rate"].add_metric([sid], float(rate) if rate else settings.FLASHSALE_WAITING_ROOM_DEFAULT_RATE)
        families["paused"].add_metric([sid], 1 if as_str(paused_flag) == "1" else 0)
        if report:
            data = json.loads(text(report))
            families["balanced"].add_metric([sid], 1 if data.get("ok") else 0)
            families["audit_age"].add_metric([sid], max(0.0, now - float(data.get("checked_at", now))))
            for item in data.get("items", []):
                families["drift"].add_metric([sid, str(item["item_id"])], item.get("drift", 0))
