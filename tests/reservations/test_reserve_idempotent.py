"""Retrying a reservation with the same TransactionID returns the same units and never pops twice."""

from __future__ import annotations

import pytest

from flashsale.store import keys
from reservations.holds import reserve_units
from reservations.refusals import TransactionConflict
from tests.support.sales import assert_stock_invariant

TXN = "01JDZX3YQ8M7T5V0A2B4C6D8E1"


def test_a_retry_returns_the_same_reservation(load_sale, make_user, redis_conn, clock):
    sale = load_sale(quantities=[5], limit=2)
    user = make_user()
    first = reserve_units(sale.id, sale.item.pk, user_id=user.pk, quantity=2, txn_id=TXN, now=clock.now())
    clock.advance(seconds=5)
    again = reserve_units(sale.id, sale.item.pk, user_id=user.pk, quantity=2, txn_id=TXN, now=clock.now())

    assert again.replayed and again.units == first.units and again.expires_at == first.expires_at
    figures = assert_stock_invariant(redis_conn, sale.id, sale.item.pk)
    assert (figures["remaining"], figures["held"]) == (3, 2)
    assert redis_conn.xlen(keys.stream(sale.id)) == 1
    # The retry is not a limit rejection even though the user now holds their limit.
    assert figures.get("rejected_limit", 0) == 0


def test_the_same_id_for_another_item_is_a_conflict(load_sale, make_user, redis_conn, clock):
    sale = load_sale(quantities=[5, 5], limit=2)
    user = make_user()
    reserve_units(sale.id, sale.items[0].pk, user_id=user.pk, quantity=1, txn_id=TXN, now=clock.now())
    with pytest.raises(TransactionConflict):
        reserve_units(sale.id, sale.items[1].pk, user_id=user.pk, quantity=1, txn_id=TXN, now=clock.now())
    assert redis_conn.llen(keys.stock(sale.id, sale.items[1].pk)) == 5
