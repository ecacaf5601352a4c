"""Stripe's webhook: verified with the stripe package's signature check, then through the same atomic
pay path as the sandbox's. Forged, stale or unsigned deliveries are refused and write nothing; a
replay of an event id is acknowledged (Stripe would retry anything else) and changes nothing.

The events are shaped from real PaymentIntents and charges of localstripe and signed here the way
Stripe signs (``stripe.WebhookSignature.generate_signature_header``): a forgery needs a body we
choose, and localstripe sends only ``payment_intent.succeeded`` and ``payment_failed`` itself.
"""

from __future__ import annotations

import json
import time
from itertools import count

import pytest
import requests
import stripe
from django.urls import reverse

from flashsale.store import keys
from flashsale.store.replies import as_str
from reconciliation.gateway import get_gateway
from reservations import holds
from reservations.models import Transaction
from tests.support.pay_page import read_pay_page
from tests.support.payments import Checkout, reserve

_ids = count(1)


def event_body(event_type: str, obj: dict, *, event_id: str | None = None) -> bytes:
    return json.dumps(
        {
            "id": event_id or f"evt_test_{time.time_ns()}_{next(_ids)}",
            "object": "event",
            "type": event_type,
            "created": int(time.time()),
            "data": {"object": obj},
        }
    ).encode()


def signed(body: bytes, secret: str, *, timestamp: int | None = None) -> str:
    return stripe.WebhookSignature.generate_signature_header(body.decode(), secret, timestamp)


def deliver(client, body: bytes, signature: str | None):
    headers = {} if signature is None else {"HTTP_STRIPE_SIGNATURE": signature}
    return client.post(reverse("stripe_webhook"), body, content_type="application/json", **headers)


def counts(redis_conn, sale) -> dict[str, int]:
    raw = redis_conn.hgetall(keys.counts(sale.session.pk, sale.item.pk))
    return {as_str(k): int(v) for k, v in raw.items()}


def status_of(sale, held: Checkout) -> str:
    return holds.transaction_state(sale.session.pk, held.txn_id)["status"]


@pytest.fixture
def shopper(make_user):
    return make_user()


def intent_for(client, localstripe, held: Checkout, *, card: str | None = None) -> dict:
    """Open the pay page (the PaymentIntent is made there), pay with ``card`` if given, read the intent."""
    response = client.get(held.url)
    page = read_pay_page(response.status_code, response.content.decode())
    assert page.status == 200, page.text
    if card is not None:
        localstripe.confirm_card(page.client_secret, card=card)
    return localstripe.intent(page.intent_id)


def test_a_signed_success_confirms_the_hold_and_its_replay_changes_nothing(
    localstripe, sale, client, shopper, redis_conn
):
    held = reserve(sale, shopper, quantity=2)
    intent = intent_for(client, localstripe, held, card=localstripe.CARD)
    assert intent["status"] == "succeeded"
    body = event_body("payment_intent.succeeded", intent)
    signature = signed(body, localstripe.WEBHOOK_SECRET)

    first = deliver(client, body, signature)

    assert first.status_code == 200, first.content
    assert first.json()["outcome"] == "paid" and first.json()["changed"] is True
    assert status_of(sale, held) == "paid"
    row = Transaction.objects.get(txn_id=held.txn_id)
    assert (row.status, row.gateway_order_id, row.quantity) == (Transaction.Status.PAID, intent["id"], 2)
    figures = counts(redis_conn, sale)
    assert (figures["paid"], figures["held"]) == (2, 0)
    stream_length = redis_conn.xlen(keys.stream(sale.session.pk))

    again = deliver(client, body, signature)

    assert again.status_code == 200 and again.json()["error"] == "replayed"
    assert counts(redis_conn, sale) == figures
    assert redis_conn.xlen(keys.stream(sale.session.pk)) == stream_length
    assert Transaction.objects.get(txn_id=held.txn_id).updated_at == row.updated_at


@pytest.mark.parametrize("forgery", ["wrong_secret", "other_body", "stale", "unsigned", "garbled_header"])
def test_a_forged_stale_or_unsigned_event_is_refused_and_writes_nothing(
    localstripe, sale, client, shopper, redis_conn, settings, forgery
):
    held = reserve(sale, shopper)
    intent = intent_for(client, localstripe, held, card=localstripe.CARD)
    body = event_body("payment_intent.succeeded", intent, event_id="evt_forged")
    signature = {
        "wrong_secret": signed(body, "whsec_not_ours"),
        "other_body": signed(event_body("payment_intent.succeeded", {"id": "pi_x"}), localstripe.WEBHOOK_SECRET),
        "stale": signed(
            body,
            localstripe.WEBHOOK_SECRET,
            timestamp=int(time.time()) - settings.FLASHSALE_WEBHOOK_TOLERANCE_SECONDS - 5,
        ),
        "unsigned": None,
        "garbled_header": "t=soon,v9=nothing",
    }[forgery]
    before = counts(redis_conn, sale)

    response = deliver(client, body, signature)

    assert response.status_code == 401
    expected = {"stale": "stale", "unsigned": "missing_headers"}.get(forgery, "bad_signature")
    assert response.json()["error"] == expected
    assert status_of(sale, held) == "reserved"
    assert counts(redis_conn, sale) == before
    assert not Transaction.objects.filter(txn_id=held.txn_id).exists()
    assert redis_conn.get(keys.webhook_event("evt_forged")) is None
    assert redis_conn.exists(keys.payment_result(held.txn_id)) == 0


def test_a_signed_body_that_is_not_an_event_is_refused(localstripe, db, client):
    body = b'{"not": "an event"}'
    response = deliver(client, body, signed(body, localstripe.WEBHOOK_SECRET))
    assert response.status_code == 400 and response.json()["error"] == "malformed"


def test_a_payment_intent_that_is_not_ours_is_acknowledged_and_ignored(localstripe, db, client):
    # Another integration on the same Stripe account: no TransactionID in its metadata.
    foreign = requests.post(
        f"{localstripe.url}/v1/payment_intents",
        data={"amount": "700", "currency": "eur"},
        auth=(localstripe.SECRET_KEY, ""),
        timeout=5,
    ).json()
    body = event_body("payment_intent.succeeded", foreign)

    response = deliver(client, body, signed(body, localstripe.WEBHOOK_SECRET))

    assert response.status_code == 200 and response.json()["outcome"] == "ignored"
    assert Transaction.objects.count() == 0


def test_a_declined_card_leaves_the_hold_to_expire(localstripe, sale, client, shopper, redis_conn):
    held = reserve(sale, shopper)
    intent = intent_for(client, localstripe, held, card=localstripe.DECLINED_CARD)
    assert intent["status"] == "requires_payment_method"
    body = event_body("payment_intent.payment_failed", intent)

    response = deliver(client, body, signed(body, localstripe.WEBHOOK_SECRET))

    assert response.status_code == 200 and response.json()["outcome"] == "left_to_expire"
    assert status_of(sale, held) == "reserved"
    assert counts(redis_conn, sale)["held"] == 1


def test_a_cancelled_payment_gives_the_units_back_at_once(localstripe, sale, client, shopper, redis_conn):
    held = reserve(sale, shopper)
    intent = intent_for(client, localstripe, held)
    cancelled = requests.post(
        f"{localstripe.url}/v1/payment_intents/{intent['id']}/cancel", auth=(localstripe.SECRET_KEY, ""), timeout=5
    ).json()
    assert cancelled["status"] == "canceled"
    left = redis_conn.llen(keys.stock(sale.session.pk, sale.item.pk))
    body = event_body("payment_intent.canceled", cancelled)

    response = deliver(client, body, signed(body, localstripe.WEBHOOK_SECRET))

    assert response.status_code == 200 and response.json()["outcome"] == "released"
    assert status_of(sale, held) == "cancelled"
    assert redis_conn.llen(keys.stock(sale.session.pk, sale.item.pk)) == left + 1
    assert counts(redis_conn, sale)["held"] == 0


def test_a_refund_made_at_stripe_is_recorded(localstripe, sale, client, shopper, redis_conn):
    held = reserve(sale, shopper)
    intent = intent_for(client, localstripe, held, card=localstripe.CARD)
    paid = event_body("payment_intent.succeeded", intent)
    assert deliver(client, paid, signed(paid, localstripe.WEBHOOK_SECRET)).json()["outcome"] == "paid"
    # As an operator would from Stripe's dashboard: the charge is refunded there, not by us.
    assert get_gateway().refund(intent["id"]).status == "refunded"
    charge = localstripe.intent(intent["id"])["latest_charge"]
    assert charge["refunded"] is True
    body = event_body("charge.refunded", charge)

    response = deliver(client, body, signed(body, localstripe.WEBHOOK_SECRET))

    assert response.status_code == 200 and response.json()["outcome"] == "refunded"
    assert Transaction.objects.get(txn_id=held.txn_id).status == Transaction.Status.REFUNDED
    client.force_login(shopper)
    back = client.get(reverse("payment_return"), {"txn": held.txn_id})
    assert b'data-payment-state="refunded"' in back.content and b"Payment refunded" in back.content
