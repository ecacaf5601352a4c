"""The per-user limit counts held and paid units together, across several reservations."""

from __future__ import annotations

import pytest

from reservations.holds import confirm_payment, reserve_units
from reservations.refusals import LimitReached
from tests.support.sales import assert_stock_invariant


def test_a_user_cannot_exceed_their_limit(load_sale, make_user, redis_conn, clock):
    sale = load_sale(quantities=[10], limit=2)
    user = make_user()
    reserve_units(sale.id, sale.item.pk, user_id=user.pk, quantity=1, txn_id="A" * 26, now=clock.now())
    with pytest.raises(LimitReached) as error:
        reserve_units(sale.id, sale.item.pk, user_id=user.pk, quantity=2, txn_id="B" * 26, now=clock.now())
    assert (error.value.held, error.value.limit) == (1, 2)
    reserve_units(sale.id, sale.item.pk, user_id=user.pk, quantity=1, txn_id="C" * 26, now=clock.now())
    figures = assert_stock_invariant(redis_conn, sale.id, sale.item.pk)
    assert (figures["held"], figures["rejected_limit"]) == (2, 1)


def test_paid_units_still_count_against_the_limit(load_sale, make_user, clock):
    sale = load_sale(quantities=[10], limit=1)
    user = make_user()
    held = reserve_units(sale.id, sale.item.pk, user_id=user.pk, quantity=1, txn_id="A" * 26, now=clock.now())
    confirm_payment(sale.id, held.txn_id, gateway_order_id="g1", amount=held.amount, now=clock.now())
    with pytest.raises(LimitReached):
        reserve_units(sale.id, sale.item.pk, user_id=user.pk, quantity=1, txn_id="B" * 26, now=clock.now())


def test_the_limit_is_per_item(load_sale, make_user, clock):
    sale = load_sale(quantities=[10, 10], limit=1)
    user = make_user()
    reserve_units(sale.id, sale.items[0].pk, user_id=user.pk, quantity=1, txn_id="A" * 26, now=clock.now())
    other = reserve_units(sale.id, sale.items[1].pk, user_id=user.pk, quantity=1, txn_id="B" * 26, now=clock.now())
    assert other.quantity == 1
