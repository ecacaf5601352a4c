"""A shopper's whole journey in headless Chromium, from sign-up to a paid reservation.

Sign up, pick a city, share the browser's location, see the products nearest first, pass the
CAPTCHA, reserve the last unit, pay on the sandbox gateway, come back and find the reservation
paid; a second shopper then finds that product sold out.
"""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from plans.loading import load_session_into_redis
from reservations.drain import drain_session
from reservations.models import Transaction
from tests.factories import CITIES, make_item, make_product, make_provider, make_session
from tests.support.browser import BROWSER_MARKS, Screenshots, distance_km
from tests.support.polling import wait_until

pytestmark = BROWSER_MARKS

# Geneva: nearer Lyon than any other city of the sale, and not one of them.
GENEVA = {"latitude": 46.2044, "longitude": 6.1432}
PASSWORD = "Sale-journey-2931"
# One product per city; the Lyon one has a single unit, which our shopper takes.
PRODUCTS = {
    "Paris": ("Enamel coffee pot", 5),
    "Lyon": ("Copper saucepan", 1),
    "Berlin": ("Walnut desk lamp", 5),
    "Madrid": ("Leather weekender", 5),
    "Rome": ("Espresso cups, set of six", 5),
    "Amsterdam": ("City bicycle bell", 5),
}
CARD_PLACE = re.compile(r"^(?P<place>\w+) · (?P<km>[\d,]+) km$", re.MULTILINE)


@pytest.fixture
def sale(transactional_db):
    """A live session of six products in six cities, loaded into Redis as the operators would."""
    session = make_session(name="Kitchen & home", opens_in=timedelta(minutes=-5), lasts=timedelta(hours=2))
    provider = make_provider("homewares")
    items = {}
    for order, (city, (name, quantity)) in enumerate(PRODUCTS.items()):
        product = make_product(provider, city=city, name=name, list_price=Decimal("80.00"))
        items[city] = make_item(
            session, product, quantity=quantity, per_user_limit=1, sale_price=Decimal("49.90"), display_order=order
        )
    load_session_into_redis(session)
    return session, items


def cards_by_distance(page) -> list[tuple[str, int]]:
    """(place, km shown) of every product card, in the order the page shows them."""
    found = []
    for text in page.get_by_role("article").all_inner_texts():
        match = CARD_PLACE.search(text)
        assert match, f"no place and distance in card {text!r}"
        found.append((match["place"], int(match["km"].replace(",", ""))))
    return found


def assert_sorted_from(page, latitude: float, longitude: float) -> list[str]:
    shown = cards_by_distance(page)
    expected = sorted(CITIES, key=lambda city: distance_km(latitude, longitude, *map(float, CITIES[city])))
    assert [place for place, _ in shown] == expected
    for place, km in shown:
        # Shown rounded to the kilometre.
        assert abs(km - distance_km(latitude, longitude, *map(float, CITIES[place]))) <= 1, (place, km)
    return expected


def test_shopper_signs_up_sorts_by_distance_reserves_pays_and_the_next_shopper_finds_it_sold_out(
    live_server, gateway, sale, new_context, make_user, csp_violations
):
    session, items = sale
    saucepan = items["Lyon"]
    shots = Screenshots("shopper")

    shopper = new_context(geolocation=GENEVA, permissions=["geolocation"])
    page = shopper.new_page()

    # Anyone sees today's live session on the home page.
    page.goto(live_server.url + "/")
    expect(page.get_by_role("heading", name="Today's flash sales")).to_be_visible()
    expect(page.get_by_role("link", name=re.compile("Kitchen & home"))).to_be_visible()
    shots(page, "home")

    # Sign up: the site logs the new shopper in and brings them home.
    page.get_by_role("link", name="Sign up").click()
    expect(page.get_by_role("heading", name="Create your account")).to_be_visible()
    page.get_by_label("Username").fill("lea")
    page.get_by_label("Email address").fill("lea@example.com")
    page.get_by_label("Password:", exact=True).fill(PASSWORD)
    page.get_by_label("Password confirmation").fill(PASSWORD)
    page.get_by_label("Type the characters you see").fill("PASSED")  # the CAPTCHA's test mode
    shots(page, "signup")
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_role("heading", name="Today's flash sales")).to_be_visible()
    expect(page.get_by_role("banner")).to_contain_text("lea")
    expect(page.get_by_role("button", name="Log out")).to_be_visible()

    # The sale page starts from the default location, then follows the city picker.
    page.get_by_role("link", name=re.compile("Kitchen & home")).click()
    expect(page.get_by_role("heading", name="Kitchen & home")).to_be_visible()
    expect(page.get_by_text("Sorted by distance from Paris")).to_be_visible()
    assert_sorted_from(page, *map(float, CITIES["Paris"]))

    page.get_by_label("or pick a city").select_option("Berlin")
    page.get_by_role("button", name="Sort").click()
    expect(page.get_by_text("Sorted by distance from Berlin")).to_be_visible()
    by_berlin = assert_sorted_from(page, *map(float, CITIES["Berlin"]))
    assert by_berlin[:2] == ["Berlin", "Amsterdam"]
    shots(page, "sale-sorted-from-berlin")

    # "Use my location": the browser shares Geneva; Lyon's saucepan comes first.
    page.get_by_role("button", name="Use my location").click()
    expect(page.get_by_text("Sorted by distance from Your location")).to_be_visible()
    by_me = assert_sorted_from(page, GENEVA["latitude"], GENEVA["longitude"])
    assert by_me[0] == "Lyon"
    first_card = page.get_by_role("article").first
    expect(first_card).to_contain_text("Copper saucepan")
    expect(first_card).to_contain_text("1 left")
    # On sale: its Reserve button is there and enabled (a badge marks only the other states).
    expect(first_card.get_by_role("button", name="Reserve")).to_be_enabled()

    # The CAPTCHA is there inline, before the rush; test mode accepts "PASSED".
    page.get_by_label("Type the characters you see").fill("PASSED")
    shots(page, "sale-sorted-from-my-location")
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_text("You are verified for this sale")).to_be_visible()
    shots(page, "verified")

    # Reserve the last saucepan: the site sends the shopper to the gateway with a signed token.
    first_card.get_by_role("button", name="Reserve").click()
    page.wait_for_url(f"{gateway.url}/checkout/**")
    expect(page.get_by_role("heading", name="Confirm your payment")).to_be_visible()
    checkout = page.get_by_role("table")
    expect(checkout).to_contain_text("49.90 EUR")
    expect(checkout.get_by_role("row", name=re.compile("Units"))).to_contain_text("1")
    # The token names what is paid for: the product and the sale, not an item number.
    expect(checkout.get_by_role("row", name=re.compile("Product"))).to_contain_text("Copper saucepan")
    expect(checkout.get_by_role("row", name=re.compile("Sale"))).to_contain_text("Kitchen & home")
    shots(page, "gateway-checkout")

    # Pay; the gateway sends the shopper back and posts its signed webhook to our site.
    page.get_by_role("button", name="Pay").click()
    page.wait_for_url(f"{live_server.url}/payments/return/**")
    # "Payment pending" refreshes itself until the webhook has landed.
    expect(page.get_by_role("heading", name="Payment confirmed")).to_be_visible(timeout=15_000)
    txn_id = page.url.split("txn=", 1)[1]
    expect(page.get_by_text(f"Reservation {txn_id}")).to_be_visible()
    shots(page, "payment-confirmed")

    # "My reservations" lists it paid; the drainer persists the stream as the beat job would.
    page.get_by_role("link", name="Back to today's sales").click()
    page.get_by_role("link", name="My reservations").click()
    row = page.get_by_role("row", name=re.compile("Copper saucepan"))

    def shown_paid() -> bool:
        drain_session(session.pk)
        if row.count() and "Paid" in row.inner_text():
            return True
        page.reload()
        return False

    wait_until(shown_paid, what="'Paid' in my reservations", interval=0.5)
    expect(row).to_contain_text("Kitchen & home")
    expect(row).to_contain_text("49.90 EUR")
    expect(row.get_by_role("cell").nth(1)).to_have_text("1")
    shots(page, "my-reservations-paid")
    paid = Transaction.objects.get(txn_id=txn_id)
    assert paid.status == Transaction.Status.PAID
    assert paid.item_id == saucepan.pk and paid.quantity == 1
    assert paid.gateway_order_id

    # A second shopper, in a browser of their own, finds the saucepan sold out.
    make_user("noah", password=PASSWORD)
    second = new_context().new_page()
    second.goto(f"{live_server.url}/accounts/login/?next=/sessions/{session.pk}/")
    second.get_by_label("Username").fill("noah")
    second.get_by_label("Password").fill(PASSWORD)
    second.get_by_role("button", name="Log in").click()
    expect(second.get_by_role("heading", name="Kitchen & home")).to_be_visible()
    sold = second.get_by_role("article").filter(has_text="Copper saucepan")
    expect(sold).to_contain_text("0 left")
    expect(sold).to_contain_text("Sold out")
    expect(sold.get_by_role("button", name="Reserve")).to_be_disabled()
    still_on_sale = second.get_by_role("article").filter(has_text="Enamel coffee pot")
    expect(still_on_sale).to_contain_text("5 left")
    expect(still_on_sale.get_by_role("button", name="Reserve")).to_be_enabled()
    shots(second, "second-shopper-sold-out")

    # Every page of ours above ran under the Content-Security-Policy without breaking it once.
    assert csp_violations == []
