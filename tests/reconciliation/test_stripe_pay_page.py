"""Our Stripe pay page, against localstripe: the reserve answer's 303 lands on it without any call to
Stripe; it checks the token as the sandbox does and makes one PaymentIntent per TransactionID, for
exactly the held amount in the currency's minor units, however often it is opened."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse

from flashsale import clock as site_clock
from flashsale.store import keys
from flashsale.store.replies import as_str
from plans.loading import load_session_into_redis
from reconciliation.stripe_gateway import intent_idempotency_key
from reservations import holds
from reservations.checkout import checkout_url
from reservations.tokens import sign_token, verify_for_site
from tests.factories import make_item, make_product, make_session
from tests.support.passes import give_pass
from tests.support.pay_page import read_pay_page
from tests.support.payments import reserve
from tests.support.sales import Sale


def open_page(client, url: str):
    response = client.get(url)
    return read_pay_page(response.status_code, response.content.decode())


def test_the_reserve_request_answers_303_to_our_pay_page_and_calls_no_stripe(
    localstripe, sale, client, make_user, clock
):
    shopper = make_user()
    client.force_login(shopper)
    client.get(reverse("reservations-sale", args=[sale.session.pk]))
    give_pass(client, sale.session.pk, now=clock.now())

    response = client.post(reverse("reservations-reserve", args=[sale.session.pk, sale.item.pk]), {"quantity": "2"})

    assert response.status_code == 303
    location = urlsplit(response["Location"])
    # Our own page on our own host: a path, no scheme or host that could send the shopper elsewhere.
    assert (location.scheme, location.netloc, location.path) == ("", "", reverse("stripe_pay"))
    claims = verify_for_site(parse_qs(location.query)["token"][0])
    assert (claims.user_id, claims.units, claims.amount, claims.currency) == (shopper.pk, 2, "99.80", "EUR")
    assert localstripe.intents() == []


@pytest.mark.parametrize(
    "price, currency, minor, shown",
    [(Decimal("49.90"), "EUR", 9980, "99.80 EUR"), (Decimal("1500"), "JPY", 3000, "3000 JPY")],
    ids=["two-decimal", "zero-decimal"],
)
def test_one_intent_for_exactly_the_held_amount_and_a_reload_reuses_it(
    localstripe, db, clock, client, make_user, redis_conn, price, currency, minor, shown
):
    session = make_session(opens_in=timedelta(minutes=-1), lasts=timedelta(hours=1))
    item = make_item(session, make_product(), quantity=5, per_user_limit=2, sale_price=price, currency=currency)
    load_session_into_redis(session, now=site_clock.now())
    shopper = make_user()
    client.force_login(shopper)
    held = reserve(Sale(session=session, items=[item]), shopper, quantity=2)

    first = open_page(client, held.url)
    assert first.status == 200, first.text
    assert f"Pay {shown}" in first.text
    assert first.publishable_key == localstripe.PUBLISHABLE_KEY
    assert first.return_url == f"{reverse('payment_return')}?txn={held.txn_id}"
    reloaded = open_page(client, held.url)
    assert reloaded.status == 200
    assert reloaded.client_secret == first.client_secret

    [intent] = localstripe.intents()
    assert intent["id"] == first.intent_id
    assert (intent["amount"], intent["currency"], intent["status"]) == (
        minor,
        currency.lower(),
        "requires_payment_method",
    )
    assert intent["metadata"] == {
        "txn_id": held.txn_id,
        "session_id": str(session.pk),
        "item_id": str(item.pk),
        "user_id": str(shopper.pk),
        "units": "2",
    }
    assert as_str(redis_conn.get(keys.payment_intent(held.txn_id))) == intent["id"]
    assert intent_idempotency_key(held.txn_id) == f"flashsale-pi-{held.txn_id}"


def test_a_request_while_another_creates_the_intent_is_asked_to_wait(localstripe, sale, client, make_user, redis_conn):
    shopper = make_user()
    held = reserve(sale, shopper)
    redis_conn.set(keys.payment_intent(held.txn_id), "creating", ex=30)

    page = open_page(client, held.url)

    assert page.status == 202 and "Preparing your payment" in page.text
    assert localstripe.intents() == []


@pytest.mark.parametrize("tampering", ["tampered", "unknown_key", "expired", "malformed"])
def test_a_bad_token_is_refused_and_no_intent_is_made(localstripe, sale, client, make_user, settings, clock, tampering):
    shopper = make_user()
    held = reserve(sale, shopper)
    token = parse_qs(urlsplit(held.url).query)["token"][0]
    claims = verify_for_site(token)
    keys_, kid = settings.FLASHSALE_TOKEN_KEYS, settings.FLASHSALE_TOKEN_SIGNING_KEY_ID
    if tampering == "tampered":
        # Our signature on another payload (one cent instead of 49.90).
        cheaper = sign_token(replace(claims, amount="0.01"), keys=keys_, kid=kid)
        token = f"{cheaper.split('.')[0]}.{kid}.{token.split('.')[2]}"
    elif tampering == "unknown_key":
        token = sign_token(claims, keys={"old": "a-key-we-never-had"}, kid="old")
    elif tampering == "expired":
        token = sign_token(replace(claims, expires_at=int(clock.now().timestamp()) - 1), keys=keys_, kid=kid)
    else:
        token = "not-a-token"

    page = open_page(client, checkout_url(token))

    assert page.status == 400 and "Payment refused" in page.text and "No payment was taken" in page.text
    assert page.client_secret == ""
    assert localstripe.intents() == []


def test_a_paid_reservation_is_refused(localstripe, sale, client, make_user, clock):
    shopper = make_user()
    held = reserve(sale, shopper)
    holds.confirm_payment(
        sale.session.pk, held.txn_id, gateway_order_id="pi_elsewhere", amount="49.90", now=clock.now()
    )

    page = open_page(client, held.url)

    assert page.status == 409 and "already paid" in page.text
    assert localstripe.intents() == []


def test_once_paid_at_stripe_a_reload_goes_to_the_return_page(localstripe, sale, client, make_user):
    shopper = make_user()
    client.force_login(shopper)
    held = reserve(sale, shopper)
    page = open_page(client, held.url)
    assert localstripe.confirm_card(page.client_secret).json()["status"] == "succeeded"

    again = client.get(held.url)

    assert again.status_code == 303
    assert again["Location"] == f"{reverse('payment_return')}?txn={held.txn_id}"
    assert len(localstripe.intents()) == 1


def test_with_the_sandbox_gateway_the_stripe_routes_do_not_exist(db, client, settings):
    settings.FLASHSALE_GATEWAY = "sandbox"
    assert client.get(reverse("stripe_pay"), {"token": "x"}).status_code == 404
    assert client.post(reverse("stripe_webhook"), b"{}", content_type="application/json").status_code == 404
