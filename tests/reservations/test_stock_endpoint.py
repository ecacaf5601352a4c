"""The stock polls: stock.json is the same for everybody and cacheable; mine.json is the shopper's own."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse

from plans.loading import unload_session
from reservations.holds import reserve_units
from tests.support.redis_monitor import commands_during


def _stock(client, sale, **headers):
    return client.get(reverse("reservations-stock", args=[sale.id]), headers=headers)


def _mine(client, sale) -> dict:
    response = client.get(reverse("reservations-mine-counts", args=[sale.id]))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]
    return response.json()["items"]


def test_the_shared_poll_reports_every_items_remaining_units_and_may_be_cached(shopper, load_sale, clock):
    sale = load_sale(quantities=[4, 2], limit=2)
    reserve_units(sale.id, sale.items[0].pk, user_id=shopper.user.pk, quantity=2, txn_id="A" * 26, now=clock.now())
    response = _stock(shopper, sale)
    assert response.status_code == 200
    assert response["Cache-Control"] == "public, max-age=1"
    assert "Cookie" not in response.get("Vary", "")
    data = response.json()
    assert data["items"] == {str(sale.items[0].pk): 2, str(sale.items[1].pk): 2}
    assert data["ends_at"] == sale.session.ends_at.timestamp()
    assert data["phase"] == "live" and data["now"] == clock.now().timestamp()
    assert "yours" not in response.content.decode()


def test_two_shoppers_and_a_visitor_get_the_same_body(shopper, load_sale, make_user, clock):
    sale = load_sale(quantities=[4, 2], limit=2)
    reserve_units(sale.id, sale.items[0].pk, user_id=shopper.user.pk, quantity=1, txn_id="A" * 26, now=clock.now())
    other = Client()
    other.force_login(make_user())
    other.get(reverse("reservations-sale", args=[sale.id]))  # the other one holds a ticket too
    bodies = {_stock(client, sale).content for client in (shopper, other, Client())}
    assert len(bodies) == 1


def test_the_etag_answers_304_until_the_stock_changes(shopper, load_sale, make_user, clock):
    sale = load_sale(quantities=[4], limit=2)
    first = _stock(shopper, sale)
    etag = first["ETag"]
    assert etag.startswith('W/"')
    clock.advance(seconds=1)
    again = _stock(Client(), sale, if_none_match=etag)
    assert again.status_code == 304 and again["ETag"] == etag and not again.content

    reserve_units(sale.id, sale.item.pk, user_id=make_user().pk, quantity=1, txn_id="B" * 26, now=clock.now())
    assert _stock(Client(), sale, if_none_match=etag).status_code == 304  # the same second: the same snapshot
    clock.advance(seconds=1)
    changed = _stock(Client(), sale, if_none_match=etag)
    assert changed.status_code == 200 and changed["ETag"] != etag
    assert changed.json()["version"] > first.json()["version"]
    assert changed.json()["items"] == {str(sale.item.pk): 3}


def test_a_process_reads_the_stock_once_a_second_whoever_asks(shopper, load_sale, clock, redis_conn):
    sale = load_sale(quantities=[3])
    assert _stock(shopper, sale).status_code == 200
    commands = commands_during(redis_conn, lambda: [_stock(client, sale) for client in (shopper, Client(), shopper)])
    assert commands == []  # the snapshot read for the first poll serves the next ones
    clock.advance(seconds=1)
    assert commands_during(redis_conn, lambda: _stock(Client(), sale)) == ["EVALSHA"]


def test_the_version_grows_with_every_change_of_stock(shopper, load_sale, make_user, clock):
    from plans.adjusting import adjust_stock
    from reservations.holds import release_hold

    sale = load_sale(quantities=[5], limit=2)

    def version() -> int:
        clock.advance(seconds=1)
        return _stock(Client(), sale).json()["version"]

    seen = [version()]
    held = reserve_units(sale.id, sale.item.pk, user_id=shopper.user.pk, quantity=1, txn_id="C" * 26, now=clock.now())
    seen.append(version())
    release_hold(sale.id, held.txn_id, reason="cancelled", now=clock.now())
    seen.append(version())
    adjust_stock(sale.item, delta=2, reason="more")
    seen.append(version())
    assert seen == sorted(seen) and len(set(seen)) == 4


def test_unknown_session_is_404_json(client, db):
    response = client.get(reverse("reservations-stock", args=[999]))
    assert response.status_code == 404 and response.json() == {"error": "not_found"}


def test_a_session_that_is_not_loaded_is_404_within_a_second(shopper, load_sale, clock):
    sale = load_sale(quantities=[1])
    shopper.get(reverse("reservations-sale", args=[sale.id]))
    unload_session(sale.id)
    clock.advance(seconds=1)
    response = _stock(shopper, sale)
    assert response.status_code == 404 and response.json() == {"error": "not_found"}
    assert _mine_status(shopper, sale) == 404


def _mine_status(client, sale) -> int:
    return client.get(reverse("reservations-mine-counts", args=[sale.id])).status_code


def test_a_shopper_who_opened_the_sale_page_gets_their_counts_in_one_command(shopper, load_sale, clock, redis_conn):
    sale = load_sale(quantities=[4, 2], limit=2)
    shopper.get(reverse("reservations-sale", args=[sale.id]))  # writes the shopper's ticket
    reserve_units(sale.id, sale.items[1].pk, user_id=shopper.user.pk, quantity=1, txn_id="B" * 26, now=clock.now())

    seen = {}
    commands = commands_during(redis_conn, lambda: seen.update(_mine(shopper, sale)))

    # The script finds the user in the ticket: no session read.
    assert commands == ["EVALSHA"]
    assert seen == {str(sale.items[1].pk): 1}


def test_without_a_ticket_the_session_names_the_shopper(shopper, load_sale, clock, redis_conn):
    sale = load_sale(quantities=[4], limit=2)
    reserve_units(sale.id, sale.item.pk, user_id=shopper.user.pk, quantity=2, txn_id="C" * 26, now=clock.now())
    assert not redis_conn.keys(f"*{{s:{sale.id}}}:ticket:*")

    seen = {}
    commands = commands_during(redis_conn, lambda: seen.update(_mine(shopper, sale)))

    # The script says "no ticket", the session is read, the script runs again for that user.
    assert commands == ["EVALSHA", "GET", "EVALSHA"]
    assert seen == {str(sale.item.pk): 2}


def test_a_visitor_has_no_counts(client, load_sale):
    sale = load_sale(quantities=[3])
    assert _mine(client, sale) == {}


def test_after_logging_out_the_old_cookie_sees_no_counts(shopper, load_sale, clock, client):
    sale = load_sale(quantities=[4], limit=2)
    shopper.get(reverse("reservations-sale", args=[sale.id]))
    reserve_units(sale.id, sale.item.pk, user_id=shopper.user.pk, quantity=1, txn_id="D" * 26, now=clock.now())
    assert _mine(shopper, sale) == {str(sale.item.pk): 1}
    cookie = shopper.cookies["sessionid"].value
    shopper.post(reverse("logout"))

    # Someone replaying the old cookie: the ticket went with the session, so no one's counts show.
    client.cookies["sessionid"] = cookie
    assert _mine(client, sale) == {}
