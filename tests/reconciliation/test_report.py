"""The run report in admin: totals, discrepancies by kind, CSV, the 30-day chart; re-runs and the command."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from celery.schedules import crontab
from django.conf import settings
from django.core.management import call_command

from flashsale import clock
from reconciliation.matching import reconcile_day
from reconciliation.models import Discrepancy, ReconciliationRun
from reservations.drain import drain_session
from tests.support.payments import buy, delivered


def test_report_page_csv_and_chart(sandbox, sale, make_user, admin_client):
    paid = buy(sale, make_user(), sandbox)
    delivered(sandbox, paid.order_id)
    lost = buy(sale, make_user(), sandbox, before_pay=lambda c: sandbox.add_fault("drop_webhook", txn_id=c.txn_id))
    twice = buy(sale, make_user(), sandbox, before_pay=lambda c: sandbox.add_fault("double_charge", txn_id=c.txn_id))
    delivered(sandbox, twice.order_id)
    drain_session(sale.session.pk)
    run = reconcile_day(clock.now().date())
    assert sorted(run.discrepancies.values_list("kind", flat=True)) == ["missing_here", "paid_twice"]
    assert run.our_paid_count == 2 and run.their_paid_count == 4 and run.matched_count == 1

    page = admin_client.get(f"/admin/reconciliation/reconciliationrun/{run.pk}/report/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Discrepancies found" in html and '<svg class="recon-chart"' in html
    assert 'src="http' not in html  # the chart is inline: no CDN
    assert lost.txn_id in html and twice.txn_id in html

    only_twice = admin_client.get(f"/admin/reconciliation/reconciliationrun/{run.pk}/report/", {"kind": "paid_twice"})
    assert twice.txn_id in only_twice.content.decode() and lost.txn_id not in only_twice.content.decode()

    download = admin_client.get(f"/admin/reconciliation/reconciliationrun/{run.pk}/csv/")
    assert download["Content-Type"] == "text/csv"
    rows = list(csv.DictReader(io.StringIO(b"".join(download.streaming_content).decode())))
    assert sorted((r["kind"], r["txn_id"]) for r in rows) == sorted(
        [("missing_here", lost.txn_id), ("paid_twice", twice.txn_id)]
    )
    assert {r["resolution"] for r in rows} == {"open"}

    # The run's own page is its report.
    assert admin_client.get(f"/admin/reconciliation/reconciliationrun/{run.pk}/change/").status_code == 302


def test_chart_shows_the_latest_run_of_each_day(db, clock):
    from reconciliation.report import chart_for

    today = clock.now().date()
    old = ReconciliationRun.objects.create(
        period=today - timedelta(days=3),
        started_at=clock.now(),
        status="clean",
        matched_amount=100,
        mismatched_amount=0,
    )
    ReconciliationRun.objects.create(
        period=today - timedelta(days=3),
        started_at=clock.now() + timedelta(minutes=1),
        status="discrepancies",
        matched_amount=60,
        mismatched_amount=40,
        previous_run=old,
    )
    latest = ReconciliationRun.objects.create(period=today, started_at=clock.now(), status="clean", matched_amount=50)
    chart = chart_for(latest)
    assert len(chart.bars) == 30 and chart.bars[-1].current
    three_days_ago = chart.bars[-4]
    assert (three_days_ago.matched, three_days_ago.mismatched) == (60, 40)
    assert three_days_ago.mismatched_height > 0 and chart.bars[-2].matched_height == 0


def test_rerun_links_to_the_earlier_run_and_replaces_nothing(sandbox, sale, make_user):
    day = clock.now().date()
    first = reconcile_day(day)
    second = reconcile_day(day)
    assert second.previous_run == first and first.previous_run is None
    assert ReconciliationRun.objects.filter(period=day).count() == 2


def test_reconcile_command_and_daily_schedule(sandbox, sale, make_user):
    lost = buy(sale, make_user(), sandbox, before_pay=lambda c: sandbox.add_fault("drop_webhook", txn_id=c.txn_id))
    out = io.StringIO()
    call_command("reconcile", "--date", clock.now().date().isoformat(), "--no-auto-compensate", stdout=out)
    assert "Discrepancies found" in out.getvalue() and lost.txn_id in out.getvalue()
    run = ReconciliationRun.objects.get()
    assert run.trigger == ReconciliationRun.Trigger.COMMAND
    assert run.discrepancies.get().kind == Discrepancy.Kind.MISSING_HERE

    entry = settings.CELERY_BEAT_SCHEDULE["reconciliation-previous-day"]
    assert entry["task"] == "reconciliation.tasks.reconcile_previous_day"
    hour, minute = settings.FLASHSALE_RECONCILE_AT.split(":")
    assert entry["schedule"] == crontab(hour=int(hour), minute=int(minute))


def test_beat_task_reconciles_yesterday(sandbox, sale, clock):
    from reconciliation.tasks import reconcile_previous_day

    run = ReconciliationRun.objects.get(pk=reconcile_previous_day())
    assert run.period == clock.now().date() - timedelta(days=1)
    assert run.trigger == ReconciliationRun.Trigger.SCHEDULE and run.status == ReconciliationRun.Status.CLEAN


def test_unreachable_gateway_fails_the_run_visibly(db, settings):
    settings.FLASHSALE_GATEWAY_URL = "http://127.0.0.1:18499"  # nothing listens there
    run = reconcile_day(clock.now().date())
    assert run.status == ReconciliationRun.Status.FAILED
    assert "did not answer" in run.error


def test_admin_run_now_for_a_date(sandbox, sale, admin_client, admin_user, eager_celery):
    day = clock.now().date()
    form = admin_client.get("/admin/reconciliation/reconciliationrun/run-now/")
    assert form.status_code == 200 and b'type="date"' in form.content
    future = admin_client.post(
        "/admin/reconciliation/reconciliationrun/run-now/", {"day": (day + timedelta(days=1)).isoformat()}
    )
    assert b"future" in future.content and not ReconciliationRun.objects.exists()

    done = admin_client.post("/admin/reconciliation/reconciliationrun/run-now/", {"day": day.isoformat()}, follow=True)
    assert b"is queued" in done.content
    run = ReconciliationRun.objects.get()
    assert (run.period, run.trigger, run.triggered_by) == (day, ReconciliationRun.Trigger.ADMIN, admin_user)


def test_admin_lists_render(sandbox, sale, make_user, admin_client):
    lost = buy(sale, make_user(), sandbox, before_pay=lambda c: sandbox.add_fault("drop_webhook", txn_id=c.txn_id))
    run = reconcile_day(clock.now().date())
    from reconciliation.compensation import compensate

    compensate(run.discrepancies.get())
    for url in (
        "/admin/reconciliation/reconciliationrun/",
        "/admin/reconciliation/discrepancy/?kind__exact=missing_here",
        f"/admin/reconciliation/discrepancy/?run__period={run.period.isoformat()}",
        f"/admin/reconciliation/discrepancy/{run.discrepancies.get().pk}/change/",
        "/admin/reconciliation/compensation/",
    ):
        page = admin_client.get(url)
        assert page.status_code == 200, url
        assert lost.txn_id.encode() in page.content or url.endswith("reconciliationrun/")
    assert b"Run now for a date" in admin_client.get("/admin/reconciliation/reconciliationrun/").content


def test_csv_cells_from_the_gateway_cannot_become_spreadsheet_formulas(sandbox, sale, admin_client):
    import time

    from sandbox_gateway.store import Order, Store

    now = time.time()
    Store(sandbox.db_path).insert_orders(
        [
            Order(
                order_id="ord_0bad",
                txn_id='=HYPERLINK("http://evil.example")',
                session_id=1,
                item_id=1,
                user_id=1,
                quantity=1,
                amount="1.00",
                charged_amount="1.00",
                currency="EUR",
                status="paid",
                nonce="",
                token_expires_at=int(now),
                created_at=now,
                created_date=clock.now().date().isoformat(),
                paid_at=now,
                cancelled_at=None,
                refunded_at=None,
            )
        ]
    )
    run = reconcile_day(clock.now().date())
    assert run.discrepancies.get().kind == Discrepancy.Kind.MISSING_HERE
    download = admin_client.get(f"/admin/reconciliation/reconciliationrun/{run.pk}/csv/")
    (row,) = csv.DictReader(io.StringIO(b"".join(download.streaming_content).decode()))
    assert row["txn_id"] == '\'=HYPERLINK("http://evil.example")'
