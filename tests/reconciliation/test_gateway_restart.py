"""The sandbox keeps pending webhooks in its storage: a restart delivers them."""

from __future__ import annotations

from reservations.models import Transaction
from tests.support.payments import buy, delivered, txn_row
from tests.support.polling import wait_until


def test_pending_webhook_survives_a_gateway_restart(sandbox, sale, make_user):
    purchase = buy(
        sale,
        make_user(),
        sandbox,
        before_pay=lambda c: sandbox.add_fault("late_webhook", txn_id=c.txn_id, delay_seconds=3),
    )
    # Stopped well before the delivery falls due: only the restarted process can deliver it.
    sandbox.stop()
    assert txn_row(purchase.txn_id) is None or txn_row(purchase.txn_id).status == Transaction.Status.RESERVED
    sandbox.start()

    wait_until(
        lambda: (r := txn_row(purchase.txn_id)) is not None and r.status == Transaction.Status.PAID,
        what="the restarted gateway to deliver the webhook",
    )
    (delivery,) = delivered(sandbox, purchase.order_id)
    assert delivery["attempts"] == 1 and delivery["last_status"] == 200


def test_webhook_is_retried_until_we_answer(sandbox, sale, make_user, settings):
    # Our side cannot verify while the secrets disagree (a rotation gone wrong): 401, and the gateway retries.
    shared = settings.FLASHSALE_GATEWAY_WEBHOOK_SECRET
    settings.FLASHSALE_GATEWAY_WEBHOOK_SECRET = "rotated-too-early"
    purchase = buy(sale, make_user(), sandbox)
    wait_until(
        lambda: any(d["attempts"] >= 2 and d["last_status"] == 401 for d in sandbox.deliveries()),
        what="failed attempts to be retried",
    )
    settings.FLASHSALE_GATEWAY_WEBHOOK_SECRET = shared
    wait_until(
        lambda: (r := txn_row(purchase.txn_id)) is not None and r.status == Transaction.Status.PAID,
        what="a retry to succeed",
    )
