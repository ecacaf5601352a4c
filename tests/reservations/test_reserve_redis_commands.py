"""How many Redis commands one reserve request costs, counted with MONITOR on the test database."""

from __future__ import annotations

import threading

from django.urls import reverse

from tests.reservations.conftest import give_pass

MARKER = "reserve-commands-end"


def _commands_during(redis_conn, action) -> list[str]:
    db = redis_conn.connection_pool.connection_kwargs.get("db", 0)
    seen: list[str] = []
    ready = threading.Event()

    def listen():
        with redis_conn.monitor() as monitor:
            ready.set()
            for event in monitor.listen():
                if MARKER in event["command"]:
                    return
                # Commands run inside a script show up too, from the "lua" client: not round trips.
                if event.get("db") == db and event.get("client_type") != "lua":
                    seen.append(event["command"].split(" ", 1)[0].upper())

    thread = threading.Thread(target=listen)
    thread.start()
    ready.wait()
    # MONITOR is set up once its reply is read; a first ping proves the stream is flowing.
    redis_conn.ping()
    seen.clear()
    action()
    redis_conn.echo(MARKER)
    thread.join(timeout=10)
    # SELECT is sent once per new pooled connection, not per request.
    return [c for c in seen if c not in {"PING", "SELECT"}]


def test_a_reserve_request_costs_one_command(shopper, load_sale, redis_conn, clock):
    sale = load_sale(quantities=[5, 5], limit=2)
    give_pass(shopper, sale.id, now=clock.now())
    shopper.get(reverse("reservations-sale", args=[sale.id]))  # mints the TransactionID, writes the ticket
    first = reverse("reservations-reserve", args=[sale.id, sale.items[0].pk])
    second = reverse("reservations-reserve", args=[sale.id, sale.items[1].pk])

    reserved = _commands_during(redis_conn, lambda: shopper.post(first, {"quantity": "1"}))
    again = _commands_during(redis_conn, lambda: shopper.post(second, {"quantity": "1"}))
    refused = _commands_during(redis_conn, lambda: shopper.post(second, {"quantity": "2"}))

    # One script reads the ticket, rate-limits and decides: no session read, no session write.
    assert reserved == again == ["EVALSHA"]
    assert refused[0] == "EVALSHA" and "EVALSHA" not in refused[1:]


def test_without_a_ticket_the_session_decides_and_stores_one(shopper, load_sale, redis_conn, clock):
    sale = load_sale(quantities=[5, 5], limit=2)
    give_pass(shopper, sale.id, now=clock.now())
    shopper.get(reverse("reservations-sale", args=[sale.id]))
    redis_conn.delete(*redis_conn.keys(f"*{{s:{sale.id}}}:ticket:*"))
    first = reverse("reservations-reserve", args=[sale.id, sale.items[0].pk])
    second = reverse("reservations-reserve", args=[sale.id, sale.items[1].pk])

    slow = _commands_during(redis_conn, lambda: shopper.post(first, {"quantity": "1"}))
    fast = _commands_during(redis_conn, lambda: shopper.post(second, {"quantity": "1"}))

    # The script says "no ticket", the session is read, the second script call stores the ticket.
    assert slow == ["EVALSHA", "GET", "EVALSHA"]
    assert fast == ["EVALSHA"]
