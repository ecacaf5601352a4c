"""The session's window decides: not open yet before it, closed after it; both counted."""

from __future__ import annotations

from datetime import timedelta

import pytest

from flashsale.store import keys
from reservations.holds import reserve_units
from reservations.refusals import NotOpenYet, SessionClosed, UnknownSaleItem
from tests.support.sales import item_figures


def test_before_the_opening_nothing_is_reserved(load_sale, make_user, redis_conn, clock):
    sale = load_sale(quantities=[3], opens_in=timedelta(minutes=10))
    with pytest.raises(NotOpenYet) as error:
        reserve_units(sale.id, sale.item.pk, user_id=make_user().pk, quantity=1, txn_id="A" * 26, now=clock.now())
    assert error.value.starts_at == sale.session.starts_at.timestamp()
    clock.set(sale.session.starts_at)
    assert reserve_units(sale.id, sale.item.pk, user_id=make_user().pk, quantity=1, txn_id="B" * 26, now=clock.now())
    figures = item_figures(redis_conn, sale.id, sale.item.pk)
    assert (figures["rejected_closed"], figures["held"]) == (1, 1)


def test_at_the_end_the_sale_is_closed(load_sale, make_user, redis_conn, clock):
    sale = load_sale(quantities=[3], lasts=timedelta(minutes=30))
    clock.set(sale.session.ends_at)
    with pytest.raises(SessionClosed):
        reserve_units(sale.id, sale.item.pk, user_id=make_user().pk, quantity=1, txn_id="A" * 26, now=clock.now())
    assert item_figures(redis_conn, sale.id, sale.item.pk)["remaining"] == 3


def test_unknown_session_or_item(load_sale, make_user, redis_conn, clock):
    sale = load_sale(quantities=[3])
    user = make_user()
    with pytest.raises(UnknownSaleItem):
        reserve_units(sale.id + 999, sale.item.pk, user_id=user.pk, quantity=1, txn_id="A" * 26, now=clock.now())
    with pytest.raises(UnknownSaleItem):
        reserve_units(sale.id, sale.item.pk + 999, user_id=user.pk, quantity=1, txn_id="B" * 26, now=clock.now())
    assert redis_conn.exists(keys.counts(sale.id, sale.item.pk + 999)) == 0
