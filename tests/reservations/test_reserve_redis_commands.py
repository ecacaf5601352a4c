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


def test_a_reserve_request_costs_six_to_eight_commands(shopper, load_sale, redis_conn, clock):
    sale = load_sale(quantities=[5], limit=2)
    give_pass(shopper, sale.id, now=clock.now())
    shopper.get(reverse("reservations-sale", args=[sale.id]))  # mints the TransactionID
    url = reverse("reservations-reserve", args=[sale.id, sale.item.pk])

    first = _commands_during(redis_conn, lambda: shopper.post(url, {"quantity": "1"}))
    second = _commands_during(redis_conn, lambda: shopper.post(url, {"quantity": "1"}))

    # Django session GET; per-user and per-IP limit counters (SET NX creates the window's
    # counter, EVAL increments an existing one); the reserve script; the session save storing
    # the next TransactionID (Django's cache backend checks the key with a GET, then SETs).
    assert first == ["GET", "SET", "SET", "EVALSHA", "GET", "SET"]
    assert second == ["GET", "SET", "EVAL", "SET", "EVAL", "EVALSHA", "GET", "SET"]
