"""/metrics after a scripted sale served by gunicorn with two workers: each business figure has the
value the sale should leave, and the per-request counters of both workers add up."""

from __future__ import annotations

import json
import os
import signal
import time
from datetime import date

import pytest
import requests
from django.conf import settings
from prometheus_client.parser import text_string_to_metric_families

from flashsale import clock
from flashsale.store import keys
from flashsale.store.replies import as_str
from reconciliation.gateway import webhook_signature
from reconciliation.models import Discrepancy, ReconciliationRun
from reservations import audit, drain, waiting_room
from reservations.holds import KnownShopper, ReserveRequest, reserve
from reservations.tasks import expire_holds
from tests.support.polling import wait_until
from tests.support.shoppers import make_shoppers, open_sale, reserve_over_http

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

TOKEN = "scrape-token-for-tests"


def scrape(site) -> dict[tuple[str, frozenset], float]:
    response = requests.get(f"{site.url}/metrics", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30)
    assert response.status_code == 200, response.text
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples, name: str, **labels) -> float | None:
    return samples.get((name, frozenset((k, str(v)) for k, v in labels.items())))


def pay(site, redis_conn, session_id: int, txn_id: str, *, event_id: str) -> requests.Response:
    """The gateway's signed webhook for the reservation ``txn_id``, as the sandbox would send it."""
    txn = {as_str(k): as_str(v) for k, v in redis_conn.hgetall(keys.txn(session_id, txn_id)).items()}
    data = {
        "id": f"ord_{txn_id}",
        "txn_id": txn_id,
        "session_id": session_id,
        "item_id": int(txn["item"]),
        "user_id": int(txn["user"]),
        "quantity": int(txn["quantity"]),
        "amount": txn["amount"],
        "currency": txn["currency"],
        "status": "paid",
    }
    body = json.dumps({"id": event_id, "type": "payment.succeeded", "created": int(time.time()), "data": data}).encode()
    timestamp = str(int(time.time()))
    return requests.post(
        f"{site.url}/payments/webhook/",
        data=body,
        headers={
            "Content-Type": "application/json",
            "X-Sandbox-Timestamp": timestamp,
            "X-Sandbox-Signature": webhook_signature(settings.FLASHSALE_GATEWAY_WEBHOOK_SECRET, timestamp, body),
        },
        timeout=30,
    )


def test_metrics_after_a_scripted_sale(processes, transactional_db, redis_conn):
    site = processes.gunicorn(redis_url=settings.REDIS_URL, workers=2, FLASHSALE_METRICS_TOKEN=TOKEN)
    assert requests.get(f"{site.url}/metrics", timeout=10).status_code == 401

    sale = open_sale(quantities=(1, 3), limit=1)
    first, second = sale.items
    buyer, late, _ = make_shoppers(3, sale_ids=[sale.id])
    sid = sale.id

    # Reserve, refuse (sold out, limit), pay over HTTP.
    bought = reserve_over_http(buyer.browser(), site.url, sid, first.pk, user_id=buyer.user_id)
    assert bought.status == 303
    assert reserve_over_http(late.browser(), site.url, sid, first.pk, user_id=late.user_id).status == 409
    held = reserve_over_http(buyer.browser(), site.url, sid, second.pk, user_id=buyer.user_id)
    assert held.status == 303
    assert reserve_over_http(buyer.browser(), site.url, sid, second.pk, user_id=buyer.user_id).status == 403
    assert pay(site, redis_conn, sid, bought.txn_id, event_id="evt_paid").status_code == 200
    assert pay(site, redis_conn, sid, bought.txn_id, event_id="evt_paid").status_code == 409  # a replay

    # A hold whose time has run out, waiting for the expiry job.
    expiring = reserve(
        ReserveRequest(
            session_id=sid,
            item_id=second.pk,
            quantity=1,
            now=time.time(),
            shopper=KnownShopper(user_id=late.user_id, txn_id="01JEXPIRING000000000000001"),
            ttl_seconds=1,
        )
    )
    wait_until(
        lambda: value(scrape(site), "flashsale_expiry_backlog_holds", session=sid) == 1,
        what="the expired hold in the expiry backlog",
        timeout=20,
    )
    samples = scrape(site)
    assert value(samples, "flashsale_expiry_oldest_overdue_seconds", session=sid) > 0
    assert value(samples, "flashsale_sale_units", session=sid, item=second.pk, state="held") == 2
    assert expire_holds() == 1
    assert expiring.txn_id

    # The waiting room: a rate set, admissions paused, one shopper waiting.
    waiting_room.set_admission_rate(sid, 2.5)
    waiting_room.pause_admissions(sid, True)
    waiting_room.enter_waiting_room(sid, late.user_id)

    # The stock audit: balanced, then one unit too many in the second item's list.
    assert audit.audit_session(sid).ok
    samples = scrape(site)
    assert value(samples, "flashsale_audit_balanced", session=sid) == 1
    assert value(samples, "flashsale_audit_drift_units", session=sid, item=second.pk) == 0
    redis_conn.rpush(keys.stock(sid, second.pk), f"{second.pk}:stray")
    assert not audit.audit_session(sid).ok

    # Reconciliation found one payment missing here.
    run = ReconciliationRun.objects.create(
        period=date.today(),
        started_at=clock.now(),
        finished_at=clock.now(),
        status=ReconciliationRun.Status.DISCREPANCIES,
    )
    Discrepancy.objects.create(run=run, kind=Discrepancy.Kind.MISSING_HERE, txn_id="01JMISSING")

    samples = scrape(site)
    figures = {
        ("flashsale_sale_units", "remaining", first.pk): 0,
        ("flashsale_sale_units", "held", first.pk): 0,
        ("flashsale_sale_units", "paid", first.pk): 1,
        ("flashsale_sale_units", "remaining", second.pk): 3,  # 3 - 1 held + 1 stray unit
        ("flashsale_sale_units", "held", second.pk): 1,
        ("flashsale_sale_units", "paid", second.pk): 0,
    }
    for (name, state, item), expected in figures.items():
        assert value(samples, name, session=sid, item=item, state=state) == expected, (name, state, item)
    assert value(samples, "flashsale_sale_units_on_sale", session=sid, item=second.pk) == 3
    assert value(samples, "flashsale_sale_units_returned_total", session=sid, item=second.pk) == 1
    # Reservations made are counted by the drainer (the per-minute timeline): none drained yet.
    assert value(samples, "flashsale_sale_reservations_total", session=sid) == 0
    # The sold-out click was refused by Redis, or from the serving worker's sold-out memory if that
    # worker had already seen the item at 0 (then Redis never heard of it): one refusal either way.
    refused_by_redis = value(samples, "flashsale_sale_refusals_total", session=sid, item=first.pk, reason="sold_out")
    refused_from_memory = value(samples, "flashsale_sale_refusals_from_memory_total", session=sid, item=first.pk) or 0
    assert refused_by_redis + refused_from_memory == 1
    assert value(samples, "flashsale_sale_refusals_total", session=sid, item=second.pk, reason="limit") == 1
    assert value(samples, "flashsale_sale_refusals_total", session=sid, item=second.pk, reason="sold_out") == 0
    assert value(samples, "flashsale_expiry_backlog_holds", session=sid) == 0
    assert value(samples, "flashsale_waiting_room_length", session=sid) == 1
    assert value(samples, "flashsale_waiting_room_admission_rate", session=sid) == 2.5
    assert value(samples, "flashsale_waiting_room_paused", session=sid) == 1
    assert value(samples, "flashsale_waiting_room_admitted_total", session=sid) == 0
    assert value(samples, "flashsale_audit_balanced", session=sid) == 0
    assert value(samples, "flashsale_audit_drift_units", session=sid, item=second.pk) == 1
    assert value(samples, "flashsale_audit_drifting_sessions") == 1
    assert value(samples, "flashsale_reconciliation_discrepancies", kind="missing_here", resolution="open") == 1
    assert value(samples, "flashsale_reconciliation_discrepancies", kind="paid_twice", resolution="open") == 0
    # Events: 3 reserved, 1 paid, 1 expired, none persisted yet.
    assert value(samples, "flashsale_drain_pending_events", session=sid) == 5
    assert value(samples, "flashsale_drain_oldest_event_age_seconds", session=sid) > 0
    # Counted by whichever worker served the request, added up across both.
    assert value(samples, "flashsale_webhook_outcomes_total", outcome="paid") == 1
    assert value(samples, "flashsale_webhook_outcomes_total", outcome="replayed") == 1
    reserve_counts = {
        status: value(
            samples,
            "flashsale_http_request_duration_seconds_count",
            route="reservations-reserve",
            method="POST",
            status=status,
        )
        for status in (303, 409, 403)
    }
    assert reserve_counts == {303: 2, 409: 1, 403: 1}
    assert value(samples, "flashsale_metrics_collector_up", collector="SaleStockCollector") == 1

    # Admitted once resumed; drained, nothing is pending.
    waiting_room.pause_admissions(sid, False)
    # 2.5 admissions a second: the bucket fills within half a second of polling.
    wait_until(
        lambda: (
            waiting_room.poll_waiting_room(sid, late.user_id) and waiting_room.waiting_room_stats(sid)["admitted"] == 1
        ),
        what="the waiting shopper to be admitted",
    )
    assert drain.drain_session(sid) == 5
    samples = scrape(site)
    assert value(samples, "flashsale_waiting_room_length", session=sid) == 0
    assert value(samples, "flashsale_waiting_room_admitted_total", session=sid) == 1
    assert value(samples, "flashsale_drain_pending_events", session=sid) == 0
    assert value(samples, "flashsale_drain_oldest_event_age_seconds", session=sid) == 0
    assert value(samples, "flashsale_sale_reservations_total", session=sid) == 3

    # Whichever worker answers the scrape reports both workers' counts, also after one was killed
    # and replaced (a dead worker's counters stay in the sums; totals never go backwards).
    def reserve_count(samples) -> float:
        return sum(
            count
            for (name, labels), count in samples.items()
            if name == "flashsale_http_request_duration_seconds_count" and ("route", "reservations-reserve") in labels
        )

    assert {reserve_count(scrape(site)) for _ in range(4)} == {4}
    victim = sorted(site.worker_pids())[0]
    os.kill(victim, signal.SIGKILL)
    site.wait_workers(other_than={victim})
    assert {reserve_count(scrape(site)) for _ in range(4)} == {4}
