"""The whole Stripe money path against localstripe, over real HTTP with the real ``stripe`` client:
our pay page makes the PaymentIntent, the card is confirmed as Stripe.js would, localstripe posts
its signed webhook to the live server, and the day's reconciliation lists localstripe's intents."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import requests
from django.conf import settings

from flashsale import clock
from flashsale.store import keys
from reconciliation.matching import reconcile_day
from reconciliation.models import Compensation, Discrepancy, ReconciliationRun
from reconciliation.payments import payment_status
from reservations import holds
from reservations.drain import drain_session
from reservations.models import Transaction
from tests.support.pay_page import read_pay_page
from tests.support.payments import Checkout, reserve
from tests.support.polling import wait_until

pytestmark = pytest.mark.slow

Kind = Discrepancy.Kind


def open_pay_page(live_server, held: Checkout):
    response = requests.get(f"{live_server.url}{held.url}", timeout=10)
    page = read_pay_page(response.status_code, response.text)
    assert page.status == 200, page.text
    return page


def row_when(txn_id: str, condition, what: str) -> Transaction:
    return wait_until(
        lambda: (row := Transaction.objects.filter(txn_id=txn_id).first()) is not None and condition(row) and row,
        what=what,
    )


def refunds_at(localstripe) -> list[dict]:
    response = localstripe.api.get(f"{localstripe.url}/v1/refunds", params={"limit": 100}, timeout=5)
    assert response.status_code == 200, response.text
    return response.json()["data"]


def test_a_card_payment_is_confirmed_by_localstripes_webhook_and_the_day_reconciles_clean(
    localstripe_webhooks, live_server, sale, make_user, redis_conn, client
):
    shopper = make_user()
    held = reserve(sale, shopper, quantity=2)
    page = open_pay_page(live_server, held)
    assert "Pay 99.80 EUR" in page.text

    confirmed = localstripe_webhooks.confirm_card(page.client_secret)

    assert confirmed.status_code == 200 and confirmed.json()["status"] == "succeeded"
    row = row_when(held.txn_id, lambda r: r.status == Transaction.Status.PAID, "localstripe's webhook to mark it paid")
    assert (row.gateway_order_id, row.quantity, row.paid_after_expiry) == (page.intent_id, 2, False)
    counts = redis_conn.hgetall(keys.counts(sale.session.pk, sale.item.pk))
    assert (int(counts[b"paid"]), int(counts[b"held"])) == (2, 0)
    client.force_login(shopper)
    back = client.get(page.return_url)
    assert b'data-payment-state="paid"' in back.content and b"Payment confirmed" in back.content

    run = reconcile_day(clock.now().date())

    assert run.gateway == "stripe" and run.status == ReconciliationRun.Status.CLEAN, run.error
    assert (run.our_paid_count, run.their_paid_count, run.matched_count) == (1, 1, 1)
    assert run.our_paid_amount == run.their_paid_amount == row.amount


def test_a_payment_after_expiry_is_recorded_never_oversold_and_refunded_by_the_reconciliation(
    localstripe_webhooks, live_server, sale, make_user, redis_conn, clock
):
    shopper = make_user()
    held = reserve(sale, shopper)
    page = open_pay_page(live_server, held)
    # The shopper dawdles on the pay page past the hold's expiry, then pays.
    clock.advance(seconds=settings.FLASHSALE_RESERVATION_TTL_SECONDS + 1)

    assert localstripe_webhooks.confirm_card(page.client_secret).json()["status"] == "succeeded"

    row = row_when(held.txn_id, lambda r: r.paid_after_expiry, "the late payment to be recorded")
    assert row.status == Transaction.Status.PAID_AFTER_EXPIRY and row.gateway_order_id == page.intent_id
    # Never an oversell: the unit went back on sale, nothing counts as paid.
    counts = redis_conn.hgetall(keys.counts(sale.session.pk, sale.item.pk))
    assert (int(counts[b"paid"]), int(counts[b"held"])) == (0, 0)
    assert redis_conn.llen(keys.stock(sale.session.pk, sale.item.pk)) == sale.item.quantity

    run = reconcile_day(clock.now().date())

    [late] = run.discrepancies.all()
    assert (late.kind, late.txn_id, late.gateway_order_id) == (Kind.PAID_AFTER_EXPIRY, held.txn_id, page.intent_id)
    late.refresh_from_db()
    assert late.resolution == Discrepancy.Resolution.COMPENSATED
    [refund] = Compensation.objects.filter(txn_id=held.txn_id)
    assert (refund.kind, refund.automatic, str(refund.amount), refund.currency) == ("refund", True, "49.90", "EUR")
    assert localstripe_webhooks.intent(page.intent_id)["latest_charge"]["refunded"] is True
    assert len(refunds_at(localstripe_webhooks)) == 1
    assert Transaction.objects.get(txn_id=held.txn_id).status == Transaction.Status.REFUNDED

    # The day reconciled again: Stripe now lists it refunded, nothing is refunded twice.
    again = reconcile_day(clock.now().date())
    assert again.status == ReconciliationRun.Status.CLEAN and again.previous_run == run
    assert len(refunds_at(localstripe_webhooks)) == 1
    assert Compensation.objects.filter(txn_id=held.txn_id).count() == 1


def test_the_days_reconciliation_against_localstripe_finds_injected_mismatches(
    localstripe_webhooks, live_server, sale, make_user, clock
):
    stripe_api = localstripe_webhooks.api
    base = localstripe_webhooks.url
    shopper = make_user()
    # A: paid as it should be.
    matched = reserve(sale, shopper)
    localstripe_webhooks.confirm_card(open_pay_page(live_server, matched).client_secret)
    row_when(matched.txn_id, lambda r: r.status == Transaction.Status.PAID, "A to be paid")
    # B: our side says paid, but the intent at Stripe was never paid.
    unpaid = reserve(sale, make_user())
    unpaid_intent = open_pay_page(live_server, unpaid).intent_id
    holds.confirm_payment(
        sale.session.pk, unpaid.txn_id, gateway_order_id=unpaid_intent, amount="49.90", now=clock.now()
    )
    # C: paid at Stripe for one euro, not our 49.90 (an intent made past our pay page).
    cheap = reserve(sale, make_user())
    injected = stripe_api.post(
        f"{base}/v1/payment_intents",
        data={"amount": "100", "currency": "eur", "metadata[txn_id]": cheap.txn_id, "metadata[units]": "1"},
        timeout=5,
    ).json()
    localstripe_webhooks.confirm_card(injected["client_secret"])
    # D: another integration's payment on the same account (no TransactionID): not ours, not counted.
    foreign = stripe_api.post(f"{base}/v1/payment_intents", data={"amount": "700", "currency": "eur"}, timeout=5)
    localstripe_webhooks.confirm_card(foreign.json()["client_secret"])
    wait_until(
        lambda: (
            len(localstripe_webhooks.intents()) == 4
            and all(i["status"] != "processing" for i in localstripe_webhooks.intents())
        ),
        what="four intents at localstripe",
    )
    # The drainer persists the reservations as the beat job would (C's row says reserved).
    drain_session(sale.session.pk)
    wait_until(
        lambda: payment_status(cheap.txn_id).state == "amount_mismatch", what="C's webhook to refuse the wrong amount"
    )

    run = reconcile_day(clock.now().date())

    assert run.status == ReconciliationRun.Status.DISCREPANCIES, run.error
    assert sorted(run.discrepancies.values_list("kind", "txn_id")) == sorted(
        [(Kind.MISSING_AT_GATEWAY, unpaid.txn_id), (Kind.AMOUNT_MISMATCH, cheap.txn_id)]
    )
    mismatch = run.discrepancies.get(kind=Kind.AMOUNT_MISMATCH)
    assert (str(mismatch.amount), mismatch.gateway_order_id) == ("1.00", injected["id"])
    assert (run.their_count, run.their_paid_count, run.matched_count) == (3, 2, 1)

    # localstripe ignores the listing's `created` range: the day is filtered on our side.
    yesterday = reconcile_day(clock.now().date() - timedelta(days=1))
    assert (yesterday.status, yesterday.their_count) == (ReconciliationRun.Status.CLEAN, 0)


def test_a_webhook_that_never_arrives_is_caught_by_the_days_reconciliation(localstripe, sale, make_user, client, clock):
    # localstripe sends each event once; here it sends none (Stripe would retry, then give up).
    held = reserve(sale, make_user())
    response = client.get(held.url)
    page = read_pay_page(response.status_code, response.content.decode())
    assert localstripe.confirm_card(page.client_secret).json()["status"] == "succeeded"
    drain_session(sale.session.pk)
    assert Transaction.objects.get(txn_id=held.txn_id).status == Transaction.Status.RESERVED

    run = reconcile_day(clock.now().date())

    [missed] = run.discrepancies.all()
    assert (missed.kind, missed.txn_id, missed.gateway_order_id) == (Kind.MISSING_HERE, held.txn_id, page.intent_id)
    assert (run.their_paid_count, run.our_paid_count) == (1, 0)


def test_concurrent_first_views_of_the_pay_page_make_one_intent(localstripe, live_server, sale, make_user):
    held = reserve(sale, make_user())
    url = f"{live_server.url}{held.url}"
    start = threading.Barrier(6)

    def view(_):
        start.wait()
        response = requests.get(url, timeout=20)
        return read_pay_page(response.status_code, response.text)

    with ThreadPoolExecutor(max_workers=6) as pool:
        pages = list(pool.map(view, range(6)))

    assert {page.status for page in pages} <= {200, 202}
    assert len({page.client_secret for page in pages if page.status == 200}) == 1
    [intent] = localstripe.intents()
    # Whoever was asked to wait finds the same intent when its page refreshes.
    again = requests.get(url, timeout=20)
    assert read_pay_page(again.status_code, again.text).intent_id == intent["id"]
