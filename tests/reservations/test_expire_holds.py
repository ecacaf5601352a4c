"""Unpaid holds expire after the TTL: units back once, user count down, status expired."""

from __future__ import annotations

from flashsale.store import keys
from flashsale.store.replies import decode_map
from reservations.drain import reservation_event
from reservations.holds import expire_holds, reserve_units, transaction_state
from tests.support.sales import assert_stock_invariant


def test_expiry_releases_due_holds_exactly_once(load_sale, make_user, redis_conn, clock, settings):
    settings.FLASHSALE_RESERVATION_TTL_SECONDS = 600
    sale = load_sale(quantities=[10], limit=2)
    users = [make_user() for _ in range(3)]
    early = reserve_units(sale.id, sale.item.pk, user_id=users[0].pk, quantity=2, txn_id="A" * 26, now=clock.now())
    clock.advance(seconds=300)
    late = reserve_units(sale.id, sale.item.pk, user_id=users[1].pk, quantity=1, txn_id="B" * 26, now=clock.now())

    clock.advance(seconds=299)  # 599 s after the first hold: nothing is due yet
    assert expire_holds(sale.id, now=clock.now()) == 0

    clock.advance(seconds=1)
    assert expire_holds(sale.id, now=clock.now()) == 1
    assert expire_holds(sale.id, now=clock.now()) == 0  # run again: nothing twice

    figures = assert_stock_invariant(redis_conn, sale.id, sale.item.pk)
    assert (figures["remaining"], figures["held"], figures["returned"]) == (9, 1, 2)
    assert transaction_state(sale.id, early.txn_id)["status"] == "expired"
    assert transaction_state(sale.id, late.txn_id)["status"] == "reserved"
    assert redis_conn.hget(keys.user(sale.id, users[0].pk), str(sale.item.pk)) is None

    clock.advance(seconds=300)
    assert expire_holds(sale.id, now=clock.now()) == 1
    figures = assert_stock_invariant(redis_conn, sale.id, sale.item.pk)
    assert (figures["remaining"], figures["held"], figures["returned"]) == (10, 0, 3)
    types = [reservation_event(decode_map(f))["type"] for _, f in redis_conn.xrange(keys.stream(sale.id))]
    assert types.count("expired") == 2


def test_expiry_works_through_many_batches(load_sale, make_user, redis_conn, clock):
    sale = load_sale(quantities=[30], limit=1)
    for n in range(25):
        reserve_units(sale.id, sale.item.pk, user_id=1000 + n, quantity=1, txn_id=f"{n:026d}", now=clock.now())
    clock.advance(seconds=3600)
    assert expire_holds(sale.id, now=clock.now(), batch_size=7) == 25
    assert assert_stock_invariant(redis_conn, sale.id, sale.item.pk)["remaining"] == 30
