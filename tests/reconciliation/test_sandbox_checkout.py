"""The sandbox's checkout page: tokens verified, forms protected, refusals take no order."""

from __future__ import annotations

import time
from dataclasses import replace

import requests
from django.conf import settings

from flashsale import clock
from reservations.checkout import checkout_url, checkout_url_for, claims_for
from reservations.tokens import sign_for_site, sign_token
from tests.support.payments import delivered, open_checkout, press, reserve, txn_row
from tests.support.polling import wait_until


def no_orders(sandbox) -> bool:
    return sandbox.orders_on(clock.now().date()) == []


def test_tampered_token_is_refused_and_takes_no_order(sandbox, sale, make_user):
    checkout = reserve(sale, make_user())
    genuine = sign_for_site(claims_for(checkout.reservation))
    cheaper = sign_for_site(replace(claims_for(checkout.reservation), amount="0.01"))
    # The cheaper payload with the genuine signature: what an attacker editing the link would send.
    forged = ".".join([cheaper.split(".")[0], *genuine.split(".")[1:]])
    page = open_checkout(requests.Session(), checkout_url(forged))
    assert page.status == 400
    assert "tampered" in page.text and "No order was taken" in page.text
    assert page.forms == {}
    assert no_orders(sandbox)


def test_a_second_spelling_of_the_signature_is_refused_and_takes_no_order(sandbox, sale, make_user):
    """The last of the signature's 43 characters carries 2 unused bits: changing them keeps the bytes."""
    checkout = reserve(sale, make_user())
    token = sign_for_site(claims_for(checkout.reservation))
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    index = alphabet.index(token[-1])
    respelled = token[:-1] + alphabet[index ^ 0b01]
    page = open_checkout(requests.Session(), checkout_url(respelled))
    assert page.status == 400 and "tampered" in page.text
    assert page.forms == {}
    assert no_orders(sandbox)
    # The canonical spelling still opens the order.
    assert open_checkout(requests.Session(), checkout_url(token)).status == 200


def test_token_signed_with_an_unknown_key_is_refused(sandbox, sale, make_user):
    checkout = reserve(sale, make_user())
    token = sign_token(claims_for(checkout.reservation), keys={"rogue": "guessed-secret"}, kid="rogue")
    page = open_checkout(requests.Session(), checkout_url(token))
    assert page.status == 400 and "key we do not accept" in page.text
    assert no_orders(sandbox)


def test_expired_token_is_refused(sandbox, sale, make_user):
    checkout = reserve(sale, make_user())
    expired = sign_for_site(replace(claims_for(checkout.reservation), expires_at=int(time.time()) - 1))
    page = open_checkout(requests.Session(), checkout_url(expired))
    assert page.status == 400 and "expired" in page.text
    assert no_orders(sandbox)


def test_used_token_is_refused_when_replayed(sandbox, sale, make_user):
    checkout = reserve(sale, make_user())
    browser = requests.Session()
    page = open_checkout(browser, checkout.url)
    # Opening the link again before paying shows the same order (a refresh is not a new order).
    assert open_checkout(browser, checkout.url).order_id == page.order_id
    assert press(browser, sandbox, page, "pay").status_code == 303
    delivered(sandbox, page.order_id)

    replayed = open_checkout(requests.Session(), checkout.url)
    assert replayed.status == 409 and "already used" in replayed.text
    assert [o["id"] for o in sandbox.orders_on(clock.now().date())] == [page.order_id]


def test_pay_form_without_the_order_nonce_is_refused(sandbox, sale, make_user):
    checkout = reserve(sale, make_user())
    page = open_checkout(requests.Session(), checkout.url)
    action, _ = page.forms["pay"]
    # A cross-site form cannot know the per-order nonce.
    forged = requests.post(f"{sandbox.url}{action}", data={"nonce": "guess"}, allow_redirects=False, timeout=5)
    assert forged.status_code == 403
    assert sandbox.order(page.order_id)["status"] == "pending"
    assert sandbox.deliveries() == []


def test_cancel_sends_the_shopper_back_and_releases_the_hold(sandbox, sale, make_user, redis_conn):
    from flashsale.store import keys

    checkout = reserve(sale, make_user(), quantity=2)
    on_sale = redis_conn.llen(keys.stock(sale.session.pk, sale.item.pk))
    browser = requests.Session()
    page = open_checkout(browser, checkout.url)
    response = press(browser, sandbox, page, "cancel")
    assert response.status_code == 303
    assert response.headers["Location"] == f"{sandbox.site_url}/payments/return/?txn={checkout.txn_id}"
    assert sandbox.order(page.order_id)["status"] == "cancelled"
    wait_until(
        lambda: redis_conn.llen(keys.stock(sale.session.pk, sale.item.pk)) == on_sale + 2,
        what="the cancelled hold's units to come back",
    )
    assert txn_row(checkout.txn_id) is None or txn_row(checkout.txn_id).status != "paid"


def test_api_needs_the_api_key(sandbox):
    anonymous = requests.get(f"{sandbox.url}/api/orders", params={"date": "2026-01-01"}, timeout=5)
    wrong = requests.get(
        f"{sandbox.url}/api/orders", params={"date": "2026-01-01"}, headers={"Authorization": "Bearer nope"}, timeout=5
    )
    assert anonymous.status_code == wrong.status_code == 401
    assert requests.post(f"{sandbox.url}/api/faults", json={"kind": "drop_webhook"}, timeout=5).status_code == 401
    assert settings.FLASHSALE_GATEWAY_API_KEY not in anonymous.text


def test_fault_api_validates_and_clears(sandbox):
    bad = sandbox.api.post(f"{sandbox.url}/api/faults", json={"kind": "set_on_fire"}, timeout=5)
    assert bad.status_code == 400 and "Unknown fault kind" in bad.json()["message"]
    assert sandbox.api.post(f"{sandbox.url}/api/faults", data=b"not json", timeout=5).status_code == 400
    first = sandbox.add_fault("late_webhook", delay_seconds=5)
    sandbox.add_fault("drop_webhook", txn_id="01ABC")
    listed = sandbox.api.get(f"{sandbox.url}/api/faults", timeout=5).json()["faults"]
    assert [(f["kind"], f["target"]) for f in listed] == [("late_webhook", "*"), ("drop_webhook", "01ABC")]
    assert listed[0]["params"] == {"delay_seconds": 5.0}
    assert sandbox.api.delete(f"{sandbox.url}/api/faults", params={"id": first["id"]}, timeout=5).json() == {
        "removed": 1
    }
    assert sandbox.api.delete(f"{sandbox.url}/api/faults", timeout=5).json() == {"removed": 1}


def test_refund_is_idempotent_and_only_for_paid_orders(sandbox, sale, make_user):
    checkout = reserve(sale, make_user())
    browser = requests.Session()
    page = open_checkout(browser, checkout.url)
    refund_url = f"{sandbox.url}/api/orders/{page.order_id}/refund"
    assert sandbox.api.post(refund_url, timeout=5).status_code == 409  # still pending
    press(browser, sandbox, page, "pay")
    first = sandbox.api.post(refund_url, timeout=5).json()
    second = sandbox.api.post(refund_url, timeout=5).json()
    assert (first["status"], first["already_refunded"]) == ("refunded", False)
    assert (second["status"], second["already_refunded"]) == ("refunded", True)
    assert first["refunded_at"] == second["refunded_at"]
    assert sandbox.api.post(f"{sandbox.url}/api/orders/ord_00/refund", timeout=5).status_code == 404


def test_the_checkout_page_names_what_is_paid_for(sandbox, sale, make_user):
    checkout = reserve(sale, make_user())
    named = checkout_url_for(checkout.reservation, item_name="Copper saucepan & lid", session_name="Kitchen <sale>")
    page = open_checkout(requests.Session(), named)
    assert page.status == 200
    # Escaped, and in the rows a shopper reads first.
    assert "<td>Product</td><td>Copper saucepan &amp; lid</td>" in page.text
    assert "<td>Sale</td><td>Kitchen &lt;sale&gt;</td>" in page.text
    # A token without names (issued before they existed) still shows what it can.
    bare = checkout_url(sign_for_site(replace(claims_for(checkout.reservation), item_name="", session_name="")))
    assert f"<td>Product</td><td>Item #{sale.item.pk}</td>" in open_checkout(requests.Session(), bare).text
