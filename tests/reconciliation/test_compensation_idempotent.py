"""Compensations happen once: a second press, a second operator or a re-run's discrepancy repeat nothing."""

from __future__ import annotations

import pytest
from django.db import IntegrityError

from flashsale import clock
from reconciliation.compensation import compensate
from reconciliation.matching import reconcile_day
from reconciliation.models import Compensation, Discrepancy
from tests.support.payments import buy


@pytest.fixture
def lost_payment(sandbox, sale, make_user):
    """A paid order whose webhook was dropped, and the run that found it."""
    purchase = buy(sale, make_user(), sandbox, before_pay=lambda c: sandbox.add_fault("drop_webhook", txn_id=c.txn_id))
    run = reconcile_day(clock.now().date())
    return purchase, run.discrepancies.get(kind=Discrepancy.Kind.MISSING_HERE)


def test_pressing_twice_refunds_once(sandbox, lost_payment, admin_user):
    purchase, discrepancy = lost_payment
    first = compensate(discrepancy, user=admin_user)
    second = compensate(discrepancy, user=admin_user)
    assert [r.done for r in first] == [True] and [r.done for r in second] == [False]
    compensation = Compensation.objects.get()
    assert compensation.created_by == admin_user and not compensation.automatic
    assert compensation.amount == discrepancy.amount
    assert sandbox.order(purchase.order_id)["status"] == "refunded"


def test_the_database_refuses_a_second_refund_of_the_same_discrepancy(lost_payment):
    _, discrepancy = lost_payment
    compensate(discrepancy)
    with pytest.raises(IntegrityError):
        Compensation.objects.create(
            discrepancy=discrepancy, kind=Compensation.Kind.REFUND, txn_id="other", created_at=clock.now()
        )


def test_a_rerun_before_the_refund_does_not_refund_again(sandbox, lost_payment):
    purchase, discrepancy = lost_payment
    rerun = reconcile_day(clock.now().date())
    again = rerun.discrepancies.get()
    assert rerun.previous_run_id == discrepancy.run_id and again.txn_id == discrepancy.txn_id
    compensate(discrepancy)
    results = compensate(again)
    assert [r.done for r in results] == [False]
    assert results[0].compensation.discrepancy_id == discrepancy.pk
    assert Compensation.objects.count() == 1
    assert again.resolution == Discrepancy.Resolution.COMPENSATED


def test_admin_action_asks_for_confirmation_then_compensates_once(sandbox, lost_payment, admin_client, admin_user):
    purchase, discrepancy = lost_payment
    url = "/admin/reconciliation/discrepancy/"
    form = {"action": "compensate_selected", "_selected_action": [discrepancy.pk]}

    confirm_page = admin_client.post(url, form)
    assert confirm_page.status_code == 200
    assert b"Yes, compensate" in confirm_page.content and discrepancy.txn_id.encode() in confirm_page.content
    assert Compensation.objects.count() == 0 and sandbox.order(purchase.order_id)["status"] == "paid"

    done = admin_client.post(url, {**form, "confirm": "yes"}, follow=True)
    assert b"1 compensation(s) done" in done.content
    again = admin_client.post(url, {**form, "confirm": "yes"}, follow=True)
    assert b"0 compensation(s) done, 1 already done" in again.content
    assert Compensation.objects.get().created_by == admin_user
    assert sandbox.order(purchase.order_id)["status"] == "refunded"


def test_report_offers_the_compensation_of_open_discrepancies(sandbox, lost_payment, admin_client):
    purchase, discrepancy = lost_payment
    report = admin_client.get(f"/admin/reconciliation/reconciliationrun/{discrepancy.run_id}/report/").content.decode()
    assert 'action="/admin/reconciliation/discrepancy/"' in report
    assert f'name="_selected_action" value="{discrepancy.pk}"' in report
    # What the report's button posts is the admin action: it asks for confirmation first.
    confirm = admin_client.post(
        "/admin/reconciliation/discrepancy/", {"action": "compensate_selected", "_selected_action": [discrepancy.pk]}
    )
    assert b"Yes, compensate" in confirm.content and not Compensation.objects.exists()


@pytest.mark.parametrize(("auto", "refunded"), [(["missing_here"], True), ([], False), (["paid_after_expiry"], False)])
def test_automatic_compensation_follows_the_setting(sandbox, sale, make_user, settings, auto, refunded):
    settings.FLASHSALE_AUTO_COMPENSATE = auto
    purchase = buy(sale, make_user(), sandbox, before_pay=lambda c: sandbox.add_fault("drop_webhook", txn_id=c.txn_id))
    run = reconcile_day(clock.now().date())
    discrepancy = run.discrepancies.get()
    assert (discrepancy.resolution == Discrepancy.Resolution.COMPENSATED) is refunded
    assert (sandbox.order(purchase.order_id)["status"] == "refunded") is refunded
    assert Compensation.objects.filter(automatic=True).count() == int(refunded)
