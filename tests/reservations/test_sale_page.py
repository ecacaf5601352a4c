"""The sale page: products nearest first, prices, remaining units, per-item states, location."""

from __future__ import annotations

import re
from datetime import timedelta

from django.urls import reverse

from reservations.holds import confirm_payment, reserve_units
from tests.support.cards import card_order, cards_by_item
from tests.support.visits import visit_of


def _order(content: bytes) -> list[str]:
    return card_order(content.decode())


def test_products_are_sorted_by_distance_from_the_default_location(client, load_sale, settings):
    settings.FLASHSALE_DEFAULT_LOCATION = "52.52,13.405,Berlin"
    sale = load_sale(quantities=[3, 3, 3], cities=["Madrid", "Berlin", "Paris"])
    response = client.get(reverse("reservations-sale", args=[sale.id]))
    assert response.status_code == 200
    berlin, paris, madrid = str(sale.items[1].pk), str(sale.items[2].pk), str(sale.items[0].pk)
    assert _order(response.content) == [berlin, paris, madrid]
    html = response.content.decode()
    assert "Sorted by distance from <strong>Berlin</strong>" in html
    assert "49.90 EUR" in html and "<del>100.00</del>" in html and "−50%" in html
    assert "data-left>3<" in html and "<p>Berlin · 0 km</p>" in html


def test_the_city_picker_and_device_location_change_the_order(client, load_sale):
    sale = load_sale(quantities=[3, 3], cities=["Paris", "Madrid"])
    page = reverse("reservations-sale", args=[sale.id])
    location = reverse("reservations-location", args=[sale.id])
    assert _order(client.get(page).content)[0] == str(sale.items[0].pk)  # default: Paris

    response = client.post(location, {"city": "Madrid"})
    assert response.status_code == 303 and response["Location"] == page
    assert _order(client.get(page).content)[0] == str(sale.items[1].pk)
    assert "<option selected>Madrid</option>" in client.get(page).content.decode()

    client.post(location, {"latitude": "48.85", "longitude": "2.35"})
    assert _order(client.get(page).content)[0] == str(sale.items[0].pk)
    assert client.session["fs_location"]["source"] == "device"


def test_bad_locations_are_refused_clearly(client, load_sale):
    sale = load_sale(quantities=[3])
    location = reverse("reservations-location", args=[sale.id])
    assert client.post(location, {"city": "Atlantis"}).status_code == 400
    assert client.post(location, {"latitude": "91", "longitude": "0"}).status_code == 400
    assert client.post(location, {"latitude": "abc", "longitude": "0"}).status_code == 400


def test_item_states_for_the_shopper(shopper, load_sale, clock):
    sale = load_sale(quantities=[1, 5, 5], limit=1)
    reserve_units(sale.id, sale.items[0].pk, user_id=999, quantity=1, txn_id="A" * 26, now=clock.now())
    held = reserve_units(
        sale.id, sale.items[1].pk, user_id=shopper.user.pk, quantity=1, txn_id="B" * 26, now=clock.now()
    )
    confirm_payment(sale.id, held.txn_id, gateway_order_id="g", amount=held.amount, now=clock.now())
    html = shopper.get(reverse("reservations-sale", args=[sale.id])).content.decode()
    cards = cards_by_item(html)
    badges = {item: re.findall(r"data-state>([^<]+)<", card) for item, card in cards.items()}
    # A card on sale says so with its enabled button, the others with a badge.
    assert badges == {
        str(sale.items[0].pk): ["Sold out"],
        str(sale.items[1].pk): ["Your limit reached"],
        str(sale.items[2].pk): [],
    }
    on_sale = sale.items[2].pk
    # Its button is named after the product: "Reserve" (the page's one hidden label) and the heading.
    assert f'<button name=item value={on_sale} aria-labelledby="r n{on_sale}">Reserve' in cards[str(on_sale)]
    assert '<span id="r" hidden>Reserve</span>' in html
    # A limit of one is the page's rule, said once above the cards, not on each card.
    assert "One unit of each product per shopper" in html and "max 1 each" not in html


def test_an_upcoming_session_shows_when_it_opens(client, load_sale):
    sale = load_sale(quantities=[2], opens_in=timedelta(minutes=5))
    html = client.get(reverse("reservations-sale", args=[sale.id])).content.decode()
    assert "Opens in 5 min 00 s" in html
    assert f'data-countdown="{sale.session.starts_at.timestamp():f}"' in html


def test_each_visit_of_the_page_mints_a_sortable_transaction_id(shopper, load_sale, clock):
    sale = load_sale(quantities=[2])
    shopper.get(reverse("reservations-sale", args=[sale.id]))
    first = visit_of(shopper, sale.id)["id"]
    clock.advance(seconds=1)
    shopper.get(reverse("reservations-sale", args=[sale.id]))
    second = visit_of(shopper, sale.id)["id"]
    assert len(first) == len(second) == 26
    assert second > first  # ULIDs sort by the time they were minted


def test_the_transaction_id_differs_per_item_and_keeps_the_visit_time():
    from ulid import ULID

    from reservations.shopper import Entry, item_txn_id

    entry = Entry(str(ULID()), 0.0)
    one, two = item_txn_id(entry, 1), item_txn_id(entry, 2)
    assert one != two and one == item_txn_id(entry, 1)
    assert one[:10] == two[:10] == entry.txn_id[:10]  # the 48-bit timestamp part


def test_visits_minted_in_the_same_millisecond_get_different_transaction_ids():
    """python-ulid counts up within a millisecond: the ids must keep the bits that change."""
    from reservations.shopper import item_txn_id, new_visit

    visits = [new_visit(now=0.0) for _ in range(2000)]
    assert len({visit.txn_id[:10] for visit in visits}) < len(visits)  # some did share a millisecond
    for item_id in (1, 2, 33_554_431):
        ids = {item_txn_id(visit, item_id) for visit in visits}
        assert len(ids) == len(visits)
        assert all(len(txn_id) == 26 for txn_id in ids)


def test_an_unknown_session_is_404(client, db):
    assert client.get(reverse("reservations-sale", args=[4242])).status_code == 404


def test_the_header_names_the_shopper_without_reading_the_user(client, load_sale, make_user, django_assert_num_queries):
    sale = load_sale(quantities=[2])
    make_user("ada", password="a-long-pass-phrase")
    assert client.post(reverse("login"), {"username": "ada", "password": "a-long-pass-phrase"}).status_code == 302
    page = reverse("reservations-sale", args=[sale.id])
    with django_assert_num_queries(0):
        first = client.get(page).content.decode()  # reads the session, stores the ticket
        again = client.get(page).content.decode()  # reads the ticket only
    assert '<span class="who">ada</span>' in first and '<span class="who">ada</span>' in again
