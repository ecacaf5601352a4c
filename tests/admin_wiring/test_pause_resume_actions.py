"""“Pause admissions” and “Resume admissions” ask first, then toggle the waiting room's switch."""

from __future__ import annotations

from datetime import timedelta

import pytest

from flashsale.store import keys
from reservations.waiting_room import waiting_room_stats
from tests.factories import make_session
from tests.support.admin_actions import run_action

pytestmark = pytest.mark.django_db


def test_pause_then_resume(operator_client, live_session):
    question = run_action(operator_client, "pause_admissions_action", [live_session], confirm=False)
    assert "Shoppers keep their place in the queue" in question.content.decode()
    assert waiting_room_stats(live_session.pk)["paused"] is False

    paused = run_action(operator_client, "pause_admissions_action", [live_session], confirm=True)
    assert "Admissions paused: Live now" in paused.content.decode()
    assert waiting_room_stats(live_session.pk)["paused"] is True

    resumed = run_action(operator_client, "resume_admissions_action", [live_session], confirm=True)
    assert "Admissions resumed: Live now" in resumed.content.decode()
    assert waiting_room_stats(live_session.pk)["paused"] is False


def test_a_session_not_in_redis_is_left_alone(operator_client, clock, redis_conn):
    draft = make_session(opens_in=timedelta(hours=1), name="Draft")

    page = run_action(operator_client, "pause_admissions_action", [draft], confirm=True).content.decode()

    assert "Draft is draft: only a loaded or live session can be paused." in page
    assert redis_conn.exists(keys.waiting(draft.pk)) == 0
