"""Stock adjustments keep remaining + held + paid + returned == allocated + adjusted, and never take held units."""

from __future__ import annotations

import pytest
from django.urls import reverse

from flashsale.store import keys
from plans.adjusting import adjust_stock
from plans.exceptions import AdjustmentRefused
from plans.models import Adjustment
from plans.stock import session_counts
from plans.transitions import end_session

pytestmark = pytest.mark.django_db


def _reserve(redis_conn, session_id, item_id, units, *, field="held"):
    """What the reserve script does to the counts: units leave the list and are held (or paid)."""
    for _ in range(units):
        redis_conn.lpop(keys.stock(session_id, item_id))
    redis_conn.hincrby(keys.counts(session_id, item_id), field, units)


def _assert_invariant(session_id, item_id):
    counts = session_counts(session_id)[item_id]
    # No hold was released in these tests, so returned (cumulative) and returning (in flight) are 0
    # and both forms of the invariant agree.
    assert counts.remaining + counts.held + counts.paid + counts.returned == counts.allocated + counts.adjusted
    assert counts.balanced
    return counts


def test_adding_units_continues_the_numbering(live_session, redis_conn, superuser):
    session, item, _ = live_session
    _reserve(redis_conn, session.pk, item.pk, 3)

    result = adjust_stock(item, delta=4, reason="late delivery", user=superuser)

    assert (result.applied, result.remaining) == (4, 11)
    units = [u.decode() for u in redis_conn.lrange(keys.stock(session.pk, item.pk), 0, -1)]
    assert units[-4:] == [f"{item.pk}:{n}" for n in range(11, 15)]
    assert len(set(units)) == len(units)
    counts = _assert_invariant(session.pk, item.pk)
    assert counts.adjusted == 4
    adjustment = Adjustment.objects.get()
    assert (adjustment.delta, adjustment.reason, adjustment.created_by) == (4, "late delivery", superuser)


def test_withdrawing_takes_at_most_what_remains(live_session, redis_conn, superuser):
    session, item, _ = live_session
    _reserve(redis_conn, session.pk, item.pk, 6)
    _reserve(redis_conn, session.pk, item.pk, 1, field="paid")

    result = adjust_stock(item, delta=-100, reason="damaged", user=superuser)

    assert result.applied == -3 and result.partial and result.remaining == 0
    counts = _assert_invariant(session.pk, item.pk)
    assert (counts.held, counts.paid, counts.adjusted) == (6, 1, -3)
    assert Adjustment.objects.get().delta == -3
    with pytest.raises(AdjustmentRefused, match="No units are left"):
        adjust_stock(item, delta=-1, reason="again", user=superuser)
    assert Adjustment.objects.count() == 1


def test_add_then_withdraw_keeps_the_invariant(live_session, redis_conn):
    session, item, _ = live_session
    for delta in (5, -2, 7, -4):
        adjust_stock(item, delta=delta, reason="rebalance")
        _reserve(redis_conn, session.pk, item.pk, 1)
        _assert_invariant(session.pk, item.pk)
    assert sum(a.delta for a in Adjustment.objects.all()) == 6


def test_ended_or_unloaded_sessions_are_not_adjusted(live_session):
    session, item, _ = live_session
    end_session(session)
    with pytest.raises(AdjustmentRefused, match="loaded or live"):
        adjust_stock(item, delta=1, reason="too late")
    assert not Adjustment.objects.exists()


def test_adjust_page_applies_and_reports(admin_client, live_session, redis_conn):
    session, item, _ = live_session
    url = reverse("admin:plans_salesession_adjust", args=[session.pk])
    assert admin_client.get(url).status_code == 200

    response = admin_client.post(url, {"item": item.pk, "delta": -4, "reason": "miscounted"}, follow=True)

    assert "Withdrew 4 units" in response.content.decode()
    assert redis_conn.llen(keys.stock(session.pk, item.pk)) == 6
    _assert_invariant(session.pk, item.pk)
    zero = admin_client.post(url, {"item": item.pk, "delta": 0, "reason": "nothing"})
    assert "not 0" in zero.content.decode()
