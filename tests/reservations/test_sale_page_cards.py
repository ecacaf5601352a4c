"""The sale page's cards: per-process display data kept fresh, escaping, CSRF, per-request stock."""

from __future__ import annotations

import re
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
from django.template.defaultfilters import floatformat
from django.test import Client
from django.urls import reverse

from plans.loading import load_session_into_redis, unload_session
from reservations.cards import km as _km
from reservations.holds import reserve_units
from reservations.tokens import verify_for_site
from tests.support.cards import cards_by_item
from tests.support.passes import give_pass


def _cards(html: str) -> dict[str, str]:
    return cards_by_item(html)


def test_a_reload_after_an_edit_shows_the_new_name_and_price(client, load_sale, clock):
    sale = load_sale(quantities=[3])
    page = reverse("reservations-sale", args=[sale.id])
    assert "49.90 EUR" in client.get(page).content.decode()  # this process now keeps the display data

    product = sale.item.product
    product.name = "Renamed lamp"
    product.save()
    sale.item.sale_price = Decimal("12.00")
    sale.item.save()
    clock.advance(seconds=1)
    load_session_into_redis(sale.session)

    card = _cards(client.get(page).content.decode())[str(sale.item.pk)]
    assert f"<h3 id=n{sale.item.pk}>Renamed lamp</h3>" in card and "12.00 EUR" in card and "49.90" not in card


def test_remaining_units_and_the_shoppers_count_are_read_on_every_visit(shopper, load_sale, clock):
    sale = load_sale(quantities=[5, 5], limit=3)
    page = reverse("reservations-sale", args=[sale.id])
    card = _cards(shopper.get(page).content.decode())[str(sale.item.pk)]
    assert "data-left>5<" in card and "left · max 3 each" in card

    reserve_units(sale.id, sale.item.pk, user_id=shopper.user.pk, quantity=2, txn_id="C" * 26, now=clock.now())
    # The shopper's own count at once (read on every visit); everybody's numbers within a second.
    card = _cards(shopper.get(page).content.decode())[str(sale.item.pk)]
    assert "data-left>5<" in card and "you have <span data-yours>2</span>" in card
    clock.advance(seconds=1)
    card = _cards(shopper.get(page).content.decode())[str(sale.item.pk)]
    assert "data-left>3<" in card and "you have <span data-yours>2</span>" in card
    # One unit left under the limit of 3: no picker, a quantity of 1.
    assert "<select" not in card and f"<button name=item value={sale.item.pk} " in card


def test_an_unloaded_session_is_404_even_after_its_page_was_shown(client, load_sale, clock):
    sale = load_sale(quantities=[2])
    page = reverse("reservations-sale", args=[sale.id])
    assert client.get(page).status_code == 200
    unload_session(sale.id)
    clock.advance(seconds=1)  # a process's copy of the stock is at most a second old
    assert client.get(page).status_code == 404


def test_product_text_is_escaped(shopper, load_sale):
    sale = load_sale(quantities=[2])
    product = sale.item.product
    product.name = '<script>alert("x")</script> & co'
    product.place = "Saint-<b>Denis</b>"
    product.image_url = 'https://img.example/a.jpg" onerror="alert(1)'
    product.save()
    load_session_into_redis(sale.session)

    html = shopper.get(reverse("reservations-sale", args=[sale.id])).content.decode()
    card = _cards(html)[str(sale.item.pk)]
    assert "<script>alert" not in html and "<b>Denis" not in html and '" onerror="' not in html
    assert ">&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; co</h3>" in card
    assert "Saint-&lt;b&gt;Denis&lt;/b&gt;" in card
    assert 'src="https://img.example/a.jpg&quot; onerror=&quot;alert(1)"' in card


def test_every_reserve_form_carries_a_working_csrf_token(load_sale, make_user, clock):
    sale = load_sale(quantities=[3, 3, 3], limit=2)
    user = make_user()
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)
    give_pass(browser, sale.id, now=clock.now())

    html = browser.get(reverse("reservations-sale", args=[sale.id])).content.decode()
    # One form holds every card; the Reserve button pressed names its item.
    forms = re.findall(r'<form method="post" action="([^"]+)" class="[^"]*reserve-list">(.*?)</form>', html, re.S)
    assert len(forms) == 1
    action, body = forms[0]
    assert action == reverse("reservations-reserve-chosen", args=[sale.id])
    assert re.findall(r"<button name=item value=(\d+) ", body) == [str(item.pk) for item in sale.items]
    assert body.count('name="csrfmiddlewaretoken"') == 1
    # The page's one token, in the reserve form as in its other forms (location, log out).
    tokens = re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    assert len(tokens) > len(forms) and len(set(tokens)) == 1
    token = tokens[0]

    second = str(sale.items[1].pk)
    assert browser.post(action, {"item": second, f"q{second}": "1"}).status_code == 403  # no token: refused
    reserved = browser.post(action, {"item": second, f"q{second}": "2", "csrfmiddlewaretoken": token})
    assert reserved.status_code == 303
    token = parse_qs(urlsplit(reserved["Location"]).query)["token"][0]
    claims = verify_for_site(token, now=clock.now().timestamp())
    assert (claims.item_id, claims.units) == (sale.items[1].pk, 2)  # the button's item, its own picker


def test_an_ended_sale_shows_no_reserve_forms(shopper, load_sale, clock):
    sale = load_sale(quantities=[2, 2])
    clock.advance(hours=2)
    html = shopper.get(reverse("reservations-sale", args=[sale.id])).content.decode()
    cards = _cards(html)
    assert len(cards) == 2
    assert all("<button" not in card and "Sale ended" in card for card in cards.values())
    assert "reserve-list" not in html


@pytest.mark.parametrize("distance", [0.0, 0.4999, 0.5, 1.5, 2.5, 12.3456, 99.5, 345.9999, 20039.9])
def test_distances_round_like_the_floatformat_filter(distance):
    assert _km(distance) == floatformat(distance, 0)
