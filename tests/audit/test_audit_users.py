"""Per-user counts against transactions: the user hash must equal their active reservations."""

from __future__ import annotations

import pytest

from flashsale.store import keys
from reservations.audit import audit_session
from reservations.drain import drain_session
from reservations.holds import release_hold, reserve_units
from reservations.models import Transaction

pytestmark = pytest.mark.django_db


def test_a_user_count_without_a_reservation_is_reported(live_session, clock, redis_conn, txn_ids):
    sid = live_session.pk
    item = live_session.test_items[0]
    reserve_units(sid, item.pk, user_id=1, quantity=1, txn_id=txn_ids(), now=clock.now())
    reserve_units(sid, item.pk, user_id=2, quantity=2, txn_id=txn_ids(), now=clock.now())
    redis_conn.hincrby(keys.user(sid, 1), str(item.pk), 1)  # a count no reservation explains

    report = audit_session(sid)
    assert not report.ok
    (mismatch,) = report.users
    assert (mismatch.user_id, mismatch.item_id, mismatch.counted, mismatch.active) == (1, item.pk, 2, 1)
    assert report.users_checked == 2
    assert "user 1 item" in report.summary()


def test_a_reservation_the_user_hash_forgot_is_reported(live_session, clock, redis_conn, txn_ids):
    sid = live_session.pk
    item = live_session.test_items[1]
    reserve_units(sid, item.pk, user_id=5, quantity=1, txn_id=txn_ids(), now=clock.now())
    redis_conn.hdel(keys.user(sid, 5), str(item.pk))
    (mismatch,) = audit_session(sid).users
    assert (mismatch.user_id, mismatch.counted, mismatch.active) == (5, 0, 1)


def test_a_hold_whose_user_hash_was_lost_whole_is_reported(live_session, clock, redis_conn, txn_ids):
    """The user hash lists the user's reservations beside their counts: the holds are a second witness."""
    sid = live_session.pk
    item = live_session.test_items[1]
    reserve_units(sid, item.pk, user_id=5, quantity=1, txn_id=txn_ids(), now=clock.now())
    redis_conn.delete(keys.user(sid, 5))
    (mismatch,) = audit_session(sid).users
    assert (mismatch.user_id, mismatch.counted, mismatch.active) == (5, 0, 1)


def test_released_reservations_do_not_count(live_session, clock, txn_ids):
    sid = live_session.pk
    item = live_session.test_items[0]
    held = reserve_units(sid, item.pk, user_id=1, quantity=2, txn_id=txn_ids(), now=clock.now())
    reserve_units(sid, item.pk, user_id=1, quantity=1, txn_id=txn_ids(), now=clock.now())
    release_hold(sid, held.txn_id, reason="cancelled", now=clock.now())
    report = audit_session(sid)
    assert report.ok, report.summary()


def test_postgresql_answers_for_a_txn_hash_no_longer_in_redis(live_session, clock, redis_conn, make_user, txn_ids):
    sid = live_session.pk
    item = live_session.test_items[0]
    shopper = make_user()
    reservation = reserve_units(sid, item.pk, user_id=shopper.pk, quantity=1, txn_id=txn_ids(), now=clock.now())
    drain_session(sid)
    assert Transaction.objects.get(txn_id=reservation.txn_id).status == "reserved"
    redis_conn.delete(keys.txn(sid, reservation.txn_id))

    assert audit_session(sid).ok
    Transaction.objects.filter(txn_id=reservation.txn_id).update(status=Transaction.Status.EXPIRED)
    (mismatch,) = audit_session(sid).users
    assert (mismatch.user_id, mismatch.counted, mismatch.active) == (shopper.pk, 1, 0)
