"""Refusal pages say what happened in the shopper's words and offer one way on, the way back beside it."""

from __future__ import annotations

import re

from django.urls import reverse

from reservations.holds import reserve_units
from tests.support.passes import give_pass


def _buttons(html: str) -> list[tuple[str, str]]:
    """(class, text) of every link styled as a button in the page's main part."""
    main = html[html.index("<main") :]
    return re.findall(r'<a class="(button[^"]*)" href="[^"]*">([^<]+)</a>', main)


def test_the_limit_refusal_names_the_product_and_the_limit_and_leads_to_paying(shopper, load_sale, clock):
    sale = load_sale(quantities=[5], limit=2)
    give_pass(shopper, sale.id, now=clock.now())
    shopper.get(reverse("reservations-sale", args=[sale.id]))  # this process now knows the product's name
    reserve_units(sale.id, sale.item.pk, user_id=shopper.user.pk, quantity=2, txn_id="A" * 26, now=clock.now())

    response = shopper.post(reverse("reservations-reserve", args=[sale.id, sale.item.pk]), {"quantity": "1"})

    html = response.content.decode()
    assert response.status_code == 403
    assert f"You already hold 2 of {sale.item.product.name}, the most one shopper may hold (2)." in html
    assert _buttons(html) == [("button", "Pay in My reservations"), ("button secondary", "Back to the sale")]
    assert f'href="{reverse("reservations-mine")}"' in html


def test_asking_for_more_than_the_limit_allows_says_how_many(shopper, load_sale, clock):
    sale = load_sale(quantities=[5], limit=3)
    give_pass(shopper, sale.id, now=clock.now())
    shopper.get(reverse("reservations-sale", args=[sale.id]))
    reserve_units(sale.id, sale.item.pk, user_id=shopper.user.pk, quantity=2, txn_id="A" * 26, now=clock.now())
    response = shopper.post(reverse("reservations-reserve", args=[sale.id, sale.item.pk]), {"quantity": "2"})
    assert (
        "You hold 2 of" in response.content.decode() and "one shopper may hold at most 3." in response.content.decode()
    )


def test_the_captcha_refusal_has_one_primary_button(shopper, load_sale, clock):
    sale = load_sale(quantities=[5])
    shopper.get(reverse("reservations-sale", args=[sale.id]))
    response = shopper.post(reverse("reservations-reserve", args=[sale.id, sale.item.pk]), {"quantity": "1"})
    assert response.status_code == 403
    assert _buttons(response.content.decode()) == [
        ("button", "Verify I'm human"),
        ("button secondary", "Back to the sale"),
    ]
