"""The beat task audits every session in Redis; the on-demand task one session."""

from __future__ import annotations

import pytest

from flashsale.store import keys
from reservations.audit import drifting_sessions, latest_report
from reservations.audit_tasks import audit_live_sessions, audit_session_now
from tests.factories import make_item, make_session

pytestmark = pytest.mark.django_db


def test_every_live_session_is_audited_and_drift_flagged(live_session, redis_conn):
    draft = make_session(name="Not loaded")
    make_item(draft)
    assert audit_live_sessions() == {live_session.pk: True}
    assert latest_report(live_session.pk).ok
    assert latest_report(draft.pk) is None

    item = live_session.test_items[0]
    redis_conn.lpush(keys.stock(live_session.pk, item.pk), f"{item.pk}:1")
    assert audit_live_sessions() == {live_session.pk: False}
    assert drifting_sessions() == [live_session.pk]


def test_on_demand(live_session, redis_conn):
    assert audit_session_now(live_session.pk) is True
    redis_conn.rpop(keys.stock(live_session.pk, live_session.test_items[1].pk))
    assert audit_session_now(live_session.pk) is False
