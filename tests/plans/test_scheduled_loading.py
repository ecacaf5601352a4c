"""The beat job loads scheduled sessions ahead of time and opens them on time (clock driven, no sleeps)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import override_settings

from flashsale.store import keys
from plans.models import SaleSession
from plans.scheduling import advance_sessions
from plans.tasks import advance_sessions as advance_sessions_task
from tests.factories import make_item, make_session

pytestmark = pytest.mark.django_db
State = SaleSession.State


def _state(session):
    session.refresh_from_db()
    return session.state


@override_settings(FLASHSALE_LOAD_LEAD_MINUTES=10)
def test_loaded_within_the_lead_then_live_at_the_opening(clock, redis_conn):
    session = make_session(opens_in=timedelta(minutes=30), state=State.SCHEDULED)
    item = make_item(session, quantity=6)

    assert advance_sessions().loaded == []
    assert _state(session) == State.SCHEDULED
    assert not redis_conn.exists(keys.session(session.pk))

    clock.advance(minutes=19, seconds=59)
    assert advance_sessions().loaded == []

    clock.advance(seconds=1)
    assert advance_sessions().loaded == [session.pk]
    assert _state(session) == State.LOADED
    assert redis_conn.hget(keys.session(session.pk), "state") == b"loaded"
    assert redis_conn.llen(keys.stock(session.pk, item.pk)) == 6

    clock.advance(minutes=9, seconds=59)
    assert advance_sessions().live == []
    clock.advance(seconds=1)
    result = advance_sessions()
    assert result.live == [session.pk]
    assert _state(session) == State.LIVE
    assert redis_conn.hget(keys.session(session.pk), "state") == b"live"

    again = advance_sessions()
    assert (again.loaded, again.live, again.ended) == ([], [], [])
    assert redis_conn.llen(keys.stock(session.pk, item.pk)) == 6


def test_drafts_are_never_loaded(clock, redis_conn):
    session = make_session(opens_in=timedelta(minutes=1))
    make_item(session)
    advance_sessions()
    assert _state(session) == State.DRAFT
    assert not redis_conn.exists(keys.session(session.pk))


def test_a_late_tick_loads_straight_to_live(clock, redis_conn):
    session = make_session(opens_in=timedelta(minutes=-5), state=State.SCHEDULED)
    make_item(session)
    advance_sessions()
    assert _state(session) == State.LIVE


def test_a_scheduled_session_without_items_is_reported(clock):
    session = make_session(opens_in=timedelta(minutes=5), state=State.SCHEDULED)
    result = advance_sessions()
    assert "at least one item" in result.failed[session.pk]
    assert _state(session) == State.SCHEDULED


def test_the_task_runs_the_same_logic(clock, redis_conn):
    session = make_session(opens_in=timedelta(minutes=2), state=State.SCHEDULED)
    make_item(session)
    outcome = advance_sessions_task.apply().get()
    assert outcome["loaded"] == [session.pk]
