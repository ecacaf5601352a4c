"""A shopper on a 390 x 844 phone, in headless Chromium: every page fits the screen, everything that can be
pressed is at least 44 px, axe-core finds nothing serious, and the ways a reservation can end each say
what happened and what to do next.

Log in, answer the CAPTCHA wrong then right (staying on the sale page), reserve, see the checkout name
what is paid for, find the hold with its deadline and "Pay now" in view on "My reservations", cancel it;
reserve again, have the gateway charge another amount and find the reservation refused, not awaiting
payment; watch a product sell out (said to screen readers, its picker gone). Then a forgotten
password, reset from the mail a real SMTP server received.
"""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
import requests
from playwright.sync_api import expect

from flashsale import clock
from plans.loading import load_session_into_redis
from reservations.holds import reserve_units
from tests.factories import make_item, make_product, make_provider, make_session
from tests.support.browser import (
    BROWSER_MARKS,
    PHONE,
    Screenshots,
    overflow,
    serious_accessibility_violations,
    small_targets,
)
from tests.support.smtp import body_of

pytestmark = BROWSER_MARKS

PASSWORD = "Phone-journey-5507"


@pytest.fixture
def sale(transactional_db):
    """A live session of three products near Lyon; the bell has a single unit."""
    session = make_session(name="Weekend market", opens_in=timedelta(minutes=-5), lasts=timedelta(hours=2))
    provider = make_provider("market")
    items = {}
    for order, (name, quantity, limit) in enumerate(
        [("Copper saucepan", 5, 2), ("Linen apron", 5, 1), ("Brass bell", 1, 1)]
    ):
        product = make_product(provider, city="Lyon", name=name, list_price=Decimal("60.00"))
        items[name] = make_item(
            session, product, quantity=quantity, per_user_limit=limit, sale_price=Decimal("39.90"), display_order=order
        )
    load_session_into_redis(session)
    return session, items


def check_page(page, shots: Screenshots, name: str) -> None:
    """The page as a phone shows it: inside the screen, big enough targets, nothing serious for axe; a screenshot."""
    assert overflow(page) == 0, f"{name}: wider than the screen"
    assert small_targets(page) == [], f"{name}: touch targets under 44 px"
    assert serious_accessibility_violations(page) == [], name
    shots(page, name)


def log_in(page, base_url: str, username: str, password: str = PASSWORD, *, next_path: str = "/") -> None:
    page.goto(f"{base_url}/accounts/login/?next={next_path}")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def test_a_shopper_on_a_phone_reserves_cancels_and_meets_a_refused_payment(
    live_server, gateway, sale, new_context, make_user
):
    session, items = sale
    shots = Screenshots("shopper-phone")
    make_user("zoe", password=PASSWORD, email="zoe@example.com")
    phone = new_context(**PHONE)
    page = phone.new_page()

    page.goto(f"{live_server.url}/accounts/login/")
    expect(page).to_have_title("Log in · FlashSale")
    check_page(page, shots, "login")
    log_in(page, live_server.url, "zoe", next_path=f"/sessions/{session.pk}/")
    expect(page.get_by_role("heading", name="Weekend market")).to_be_visible()

    # Every Reserve button is named after its product.
    expect(page.get_by_role("button", name="Reserve Copper saucepan")).to_be_enabled()
    expect(page.get_by_role("button", name="Reserve Linen apron")).to_be_enabled()

    # A wrong answer keeps the shopper on the sale page, says so, and brings a new picture.
    box = page.locator(".captcha-box")
    box.get_by_label("Type the characters you see").fill("WRONG")
    box.get_by_role("button", name="Verify").click()
    expect(box.get_by_text("Those characters do not match the picture")).to_be_visible()
    assert page.url == f"{live_server.url}/sessions/{session.pk}/"
    expect(box.get_by_role("img", name=re.compile("A picture of the characters to type"))).to_be_visible()
    check_page(page, shots, "sale-captcha-wrong")
    box.get_by_label("Type the characters you see").fill("PASSED")
    box.get_by_role("button", name="Verify").click()
    expect(page.get_by_text("You are verified for this sale")).to_be_visible()
    expect(page.get_by_text(re.compile("Your turn to reserve lasts 5 minutes"))).to_be_visible()
    check_page(page, shots, "sale-verified")

    # Reserve two saucepans: the checkout names the product and the sale, and fits the phone.
    saucepan = page.get_by_role("article").filter(has_text="Copper saucepan")
    saucepan.get_by_role("combobox", name="Units").select_option("2")
    saucepan.get_by_role("button", name="Reserve Copper saucepan").click()
    page.wait_for_url(f"{gateway.url}/checkout/**")
    checkout = page.get_by_role("table")
    expect(checkout.get_by_role("row", name=re.compile("Product"))).to_contain_text("Copper saucepan")
    expect(checkout.get_by_role("row", name=re.compile("Sale"))).to_contain_text("Weekend market")
    assert overflow(page) == 0, "the gateway's checkout is wider than the phone"
    shots(page, "gateway-checkout")

    # "My reservations": a card with the deadline, "Pay now" and "Cancel" in view.
    page.goto(f"{live_server.url}/me/reservations/")
    held = page.get_by_role("row", name=re.compile("Copper saucepan"))
    expect(held).to_contain_text("Awaiting payment")
    pay = held.get_by_role("link", name="Pay now")
    box_of_pay = pay.bounding_box()
    assert box_of_pay["x"] >= 0 and box_of_pay["x"] + box_of_pay["width"] <= 390
    expect(held.locator(".countdown")).to_be_in_viewport()
    check_page(page, shots, "my-reservations-held")

    # Cancel: the units go back on sale at once.
    held.get_by_role("button", name="Cancel").click()
    expect(page.get_by_text("Reservation cancelled: its units are back on sale.")).to_be_visible()
    cancelled = page.get_by_role("row", name=re.compile("Copper saucepan"))
    expect(cancelled).to_contain_text("Cancelled")
    expect(cancelled.get_by_role("link", name="Pay now")).to_have_count(0)
    check_page(page, shots, "my-reservations-cancelled")
    page.goto(f"{live_server.url}/sessions/{session.pk}/")
    expect(page.get_by_role("article").filter(has_text="Copper saucepan")).to_contain_text("5 left")

    # Reserve the apron; the gateway charges another amount: refused, not "awaiting payment".
    page.get_by_role("button", name="Reserve Linen apron").click()
    page.wait_for_url(f"{gateway.url}/checkout/**")
    txn_id = page.get_by_role("row", name=re.compile("Reservation")).get_by_role("cell").nth(1).inner_text()
    gateway.add_fault("charge_amount", txn_id=txn_id, delta="5.00")
    page.get_by_role("button", name="Pay").click()
    page.wait_for_url(f"{live_server.url}/payments/return/**")
    expect(page.get_by_role("heading", name="Payment under review")).to_be_visible(timeout=15_000)
    check_page(page, shots, "payment-refused-return")
    page.goto(f"{live_server.url}/me/reservations/")
    refused = page.get_by_role("row", name=re.compile("Linen apron"))
    expect(refused).to_contain_text("Payment refused")
    expect(refused).to_contain_text("will be refunded in full")
    expect(refused.get_by_role("link", name="Pay now")).to_have_count(0)
    expect(refused.get_by_role("link", name="Back to the sale")).to_be_visible()
    check_page(page, shots, "my-reservations-refused")

    # Someone else takes the last bell: the card says so, to screen readers too, and its picker goes.
    page.goto(f"{live_server.url}/sessions/{session.pk}/")
    bell = page.get_by_role("article").filter(has_text="Brass bell")
    expect(bell.get_by_role("button", name="Reserve Brass bell")).to_be_enabled()
    other = make_user("yann")
    bell_item = items["Brass bell"]
    reserve_units(session.pk, bell_item.pk, user_id=other.pk, quantity=1, txn_id="B" * 26, now=clock.now())
    # The page polls the shared stock every 3 s; the site's copy of it is at most a second old.
    expect(bell.locator("[data-state]")).to_have_text("Sold out", timeout=10_000)
    expect(bell.get_by_role("button", name="Reserve Brass bell")).to_be_disabled()
    expect(page.locator("#stock-news")).to_have_text("Brass bell: sold out.")
    check_page(page, shots, "sale-sold-out")


def test_without_javascript_the_sale_page_offers_only_what_works(live_server, sale, new_context, make_user):
    session, _ = sale
    make_user("ines", password=PASSWORD)
    page = new_context(java_script_enabled=False, **PHONE).new_page()
    log_in(page, live_server.url, "ines", next_path=f"/sessions/{session.pk}/")
    expect(page.get_by_role("heading", name="Weekend market")).to_be_visible()
    # "Use my location" needs the browser's script: without it, only the city picker is offered.
    expect(page.get_by_role("button", name="Use my location")).to_be_hidden()
    expect(page.get_by_role("button", name="Sort")).to_be_visible()
    expect(page.get_by_role("link", name="Verify I'm human")).to_be_visible()
    Screenshots("shopper-no-javascript")(page, "sale")


def test_opens_in_badges_count_down_with_the_header(live_server, new_context, make_user, transactional_db):
    session = make_session(name="Evening sale", opens_in=timedelta(minutes=30), lasts=timedelta(hours=1))
    make_item(session, make_product(name="Tea kettle"), quantity=3)
    load_session_into_redis(session)
    page = new_context(**PHONE).new_page()
    page.goto(f"{live_server.url}/sessions/{session.pk}/")
    badge = page.get_by_role("article").filter(has_text="Tea kettle").locator("[data-state]")
    expect(badge).to_have_text(re.compile(r"^Opens in \d+ min \d+ s$"))
    first = badge.inner_text()
    expect(badge).not_to_have_text(first, timeout=3_000)  # it ticks, as the header does
    assert serious_accessibility_violations(page) == []
    Screenshots("shopper-upcoming")(page, "sale-upcoming")


def test_a_forgotten_password_is_reset_from_the_mail(live_server, new_context, make_user, smtp_server, settings):
    settings.FLASHSALE_SITE_URL = live_server.url
    make_user("lou", password="Old-password-1234", email="lou@example.com")
    shots = Screenshots("password-reset")
    page = new_context(**PHONE).new_page()

    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_role("link", name="Forgot your password?").click()
    expect(page.get_by_role("heading", name="Forgot your password?")).to_be_visible()
    check_page(page, shots, "ask")
    page.get_by_label("Email").fill("lou@example.com")
    page.get_by_role("button", name="Send me the link").click()
    expect(page.get_by_role("heading", name="Check your mail")).to_be_visible()
    check_page(page, shots, "sent")

    (mail,) = smtp_server.wait_for("lou@example.com", subject_contains="Reset your FlashSale password")
    link = re.search(re.escape(live_server.url) + r"/accounts/reset/\S+/", body_of(mail)).group(0)
    page.goto(link)
    expect(page.get_by_role("heading", name="Choose a new password")).to_be_visible()
    check_page(page, shots, "choose")
    page.get_by_label("New password:", exact=True).fill("New-password-9876")
    page.get_by_label("New password confirmation").fill("New-password-9876")
    page.get_by_role("button", name="Save my new password").click()
    expect(page.get_by_role("heading", name="Password changed")).to_be_visible()
    check_page(page, shots, "done")

    log_in(page, live_server.url, "lou", "New-password-9876")
    expect(page.get_by_role("heading", name="Today's flash sales")).to_be_visible()
    assert requests.get(f"{live_server.url}/favicon.ico", timeout=5).status_code == 200
