"""Reserve tickets: the one-round-trip reserve path is exactly as strict as reading the session."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse

from flashsale.store import keys
from reservations import tickets
from reservations.holds import ReserveRequest, TicketHolder, reserve, transaction_state
from reservations.refusals import TicketNotAccepted
from reservations.shopper import Entry, item_txn_id
from tests.support.passes import give_pass
from tests.support.visits import visit_of


def _reserve(client, sale, item=None, **data):
    return client.post(reverse("reservations-reserve", args=[sale.id, (item or sale.item).pk]), data)


def _visit(client, sale):
    assert client.get(reverse("reservations-sale", args=[sale.id])).status_code == 200


def reserve_with_ticket(session_id, item_id, *, session_key, quantity, now, require_admission):
    holder = TicketHolder(session_key=session_key, require_admission=require_admission)
    return reserve(ReserveRequest(session_id=session_id, item_id=item_id, quantity=quantity, now=now, shopper=holder))


def _ready(client, sale, clock):
    """A shopper who passed the CAPTCHA, was admitted and opened the sale page (so holds a ticket)."""
    give_pass(client, sale.id, now=clock.now())
    _visit(client, sale)
    assert tickets.read_ticket(sale.id, client.session.session_key) is not None


def _ticket_refusal(sale, session_key: str, clock) -> str:
    """Why the reserve script will not decide from this session's ticket alone."""
    with pytest.raises(TicketNotAccepted) as refused:
        reserve_with_ticket(
            sale.id,
            sale.item.pk,
            session_key=session_key,
            quantity=1,
            now=clock.now().timestamp(),
            require_admission=True,
        )
    return refused.value.reason


def test_the_script_derives_the_same_transaction_id_as_python(shopper, load_sale, clock):
    sale = load_sale(quantities=[5, 5], limit=1)
    _ready(shopper, sale, clock)
    entry = visit_of(shopper, sale.id)

    for item in sale.items:
        held = reserve_with_ticket(
            sale.id,
            item.pk,
            session_key=shopper.session.session_key,
            quantity=1,
            now=clock.now().timestamp(),
            require_admission=True,
        )
        expected = item_txn_id(Entry(entry["id"], entry["at"]), item.pk)
        assert held.txn_id == expected and held.user_id == shopper.user.pk
        assert transaction_state(sale.id, expected)["user"] == str(shopper.user.pk)
    assert len({item_txn_id(Entry(entry["id"], entry["at"]), item.pk) for item in sale.items}) == 2


def test_the_ticket_carries_the_session_facts(shopper, load_sale, clock, redis_conn):
    sale = load_sale(quantities=[5])
    _ready(shopper, sale, clock)
    shopper.post(reverse("reservations-location", args=[sale.id]), {"latitude": "45.75", "longitude": "4.85"})

    ticket = tickets.read_ticket(sale.id, shopper.session.session_key)
    entry = visit_of(shopper, sale.id)
    assert ticket.user_id == shopper.user.pk
    assert (ticket.visit_txn, ticket.entered_at) == (entry["id"], entry["at"])
    assert (ticket.latitude, ticket.longitude) == (45.75, 4.85)
    assert ticket.captcha_until > clock.now().timestamp() and ticket.admitted_until > clock.now().timestamp()
    # Named by a digest: listing keys does not reveal session keys.
    assert shopper.session.session_key not in str(redis_conn.keys(f"*{{s:{sale.id}}}:ticket:*"))
    assert 0 < redis_conn.ttl(tickets.ticket_key(sale.id, shopper.session.session_key)) <= 1800


def test_logging_out_ends_the_ticket_at_once(shopper, load_sale, clock, client):
    sale = load_sale(quantities=[5])
    _ready(shopper, sale, clock)
    cookie = shopper.cookies["sessionid"].value
    shopper.post(reverse("logout"))

    assert tickets.read_ticket(sale.id, cookie) is None
    # The old cookie, replayed by someone who kept it, reserves nothing.
    client.cookies["sessionid"] = cookie
    response = _reserve(client, sale)
    assert response.status_code == 302 and reverse("login") in response["Location"]
    assert _ticket_refusal(sale, cookie, clock) == "no_ticket"


def test_a_password_change_ends_the_tickets_of_every_session(shopper, load_sale, clock):
    sale = load_sale(quantities=[5])
    _ready(shopper, sale, clock)
    session_key = shopper.session.session_key
    shopper.user.set_password("a new long passphrase 42")
    shopper.user.save()
    assert tickets.read_ticket(sale.id, session_key) is None


def test_a_new_visit_of_the_sale_page_is_a_new_reservation_not_a_replay(shopper, load_sale, clock):
    sale = load_sale(quantities=[5], limit=2)
    _ready(shopper, sale, clock)
    first = _reserve(shopper, sale)
    _visit(shopper, sale)
    second = _reserve(shopper, sale)
    again = _reserve(shopper, sale)

    assert first.status_code == second.status_code == again.status_code == 303
    assert first["Location"] != second["Location"]
    assert second["Location"] == again["Location"]  # the double submit replays


def test_a_ticket_without_a_valid_captcha_pass_sends_the_shopper_to_the_captcha(shopper, load_sale, clock, settings):
    settings.FLASHSALE_CAPTCHA_PASS_SECONDS = 60
    sale = load_sale(quantities=[5], lasts=timedelta(hours=2))
    _ready(shopper, sale, clock)
    clock.advance(seconds=61)

    assert _ticket_refusal(sale, shopper.session.session_key, clock) == "no_pass"
    response = _reserve(shopper, sale)
    assert response.status_code == 403 and b"One quick check first" in response.content


def test_a_ticket_without_an_admission_sends_the_shopper_to_the_waiting_room(shopper, load_sale, clock, settings):
    settings.FLASHSALE_WAITING_ROOM_ENABLED = True
    sale = load_sale(quantities=[5])
    give_pass(shopper, sale.id, now=clock.now(), admitted=False)
    _visit(shopper, sale)

    assert _ticket_refusal(sale, shopper.session.session_key, clock) == "not_admitted"
    response = _reserve(shopper, sale)
    assert response.status_code == 303 and response["Location"] == reverse("reservations-waiting", args=[sale.id])
    assert shopper.session.session_key  # the session is intact
    assert not transaction_state(sale.id, item_txn_id(Entry(visit_of(shopper, sale.id)["id"], 0), sale.item.pk))


def test_the_reservation_records_the_ticket_location_and_visit(shopper, load_sale, clock, redis_conn):
    sale = load_sale(quantities=[5])
    _ready(shopper, sale, clock)
    shopper.post(reverse("reservations-location", args=[sale.id]), {"latitude": "43.3", "longitude": "5.37"})
    assert _reserve(shopper, sale).status_code == 303

    entry = visit_of(shopper, sale.id)
    txn = transaction_state(sale.id, item_txn_id(Entry(entry["id"], entry["at"]), sale.item.pk))
    assert (float(txn["latitude"]), float(txn["longitude"])) == (43.3, 5.37)
    assert float(txn["entered_at"]) == entry["at"]
    assert keys.user_txn_field(txn["txn"]) in {
        k.decode() for k in redis_conn.hkeys(keys.user(sale.id, shopper.user.pk))
    }
