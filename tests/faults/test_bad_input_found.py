"""What the generated bad-input tests found, pinned as plain examples.

Each test states the behaviour the site should have; see docs/testing.md ("What the fault tests
found") for the cause and the suggested fix of each.
"""

from __future__ import annotations

import json
import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from ulid import ULID

from catalog.keys import issue_key
from catalog.models import Product, Provider, SyncRejection
from flashsale.store import keys
from plans.loading import load_session_into_redis
from reconciliation.gateway import webhook_signature
from reservations import holds
from reservations.drain import drain_session
from reservations.models import Transaction
from tests.factories import make_item, make_product, make_provider, make_session


@pytest.fixture
def provider(db):
    made = make_provider("found-feed", delivery=Provider.Delivery.PUSH)
    made.key = issue_key(made)
    return made


def good_record(n: int, **overrides) -> dict:
    record = {"external_id": f"sku-{n}", "name": f"Dinner #{n}", "price": "89.00", "latitude": 48.85, "longitude": 2.33}
    record.update(overrides)
    return record


@pytest.mark.parametrize("external_id", ["\x00", "sku\x00-9", "\ud800"])
def test_an_unstorable_external_id_is_a_rejection_not_a_failed_batch(provider, client, external_id):
    body = json.dumps([good_record(1), good_record(2, external_id=external_id, price="not a price")])
    response = client.post(
        reverse("catalog-push-products", kwargs={"slug": provider.slug}),
        data=body,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {provider.key}",
    )
    assert response.status_code == 200, response.content
    assert response.json()["created"] == 1 and response.json()["rejected"] == 1
    assert Product.objects.filter(external_id="sku-1").exists()
    assert SyncRejection.objects.count() == 1


@pytest.fixture
def reservation(db):
    session = make_session(opens_in=timedelta(minutes=-1), lasts=timedelta(hours=1))
    item = make_item(session, make_product(), quantity=5, sale_price=Decimal("10.00"))
    load_session_into_redis(session)
    user = get_user_model().objects.create_user("payer", password="x-long-enough-1")
    return holds.reserve_units(session.pk, item.pk, user_id=user.pk, quantity=1, txn_id=str(ULID()), now=time.time())


def signed_post(client, settings, event: dict):
    body = json.dumps(event).encode()
    stamp = str(int(time.time()))
    return client.post(
        "/payments/webhook/",
        data=body,
        content_type="application/json",
        HTTP_X_SANDBOX_TIMESTAMP=stamp,
        HTTP_X_SANDBOX_SIGNATURE=webhook_signature(settings.FLASHSALE_GATEWAY_WEBHOOK_SECRET, stamp, body),
    )


def payment_event(reservation, **order) -> dict:
    data = {
        "id": "ord_1",
        "txn_id": reservation.txn_id,
        "status": "paid",
        "quantity": 1,
        "amount": "10.00",
        "currency": "EUR",
        "session_id": reservation.session_id,
        "item_id": reservation.item_id,
        "user_id": reservation.user_id,
    }
    data.update(order)
    return {"id": f"evt_{ULID()}", "type": "payment.succeeded", "created": int(time.time()), "data": data}


@pytest.mark.parametrize("field", ["quantity", "session_id", "item_id", "user_id"])
def test_a_signed_webhook_with_an_infinite_number_is_a_400(reservation, client, settings, field):
    response = signed_post(client, settings, payment_event(reservation, **{field: float("inf")}))
    assert response.status_code == 400, response.status_code
    assert response.json() == {"error": "malformed"}


def test_an_overlong_gateway_order_id_is_refused_before_anything_changes(reservation, client, settings, redis_conn):
    before = holds.transaction_state(reservation.session_id, reservation.txn_id)
    response = signed_post(client, settings, payment_event(reservation, id="ord_" + "f" * 120))
    assert response.status_code == 400, response.status_code
    assert holds.transaction_state(reservation.session_id, reservation.txn_id) == before


def test_one_unstorable_stream_event_does_not_stop_the_drainer(reservation, redis_conn):
    other_user = get_user_model().objects.create_user("next", password="x-long-enough-1")
    other = holds.reserve_units(
        reservation.session_id,
        reservation.item_id,
        user_id=other_user.pk,
        quantity=1,
        txn_id=str(ULID()),
        now=time.time(),
    )
    # A payment whose gateway order id is longer than the column: its event cannot be stored.
    holds.confirm_payment(
        reservation.session_id, reservation.txn_id, gateway_order_id="o" * 150, amount="10.00", now=time.time()
    )
    drain_session(reservation.session_id)
    # The good reservation lands; the poisoned event is logged and skipped, not retried forever.
    assert Transaction.objects.filter(txn_id=other.txn_id).exists()
    assert redis_conn.xpending(keys.stream(reservation.session_id), "drainer")["pending"] == 0


def test_an_empty_signup_post_says_what_is_missing(db, client):
    response = client.post(reverse("signup"), data={})
    assert response.status_code < 500
    assert b"errorlist" in response.content
