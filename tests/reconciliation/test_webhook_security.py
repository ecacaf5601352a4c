"""Our webhook: signature and timestamp checked, replays refused, duplicates change nothing."""

from __future__ import annotations

import json
import time

import pytest
from django.conf import settings

from flashsale.store import keys
from reconciliation.gateway import webhook_signature
from reservations.models import Transaction
from tests.support.payments import reserve, txn_row

URL = "/payments/webhook/"


def event_body(checkout, *, event_id: str = "evt_1", order_id: str = "ord_1", amount: str | None = None) -> bytes:
    r = checkout.reservation
    data = {
        "id": order_id,
        "txn_id": r.txn_id,
        "session_id": r.session_id,
        "item_id": r.item_id,
        "user_id": r.user_id,
        "quantity": r.quantity,
        "amount": amount or str(r.amount),
        "currency": r.currency,
        "status": "paid",
    }
    return json.dumps({"id": event_id, "type": "payment.succeeded", "created": int(time.time()), "data": data}).encode()


def post(client, body: bytes, *, timestamp: int | None = None, secret: str | None = None, signature: str | None = None):
    ts = str(int(time.time()) if timestamp is None else timestamp)
    sig = signature or webhook_signature(secret or settings.FLASHSALE_GATEWAY_WEBHOOK_SECRET, ts, body)
    return client.post(
        URL, data=body, content_type="application/json", HTTP_X_SANDBOX_TIMESTAMP=ts, HTTP_X_SANDBOX_SIGNATURE=sig
    )


def redis_status(redis_conn, checkout) -> str:
    return redis_conn.hget(keys.txn(checkout.reservation.session_id, checkout.txn_id), "status").decode()


@pytest.fixture
def checkout(sale, make_user):
    return reserve(sale, make_user(), quantity=2)


def test_valid_webhook_confirms_and_persists_paid(client, checkout, redis_conn):
    response = post(client, event_body(checkout))
    assert response.status_code == 200, response.content
    assert response.json()["outcome"] == "paid"
    assert redis_status(redis_conn, checkout) == "paid"
    row = txn_row(checkout.txn_id)
    assert row.status == Transaction.Status.PAID and row.gateway_order_id == "ord_1" and row.quantity == 2


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param({"secret": "not-the-shared-secret"}, id="wrong-secret"),
        pytest.param({"signature": "v1=" + "0" * 64}, id="forged-signature"),
    ],
)
def test_bad_signature_is_refused(client, checkout, redis_conn, tamper):
    response = post(client, event_body(checkout), **tamper)
    assert response.status_code == 401
    assert response.json()["error"] == "bad_signature"
    assert redis_status(redis_conn, checkout) == "reserved"
    assert txn_row(checkout.txn_id) is None


def test_body_changed_after_signing_is_refused(client, checkout, redis_conn):
    body = event_body(checkout)
    ts = str(int(time.time()))
    signature = webhook_signature(settings.FLASHSALE_GATEWAY_WEBHOOK_SECRET, ts, body)
    cheaper = event_body(checkout, amount="0.01")
    response = post(client, cheaper, timestamp=int(ts), signature=signature)
    assert response.status_code == 401
    assert redis_status(redis_conn, checkout) == "reserved"


def test_missing_headers_are_refused(client, checkout, redis_conn):
    response = client.post(URL, data=event_body(checkout), content_type="application/json")
    assert response.status_code == 401
    assert response.json()["error"] == "missing_headers"
    assert redis_status(redis_conn, checkout) == "reserved"


def test_stale_timestamp_is_refused(client, checkout, redis_conn):
    old = int(time.time()) - settings.FLASHSALE_WEBHOOK_TOLERANCE_SECONDS - 5
    response = post(client, event_body(checkout), timestamp=old)
    assert response.status_code == 401
    assert response.json()["error"] == "stale"
    assert redis_status(redis_conn, checkout) == "reserved"


def test_replayed_event_is_refused_and_changes_nothing(client, checkout, redis_conn):
    body = event_body(checkout)
    ts = int(time.time())
    assert post(client, body, timestamp=ts).status_code == 200
    counts_before = redis_conn.hgetall(keys.counts(checkout.reservation.session_id, checkout.reservation.item_id))
    row_before = txn_row(checkout.txn_id)

    replay = post(client, body, timestamp=ts)
    assert replay.status_code == 409
    assert replay.json()["error"] == "replayed"
    assert (
        redis_conn.hgetall(keys.counts(checkout.reservation.session_id, checkout.reservation.item_id)) == counts_before
    )
    assert txn_row(checkout.txn_id).updated_at == row_before.updated_at


def test_a_retry_while_the_first_delivery_is_handled_is_asked_to_come_back(client, checkout, redis_conn):
    from reconciliation.payments import PROCESSING_CLAIM_SECONDS

    body = event_body(checkout, event_id="evt_inflight")
    # What an earlier delivery's claim looks like while it is being handled (or after its worker died).
    redis_conn.set(keys.webhook_event("evt_inflight"), "processing", ex=PROCESSING_CLAIM_SECONDS)

    busy = post(client, body)
    assert busy.status_code == 503 and busy["Retry-After"] == "5"
    assert redis_status(redis_conn, checkout) == "reserved"
    assert 0 < redis_conn.ttl(keys.webhook_event("evt_inflight")) <= PROCESSING_CLAIM_SECONDS

    redis_conn.delete(keys.webhook_event("evt_inflight"))  # the claim expired: the retry lands
    assert post(client, body).status_code == 200
    assert redis_status(redis_conn, checkout) == "paid"


def test_second_event_for_the_same_payment_changes_nothing(client, checkout, redis_conn):
    assert post(client, event_body(checkout, event_id="evt_a")).json()["outcome"] == "paid"
    row_before = txn_row(checkout.txn_id)
    again = post(client, event_body(checkout, event_id="evt_b"))
    assert again.status_code == 200
    assert again.json()["outcome"] == "already_paid"
    assert again.json()["changed"] is False
    counts = redis_conn.hgetall(keys.counts(checkout.reservation.session_id, checkout.reservation.item_id))
    assert int(counts[b"paid"]) == 2
    assert txn_row(checkout.txn_id).updated_at == row_before.updated_at


def test_failed_processing_releases_the_event_id_for_the_retry(client, checkout, redis_conn, monkeypatch):
    from reconciliation import payments

    def broken(*args, **kwargs):
        raise ConnectionError("redis went away")

    monkeypatch.setattr(payments.holds, "confirm_payment", broken)
    body = event_body(checkout)
    with pytest.raises(ConnectionError):
        post(client, body)
    monkeypatch.undo()
    assert post(client, body).status_code == 200
    assert redis_status(redis_conn, checkout) == "paid"


def test_return_page_never_redirects_and_hides_other_shoppers_payments(client, checkout, make_user):
    assert post(client, event_body(checkout)).status_code == 200
    stranger = make_user()
    client.force_login(stranger)
    page = client.get("/payments/return/", {"txn": checkout.txn_id, "next": "https://evil.example/"})
    assert page.status_code == 200
    assert b'data-payment-state="unknown"' in page.content
    assert b"evil.example" not in page.content
    assert client.get("/payments/return/", {"txn": "../../etc"}).status_code == 400

    owner = checkout.reservation.user_id
    client.force_login(type(stranger).objects.get(pk=owner))
    assert b'data-payment-state="paid"' in client.get("/payments/return/", {"txn": checkout.txn_id}).content
    not_yet_confirmed = "01ARZ3NDEKTSV4RRFFQ69G5FAV"
    assert b'data-payment-state="pending"' in client.get("/payments/return/", {"txn": not_yet_confirmed}).content


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"quantity": float("inf")}, id="infinite-quantity"),
        pytest.param({"session_id": float("nan")}, id="nan-session"),
        pytest.param({"amount": "Infinity"}, id="infinite-amount"),
        pytest.param({"amount": "-1.00"}, id="negative-amount"),
        pytest.param({"id": "ord_" + "f" * 120}, id="overlong-order-id"),
        pytest.param({"txn_id": ""}, id="empty-txn-id"),
        pytest.param({"currency": "EURO"}, id="bad-currency"),
    ],
)
def test_signed_but_malformed_event_is_a_400_and_changes_nothing(client, checkout, redis_conn, change):
    event = json.loads(event_body(checkout))
    event["data"].update(change)
    response = post(client, json.dumps(event).encode())
    assert response.status_code == 400
    assert response.json() == {"error": "malformed"}
    assert redis_status(redis_conn, checkout) == "reserved"
    assert txn_row(checkout.txn_id) is None


def test_signed_body_that_is_not_an_event_is_a_400(client, checkout):
    assert post(client, b"[1, 2, 3]").status_code == 400
    assert post(client, b"\xff\xfe not json").status_code == 400


def test_oversized_body_is_refused_before_reading(client, checkout):
    response = post(client, b"{" + b" " * (70 * 1024) + b"}")
    assert response.status_code == 413


def test_payment_for_a_session_no_longer_in_redis_is_recorded_for_refund(client, checkout, redis_conn):
    from plans.loading import unload_session
    from reservations.drain import drain_session

    drain_session(checkout.reservation.session_id)
    unload_session(checkout.reservation.session_id)
    response = post(client, event_body(checkout, order_id="ord_late"))
    assert response.status_code == 200 and response.json()["outcome"] == "unknown"
    row = txn_row(checkout.txn_id)
    # Never dropped: the row carries the payment, and reconciliation will refund it.
    assert row.paid_after_expiry and row.gateway_order_id == "ord_late"
    assert row.status == Transaction.Status.PAID_AFTER_EXPIRY


def test_cancel_event_gives_the_units_back_once(client, checkout, redis_conn):
    event = json.loads(event_body(checkout, event_id="evt_cancel"))
    event["type"] = "payment.cancelled"
    event["data"]["status"] = "cancelled"
    response = post(client, json.dumps(event).encode())
    assert response.json()["outcome"] == "released"
    assert redis_status(redis_conn, checkout) == "cancelled"
    event["id"] = "evt_cancel_again"
    assert post(client, json.dumps(event).encode()).json()["outcome"] == "cancelled"
    counts = redis_conn.hgetall(keys.counts(checkout.reservation.session_id, checkout.reservation.item_id))
    assert int(counts[b"returned"]) == 2 and int(counts[b"held"]) == 0
