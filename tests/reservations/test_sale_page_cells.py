"""The sale page's cards are rendered once per location cell and second, and shared by its shoppers."""

from __future__ import annotations

import re

from django.test import Client
from django.urls import reverse

from reservations import cards
from reservations.availability import location_cell
from reservations.holds import reserve_units
from tests.support.cards import card_order


def _shopper_at(make_user, sale, latitude: float, longitude: float) -> Client:
    client = Client()
    client.force_login(make_user())
    answer = client.post(
        reverse("reservations-location", args=[sale.id]), {"latitude": str(latitude), "longitude": str(longitude)}
    )
    assert answer.status_code == 303
    return client


def _card_list(client, sale) -> str:
    html = client.get(reverse("reservations-sale", args=[sale.id])).content.decode()
    return re.search(r'class="grid products reserve-list">.*?(<article.*</article>)', html, re.S).group(1)


def test_shoppers_in_one_cell_share_one_rendering_and_a_far_cell_gets_its_own(load_sale, make_user, clock):
    sale = load_sale(quantities=[3, 3, 3], cities=["Paris", "Lyon", "Berlin"])
    # Two shoppers 80 m apart in central Paris, one in Lyon.
    here, next_door = (48.8566, 2.3522), (48.8573, 2.3525)
    assert location_cell(*here).key == location_cell(*next_door).key
    first = _card_list(_shopper_at(make_user, sale, *here), sale)
    built = dict(cards._lists)
    second = _card_list(_shopper_at(make_user, sale, *next_door), sale)
    assert second == first
    assert cards._lists == built  # reused: nothing rendered for the second shopper

    far = _card_list(_shopper_at(make_user, sale, 45.7640, 4.8357), sale)
    assert far != first and len(cards._lists) == len(built) + 1
    order = card_order(far)
    assert order[0] == str(sale.items[1].pk)  # Lyon's product first from Lyon


def test_distances_are_measured_from_the_cells_centre(load_sale, make_user, clock):
    sale = load_sale(quantities=[3], cities=["Lyon"])
    html = _card_list(_shopper_at(make_user, sale, 48.8566, 2.3522), sale)
    # Paris to the Lyon product (its factory position) is ~391 km; the cell's centre is within half a km.
    shown = int(re.search(r"<p>Lyon · (\d+) km</p>", html).group(1))
    assert 390 <= shown <= 393


def test_a_shopper_who_holds_units_sees_their_own_count_around_the_shared_list(load_sale, make_user, clock):
    sale = load_sale(quantities=[5, 5], limit=3)
    holder, other = _shopper_at(make_user, sale, 48.8566, 2.3522), _shopper_at(make_user, sale, 48.8566, 2.3522)
    holder_id = int(holder.session["_auth_user_id"])
    reserve_units(sale.id, sale.items[0].pk, user_id=holder_id, quantity=2, txn_id="H" * 26, now=clock.now())
    clock.advance(seconds=1)
    mine, theirs = _card_list(holder, sale), _card_list(other, sale)
    assert "you have <span data-yours>2</span>" in mine and "data-yours" not in theirs
    # Everything but the holder's own card is the shared rendering.
    assert mine.split("</article>")[1:] == theirs.split("</article>")[1:]
