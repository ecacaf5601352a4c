"""Sold out, including the off-by-one: asking for more units than remain takes none of them."""

from __future__ import annotations

import pytest

from reservations.holds import reserve_units
from reservations.refusals import SoldOut
from tests.support.sales import assert_stock_invariant


def test_the_last_unit_sells_then_the_item_is_sold_out(load_sale, make_user, redis_conn, clock):
    sale = load_sale(quantities=[1], limit=1)
    reserve_units(sale.id, sale.item.pk, user_id=make_user().pk, quantity=1, txn_id="T" * 26, now=clock.now())
    with pytest.raises(SoldOut) as error:
        reserve_units(sale.id, sale.item.pk, user_id=make_user().pk, quantity=1, txn_id="U" * 26, now=clock.now())
    assert error.value.remaining == 0
    figures = assert_stock_invariant(redis_conn, sale.id, sale.item.pk)
    assert figures["rejected_sold_out"] == 1 and figures["held"] == 1


def test_requesting_more_units_than_remain_pops_nothing(load_sale, make_user, redis_conn, clock):
    """Regression: with 2 left, a request for 3 must not take the 2 and fail (or succeed short)."""
    sale = load_sale(quantities=[3], limit=3)
    reserve_units(sale.id, sale.item.pk, user_id=make_user().pk, quantity=1, txn_id="A" * 26, now=clock.now())

    with pytest.raises(SoldOut) as error:
        reserve_units(sale.id, sale.item.pk, user_id=make_user().pk, quantity=3, txn_id="B" * 26, now=clock.now())

    assert (error.value.remaining, error.value.requested) == (2, 3)
    figures = assert_stock_invariant(redis_conn, sale.id, sale.item.pk)
    assert (figures["remaining"], figures["held"]) == (2, 1)
    # Exactly the remaining number still succeeds.
    taken = reserve_units(sale.id, sale.item.pk, user_id=make_user().pk, quantity=2, txn_id="C" * 26, now=clock.now())
    assert len(taken.units) == 2
    assert assert_stock_invariant(redis_conn, sale.id, sale.item.pk)["remaining"] == 0
