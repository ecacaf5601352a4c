"""The audit finds drift that is injected, raises it, and a repair from PostgreSQL puts it right."""

from __future__ import annotations

import json
import logging

import pytest

from flashsale.store import keys
from plans.models import Adjustment
from reservations.audit import REPAIR_REASON_PREFIX, audit_session, drifting_sessions, latest_report
from reservations.audit_repair import AuditRepairBusy, repair_session
from reservations.holds import confirm_payment, release_hold, reserve_units

pytestmark = pytest.mark.django_db


def item_audit(report, item):
    return {audited.item_id: audited for audited in report.items}[item.pk]


def test_normal_trading_balances(live_session, clock, txn_ids):
    """Reserve, pay, release: units move between list, held, paid and back; no drift."""
    sid = live_session.pk
    item = live_session.test_items[0]
    now = clock.now().timestamp()
    paid = reserve_units(sid, item.pk, user_id=1, quantity=2, txn_id=txn_ids(), now=now)
    released = reserve_units(sid, item.pk, user_id=2, quantity=1, txn_id=txn_ids(), now=now)
    reserve_units(sid, item.pk, user_id=3, quantity=1, txn_id=txn_ids(), now=now)
    confirm_payment(sid, paid.txn_id, now=now + 1, gateway_order_id="G1", amount=paid.amount)
    release_hold(sid, released.txn_id, reason="cancelled", now=now + 2)

    report = audit_session(sid)
    audited = item_audit(report, item)
    assert (audited.in_list, audited.held, audited.paid, audited.returned) == (2, 1, 2, 1)
    assert audited.drift == 0
    assert report.ok, report.summary()
    assert report.users_checked == 3
    assert latest_report(sid).ok
    assert sid not in drifting_sessions()


def test_an_extra_unit_is_found_raised_and_repaired(live_session, clock, redis_conn, txn_ids, caplog, admin_user):
    sid = live_session.pk
    item = live_session.test_items[0]
    reserve_units(sid, item.pk, user_id=1, quantity=1, txn_id=txn_ids(), now=clock.now())
    stray = redis_conn.lindex(keys.stock(sid, item.pk), 0)
    redis_conn.lpush(keys.stock(sid, item.pk), stray)  # a duplicated unit: 6 could sell out of 5

    with caplog.at_level(logging.ERROR, logger="reservations.audit"):
        report = audit_session(sid)
    audited = item_audit(report, item)
    assert (audited.in_list, audited.held, audited.expected, audited.drift) == (5, 1, 5, 1)
    assert not report.ok
    assert any("drift +1" in record.getMessage() and record.levelno == logging.ERROR for record in caplog.records)
    # Stored for the admin banner.
    stored = json.loads(redis_conn.get(keys.audit(sid)))
    assert stored["ok"] is False
    assert stored["items"][0]["drift"] in (0, 1)
    assert latest_report(sid).drifting_items[0].item_id == item.pk
    assert drifting_sessions() == [sid]

    result = repair_session(sid, user=admin_user)
    (repaired,) = result.items
    assert (repaired.list_before, repaired.list_target, repaired.trimmed, repaired.pushed) == (5, 4, 1, 0)
    units = [u.decode() for u in redis_conn.lrange(keys.stock(sid, item.pk), 0, -1)]
    assert len(units) == len(set(units)) == 4  # the duplicate went, not a good unit
    adjustment = Adjustment.objects.get(pk=repaired.adjustment_id)
    assert adjustment.delta == -1
    assert adjustment.reason.startswith(REPAIR_REASON_PREFIX)
    assert adjustment.created_by == admin_user
    assert result.report.ok
    assert drifting_sessions() == []
    # Repair adjustments are not plans: the audit stays balanced, and a second repair does nothing.
    assert audit_session(sid).ok
    assert not repair_session(sid, user=admin_user).changed
    assert Adjustment.objects.count() == 1


def test_a_lost_unit_is_pushed_back_with_a_new_number(live_session, clock, redis_conn, admin_user):
    sid = live_session.pk
    item = live_session.test_items[1]
    redis_conn.rpop(keys.stock(sid, item.pk))  # a unit vanished

    audited = item_audit(audit_session(sid), item)
    assert (audited.in_list, audited.drift) == (2, -1)

    result = repair_session(sid, user=admin_user)
    assert result.items[0].pushed == 1
    units = [u.decode() for u in redis_conn.lrange(keys.stock(sid, item.pk), 0, -1)]
    assert units[-1] == f"{item.pk}:{item.quantity + 1}"
    assert Adjustment.objects.get().delta == 1
    assert result.report.ok


def test_redis_totals_that_disagree_with_the_plan_are_drift(live_session, redis_conn, admin_user):
    sid = live_session.pk
    item = live_session.test_items[0]
    redis_conn.hset(keys.counts(sid, item.pk), "allocated", 6)
    redis_conn.rpush(keys.stock(sid, item.pk), f"{item.pk}:999")  # the list agrees with the wrong total

    audited = item_audit(audit_session(sid), item)
    assert audited.drift == 0
    assert not audited.totals_match_plan
    assert not audited.ok

    result = repair_session(sid, user=admin_user)
    assert result.items[0].totals_reset
    assert result.items[0].trimmed == 1
    assert result.report.ok
    assert f"{item.pk}:999".encode() not in redis_conn.lrange(keys.stock(sid, item.pk), 0, -1)


def test_an_operators_adjustment_is_not_drift(live_session, admin_user):
    from plans.adjusting import adjust_stock

    item = live_session.test_items[0]
    adjust_stock(item, delta=4, reason="found more in the warehouse", user=admin_user)
    adjust_stock(item, delta=-2, reason="two were damaged", user=admin_user)
    report = audit_session(live_session.pk)
    audited = item_audit(report, item)
    assert (audited.in_list, audited.adjusted, audited.planned_adjusted) == (7, 2, 2)
    assert report.ok


def test_two_repairs_never_run_at_once(live_session, redis_conn, admin_user):
    redis_conn.set(keys.audit_lock(live_session.pk), "1", ex=60)
    with pytest.raises(AuditRepairBusy):
        repair_session(live_session.pk, user=admin_user)
