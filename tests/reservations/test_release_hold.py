"""Releasing a hold gives its units back exactly once and records it in the stream."""

from __future__ import annotations

from flashsale.store import keys
from flashsale.store.replies import as_str, decode_map
from reservations.drain import reservation_event
from reservations.holds import release_hold, reserve_units, transaction_state
from tests.support.sales import assert_stock_invariant


def test_a_cancelled_hold_returns_its_units_once(load_sale, make_user, redis_conn, clock):
    sale = load_sale(quantities=[4], limit=2)
    user = make_user()
    held = reserve_units(sale.id, sale.item.pk, user_id=user.pk, quantity=2, txn_id="A" * 26, now=clock.now())

    assert release_hold(sale.id, held.txn_id, reason="cancelled", now=clock.now()) is True
    assert release_hold(sale.id, held.txn_id, reason="cancelled", now=clock.now()) is False

    figures = assert_stock_invariant(redis_conn, sale.id, sale.item.pk)
    assert (figures["remaining"], figures["held"], figures["returned"]) == (4, 0, 2)
    assert redis_conn.hget(keys.user(sale.id, user.pk), str(sale.item.pk)) is None
    assert redis_conn.zscore(keys.holds(sale.id), held.txn_id) is None
    assert transaction_state(sale.id, held.txn_id)["status"] == "cancelled"
    units_back = {as_str(u) for u in redis_conn.lrange(keys.stock(sale.id, sale.item.pk), 0, -1)}
    assert set(held.units) <= units_back
    types = [reservation_event(decode_map(f))["type"] for _, f in redis_conn.xrange(keys.stream(sale.id))]
    assert types == ["reserved", "cancelled"]


def test_a_released_user_may_reserve_again(load_sale, make_user, clock):
    sale = load_sale(quantities=[4], limit=1)
    user = make_user()
    held = reserve_units(sale.id, sale.item.pk, user_id=user.pk, quantity=1, txn_id="A" * 26, now=clock.now())
    release_hold(sale.id, held.txn_id, now=clock.now())
    again = reserve_units(sale.id, sale.item.pk, user_id=user.pk, quantity=1, txn_id="B" * 26, now=clock.now())
    assert again.quantity == 1


def test_an_expiry_release_is_refused_before_the_hold_is_due(load_sale, make_user, redis_conn, clock):
    sale = load_sale(quantities=[4])
    held = reserve_units(sale.id, sale.item.pk, user_id=make_user().pk, quantity=1, txn_id="A" * 26, now=clock.now())
    assert release_hold(sale.id, held.txn_id, reason="expired", now=clock.now()) is False
    assert transaction_state(sale.id, held.txn_id)["status"] == "reserved"
    assert release_hold(sale.id, "Z" * 26, now=clock.now()) is False
