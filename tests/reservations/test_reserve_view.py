"""POST reserve: 303 to the gateway with a signed token, or a clear page per refusal, never a 500."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse

from reservations.holds import reserve_units, transaction_state
from reservations.shopper import Entry, item_txn_id
from reservations.tokens import verify_for_site
from tests.support.passes import give_pass
from tests.support.visits import visit_of


def _reserve(client, sale, item=None, **data):
    return client.post(reverse("reservations-reserve", args=[sale.id, (item or sale.item).pk]), data)


def test_a_reservation_redirects_to_the_gateway_with_a_valid_token(shopper, load_sale, clock, settings):
    settings.FLASHSALE_GATEWAY_URL = "http://127.0.0.1:18301"
    sale = load_sale(quantities=[5], limit=2)
    shopper.get(reverse("reservations-sale", args=[sale.id]))
    entry = visit_of(shopper, sale.id)
    txn_id = item_txn_id(Entry(entry["id"], entry["at"]), sale.item.pk)
    give_pass(shopper, sale.id, now=clock.now())

    response = _reserve(shopper, sale, quantity="2")

    assert response.status_code == 303
    url = urlsplit(response["Location"])
    assert f"{url.scheme}://{url.netloc}{url.path}" == "http://127.0.0.1:18301/checkout/"
    claims = verify_for_site(parse_qs(url.query)["token"][0], now=clock.now().timestamp())
    assert (claims.txn_id, claims.user_id, claims.session_id, claims.item_id) == (
        txn_id,
        shopper.user.pk,
        sale.id,
        sale.item.pk,
    )
    assert (claims.units, claims.amount, claims.currency) == (2, "99.80", "EUR")
    assert transaction_state(sale.id, txn_id)["status"] == "reserved"
    # The next reservation gets a new TransactionID.
    assert visit_of(shopper, sale.id)["id"] != txn_id


def test_a_double_submit_replays_the_same_reservation(shopper, load_sale, clock):
    sale = load_sale(quantities=[5], limit=2)
    shopper.get(reverse("reservations-sale", args=[sale.id]))
    txn_id = visit_of(shopper, sale.id)["id"]
    give_pass(shopper, sale.id, now=clock.now())
    # Another tab's request with the same id already went through.
    reserve_units(sale.id, sale.item.pk, user_id=shopper.user.pk, quantity=1, txn_id=txn_id, now=clock.now())
    response = _reserve(shopper, sale)
    assert response.status_code == 303 and "/checkout/?token=" in response["Location"]
    assert transaction_state(sale.id, txn_id)["quantity"] == "1"


@pytest.mark.parametrize(
    "setup, status, text",
    [
        ("sold_out", 409, "Sold out"),
        ("limit", 403, "Limit reached"),
        ("not_open", 425, "Not open yet"),
        ("ended", 410, "Sale ended"),
        ("ended_without_pass", 410, "Sale ended"),
        ("unknown_item", 404, "Not found"),
        ("no_pass", 403, "One quick check first"),
        ("bad_quantity", 400, "Invalid quantity"),
    ],
)
def test_each_refusal_has_its_page_and_status(shopper, load_sale, clock, setup, status, text):
    sale = load_sale(quantities=[1], limit=1, opens_in=timedelta(minutes=10) if setup == "not_open" else timedelta(0))
    if setup != "no_pass":
        give_pass(shopper, sale.id, now=clock.now())
    item = sale.item
    data = {"quantity": "1"}
    if setup == "sold_out":
        reserve_units(sale.id, sale.item.pk, user_id=999, quantity=1, txn_id="A" * 26, now=clock.now())
    elif setup == "limit":
        data["quantity"] = "2"
    elif setup == "ended":
        clock.set(sale.session.ends_at + timedelta(seconds=1))
        give_pass(shopper, sale.id, now=clock.now())
    elif setup == "ended_without_pass":
        clock.set(sale.session.ends_at + timedelta(seconds=1))
    elif setup == "unknown_item":
        item = type(item)(pk=item.pk + 1000)
    elif setup == "bad_quantity":
        data["quantity"] = "many"
    response = _reserve(shopper, sale, item, **data)
    assert response.status_code == status
    assert text in response.content.decode()
    assert reverse("reservations-sale", args=[sale.id]) in response.content.decode()


def test_the_captcha_page_is_offered_when_the_pass_is_missing(shopper, load_sale):
    sale = load_sale(quantities=[1])
    response = _reserve(shopper, sale)
    assert reverse("reservations-captcha", args=[sale.id]) in response.content.decode()


def test_an_unknown_session_is_404(shopper, db, clock):
    give_pass(shopper, 4242, now=clock.now())
    response = shopper.post(reverse("reservations-reserve", args=[4242, 1]), {"quantity": "1"})
    assert response.status_code == 404


def test_anonymous_shoppers_are_sent_to_log_in(client, load_sale):
    sale = load_sale(quantities=[1])
    response = _reserve(client, sale)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_reserve_needs_post_and_csrf(shopper, load_sale, clock):
    from django.test import Client

    sale = load_sale(quantities=[1])
    url = reverse("reservations-reserve", args=[sale.id, sale.item.pk])
    assert shopper.get(url).status_code == 405
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(shopper.user)
    give_pass(strict, sale.id, now=clock.now())
    assert strict.post(url, {"quantity": "1"}).status_code == 403


def test_replaying_a_paid_or_expired_reservation_does_not_reserve_again(shopper, load_sale, clock, settings):
    from reservations.holds import confirm_payment, expire_holds

    settings.FLASHSALE_RESERVATION_TTL_SECONDS = 60
    sale = load_sale(quantities=[5], limit=3)
    give_pass(shopper, sale.id, now=clock.now())
    for settle, expected in (("pay", reverse("reservations-mine")), ("expire", None)):
        shopper.get(reverse("reservations-sale", args=[sale.id]))
        entry = visit_of(shopper, sale.id)
        txn_id = item_txn_id(Entry(entry["id"], entry["at"]), sale.item.pk)
        held = reserve_units(sale.id, sale.item.pk, user_id=shopper.user.pk, quantity=1, txn_id=txn_id, now=clock.now())
        if settle == "pay":
            confirm_payment(sale.id, txn_id, gateway_order_id="g", amount=held.amount, now=clock.now())
        else:
            clock.advance(seconds=60)
            expire_holds(sale.id, now=clock.now())
        response = _reserve(shopper, sale)
        if expected:
            assert response.status_code == 303 and response["Location"] == expected
        else:
            assert response.status_code == 410 and "no longer held" in response.content.decode()
    # A new visit of the sale page mints a new TransactionID: the shopper can reserve again.
    shopper.get(reverse("reservations-sale", args=[sale.id]))
    assert _reserve(shopper, sale).status_code == 303
