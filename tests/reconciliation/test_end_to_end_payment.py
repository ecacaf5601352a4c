"""The whole payment path over real HTTP: reserve, redirect, pay at the sandbox, webhook, reconcile."""

from __future__ import annotations

import requests

from flashsale import clock
from flashsale.store import keys
from reconciliation.matching import reconcile_day
from reconciliation.models import ReconciliationRun
from reservations.models import Transaction
from tests.support.payments import open_checkout, press, reserve, txn_row
from tests.support.polling import wait_until


def test_paid_reservation_is_confirmed_by_webhook_and_reconciles_clean(sandbox, sale, make_user, redis_conn, client):
    shopper = make_user()
    checkout = reserve(sale, shopper, quantity=2)
    assert checkout.url.startswith(f"{sandbox.url}/checkout/?token=")

    browser = requests.Session()
    page = open_checkout(browser, checkout.url)
    assert page.status == 200
    assert checkout.txn_id in page.text and "99.80 EUR" in page.text
    assert set(page.forms) == {"pay", "cancel"}

    paid = press(browser, sandbox, page, "pay")
    assert paid.status_code == 303
    assert paid.headers["Location"] == f"{sandbox.site_url}/payments/return/?txn={checkout.txn_id}"

    row = wait_until(
        lambda: (r := txn_row(checkout.txn_id)) is not None and r.status == Transaction.Status.PAID and r,
        what="the webhook to mark the transaction paid",
    )
    assert row.gateway_order_id == page.order_id
    assert row.quantity == 2 and not row.paid_after_expiry
    counts = redis_conn.hgetall(keys.counts(sale.session.pk, sale.item.pk))
    assert int(counts[b"paid"]) == 2 and int(counts[b"held"]) == 0

    client.force_login(shopper)
    back = client.get("/payments/return/", {"txn": checkout.txn_id})
    assert back.status_code == 200
    assert b'data-payment-state="paid"' in back.content

    run = reconcile_day(clock.now().date())
    assert run.status == ReconciliationRun.Status.CLEAN
    assert (run.our_paid_count, run.their_paid_count, run.matched_count) == (1, 1, 1)
    assert run.our_paid_amount == run.their_paid_amount == row.amount
    assert run.discrepancies.count() == 0
