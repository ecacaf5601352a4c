"""stock.json: remaining units per item and the shopper's own counts, from Redis alone."""

from __future__ import annotations

from django.urls import reverse

from plans.loading import unload_session
from reservations.holds import reserve_units
from tests.support.redis_monitor import commands_during


def test_the_poll_reports_remaining_units_and_yours(shopper, load_sale, clock):
    sale = load_sale(quantities=[4, 2], limit=2)
    reserve_units(sale.id, sale.items[0].pk, user_id=shopper.user.pk, quantity=2, txn_id="A" * 26, now=clock.now())
    response = shopper.get(reverse("reservations-stock", args=[sale.id]))
    assert response.status_code == 200
    assert response["Cache-Control"].startswith("max-age=0")
    data = response.json()
    assert data["items"] == {
        str(sale.items[0].pk): {"remaining": 2, "yours": 2},
        str(sale.items[1].pk): {"remaining": 2, "yours": 0},
    }
    assert data["ends_at"] == sale.session.ends_at.timestamp()


def test_unknown_session_is_404_json(client, db):
    response = client.get(reverse("reservations-stock", args=[999]))
    assert response.status_code == 404 and response.json() == {"error": "not_found"}


def _poll(client, sale) -> dict:
    response = client.get(reverse("reservations-stock", args=[sale.id]))
    assert response.status_code == 200
    return response.json()["items"]


def test_a_shopper_who_opened_the_sale_page_is_polled_in_one_command(shopper, load_sale, clock, redis_conn):
    sale = load_sale(quantities=[4, 2], limit=2)
    shopper.get(reverse("reservations-sale", args=[sale.id]))  # writes the shopper's ticket
    reserve_units(sale.id, sale.items[1].pk, user_id=shopper.user.pk, quantity=1, txn_id="B" * 26, now=clock.now())

    seen = {}
    commands = commands_during(redis_conn, lambda: seen.update(_poll(shopper, sale)))

    # The script finds the user in the ticket: no session read.
    assert commands == ["EVALSHA"]
    assert seen == {
        str(sale.items[0].pk): {"remaining": 4, "yours": 0},
        str(sale.items[1].pk): {"remaining": 1, "yours": 1},
    }


def test_without_a_ticket_the_session_names_the_shopper(shopper, load_sale, clock, redis_conn):
    sale = load_sale(quantities=[4], limit=2)
    reserve_units(sale.id, sale.item.pk, user_id=shopper.user.pk, quantity=2, txn_id="C" * 26, now=clock.now())
    assert not redis_conn.keys(f"*{{s:{sale.id}}}:ticket:*")

    seen = {}
    commands = commands_during(redis_conn, lambda: seen.update(_poll(shopper, sale)))

    # The script says "no ticket", the session is read, the script runs again for that user.
    assert commands == ["EVALSHA", "GET", "EVALSHA"]
    assert seen == {str(sale.item.pk): {"remaining": 2, "yours": 2}}


def test_a_visitor_without_a_session_is_polled_in_one_command(client, load_sale, redis_conn):
    sale = load_sale(quantities=[3])
    seen = {}
    commands = commands_during(redis_conn, lambda: seen.update(_poll(client, sale)))
    assert commands == ["EVALSHA"]
    assert seen == {str(sale.item.pk): {"remaining": 3, "yours": 0}}


def test_after_logging_out_the_old_cookie_sees_no_counts(shopper, load_sale, clock, client):
    sale = load_sale(quantities=[4], limit=2)
    shopper.get(reverse("reservations-sale", args=[sale.id]))
    reserve_units(sale.id, sale.item.pk, user_id=shopper.user.pk, quantity=1, txn_id="D" * 26, now=clock.now())
    assert _poll(shopper, sale)[str(sale.item.pk)]["yours"] == 1
    cookie = shopper.cookies["sessionid"].value
    shopper.post(reverse("logout"))

    # Someone replaying the old cookie: the ticket went with the session, so no one's counts show.
    client.cookies["sessionid"] = cookie
    assert _poll(client, sale) == {str(sale.item.pk): {"remaining": 3, "yours": 0}}


def test_a_session_that_is_not_loaded_is_404_with_or_without_a_ticket(shopper, load_sale):
    sale = load_sale(quantities=[1])
    shopper.get(reverse("reservations-sale", args=[sale.id]))
    unload_session(sale.id)
    response = shopper.get(reverse("reservations-stock", args=[sale.id]))
    assert response.status_code == 404 and response.json() == {"error": "not_found"}
