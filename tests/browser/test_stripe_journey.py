"""A shopper pays by card on our own pay page with Stripe.js, in headless Chromium, against localstripe.

Log in, pass the CAPTCHA, reserve: the reserve answer lands on our pay page (not a gateway's), which
shows the held amount and a Card Element from the Stripe.js that STRIPE_JS_URL names (localstripe's
stand-in). A declined card is refused on the page and the hold stays; the next card pays, and the
return page turns to "Payment confirmed" when localstripe's signed webhook has landed.
"""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from plans.loading import load_session_into_redis
from reservations import holds
from reservations.models import Transaction
from tests.factories import make_item, make_product, make_session
from tests.support.browser import BROWSER_MARKS, Screenshots
from tests.support.polling import wait_until

pytestmark = BROWSER_MARKS

PASSWORD = "Stripe-journey-5812"


@pytest.fixture
def sale(transactional_db):
    session = make_session(name="Tea & ceramics", opens_in=timedelta(minutes=-5), lasts=timedelta(hours=2))
    item = make_item(
        session,
        make_product(name="Stoneware teapot", list_price=Decimal("4000")),
        quantity=3,
        per_user_limit=1,
        sale_price=Decimal("2500"),
        currency="JPY",
    )
    load_session_into_redis(session)
    return session, item


def fill_card(page, number: str) -> None:
    """The stand-in Card Element's fields (real Stripe.js draws them in its own iframe)."""
    card = page.locator("#card-element")
    for field, value in (("number", number), ("exp_month", "12"), ("exp_year", "34"), ("cvc", "123")):
        card.get_by_placeholder(field, exact=True).fill(value)


def test_a_shopper_pays_by_card_on_our_pay_page_and_sees_payment_confirmed(
    live_server, localstripe, sale, new_context, make_user
):
    session, teapot = sale
    make_user("aiko", password=PASSWORD)
    shots = Screenshots("stripe")
    page = new_context().new_page()

    page.goto(f"{live_server.url}/accounts/login/?next=/sessions/{session.pk}/")
    page.get_by_label("Username").fill("aiko")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Tea & ceramics")).to_be_visible()
    page.get_by_label("Type the characters you see").fill("PASSED")
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_text("You are verified for this sale")).to_be_visible()

    card = page.get_by_role("article").filter(has_text="Stoneware teapot")
    card.get_by_role("button", name="Reserve").click()
    page.wait_for_url(f"{live_server.url}/payments/stripe/pay/?token=*")
    expect(page.get_by_role("heading", name="Pay for your reservation")).to_be_visible()
    expect(page.locator("[data-pay-total]")).to_have_text("2500 JPY")
    [intent] = localstripe.intents()
    assert (intent["amount"], intent["currency"]) == (2500, "jpy")
    txn_id = intent["metadata"]["txn_id"]
    expect(page.locator("#card-element input")).to_have_count(5)
    shots(page, "pay-page")

    # A declined card: Stripe's answer shows on the page, the hold stays, the shopper may try again.
    fill_card(page, localstripe.DECLINED_CARD)
    page.get_by_role("button", name=re.compile("^Pay ")).click()
    expect(page.get_by_role("alert")).to_have_text("Your card was declined.")
    expect(page.get_by_role("button", name=re.compile("^Pay "))).to_be_enabled()
    assert holds.transaction_state(session.pk, txn_id)["status"] == "reserved"
    shots(page, "card-declined")

    fill_card(page, localstripe.CARD)
    page.get_by_role("button", name=re.compile("^Pay ")).click()
    page.wait_for_url(f"{live_server.url}/payments/return/?txn={txn_id}")
    # "Payment pending" refreshes itself until localstripe's webhook has landed.
    expect(page.get_by_role("heading", name="Payment confirmed")).to_be_visible(timeout=20_000)
    expect(page.get_by_text(f"Reservation {txn_id}")).to_be_visible()
    shots(page, "payment-confirmed")

    paid = wait_until(
        lambda: (row := Transaction.objects.filter(txn_id=txn_id).first()) and row.status == "paid" and row,
        what="the paid transaction row",
    )
    assert (paid.item_id, paid.quantity, paid.amount, paid.currency) == (teapot.pk, 1, Decimal("2500"), "JPY")
    assert paid.gateway_order_id == intent["id"]
    assert len(localstripe.intents()) == 1
