"""Regression: the classic off-by-one of stock scripts (``total >= sold``) that sells one unit too many.

Against the real reserve path: sell exactly the last unit, then one more must be refused, and the
audit must find every unit accounted for.
"""

from __future__ import annotations

import pytest

from flashsale.store import keys
from reservations.audit import audit_session
from reservations.holds import reserve_units
from reservations.refusals import SoldOut

pytestmark = pytest.mark.django_db


def test_the_last_unit_sells_and_the_next_one_does_not(live_session, clock, redis_conn, txn_ids):
    sid = live_session.pk
    item = live_session.test_items[1]  # 3 units, 1 per user
    now = clock.now()
    for buyer in range(1, item.quantity + 1):
        reservation = reserve_units(sid, item.pk, user_id=buyer, quantity=1, txn_id=txn_ids(), now=now)
        assert reservation.quantity == 1
    assert redis_conn.llen(keys.stock(sid, item.pk)) == 0

    with pytest.raises(SoldOut) as refused:
        reserve_units(sid, item.pk, user_id=99, quantity=1, txn_id=txn_ids(), now=now)
    assert refused.value.remaining == 0

    report = audit_session(sid)
    audited = {i.item_id: i for i in report.items}[item.pk]
    assert (audited.in_list, audited.held, audited.drift) == (0, item.quantity, 0)
    assert report.ok


def test_asking_for_more_than_is_left_takes_nothing(live_session, clock, redis_conn, txn_ids):
    sid = live_session.pk
    item = live_session.test_items[0]  # 5 units, up to 3 per user
    now = clock.now()
    reserve_units(sid, item.pk, user_id=1, quantity=3, txn_id=txn_ids(), now=now)
    with pytest.raises(SoldOut):
        reserve_units(sid, item.pk, user_id=2, quantity=3, txn_id=txn_ids(), now=now)
    assert redis_conn.llen(keys.stock(sid, item.pk)) == 2
    reserve_units(sid, item.pk, user_id=2, quantity=2, txn_id=txn_ids(), now=now)
    assert redis_conn.llen(keys.stock(sid, item.pk)) == 0
    with pytest.raises(SoldOut):
        reserve_units(sid, item.pk, user_id=3, quantity=1, txn_id=txn_ids(), now=now)
    assert audit_session(sid).ok
