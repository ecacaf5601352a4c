"""Operators' figures: waiting, admitted, dropped (idle) and released; pause shows in them."""

from __future__ import annotations

import pytest

from reservations.waiting_room import (
    admit_due,
    enter_waiting_room,
    pause_admissions,
    poll_waiting_room,
    set_admission_rate,
    waiting_room_stats,
)

pytestmark = pytest.mark.django_db


def test_stats_count_each_fate(loaded_session, opens_at, settings):
    settings.FLASHSALE_WAITING_ROOM_IDLE_SECONDS = 60
    sid = loaded_session.pk
    set_admission_rate(sid, 1.0, now=opens_at - 120)
    for user in range(1, 11):
        enter_waiting_room(sid, user, now=opens_at - 30)
    stats = waiting_room_stats(sid, now=opens_at - 30)
    assert (stats["pre_queue"], stats["queued"], stats["waiting"], stats["shuffled"]) == (10, 0, 10, False)

    admit_due(sid, now=opens_at + 3)
    stats = waiting_room_stats(sid, now=opens_at + 3)
    assert (stats["queued"], stats["admitted"], stats["shuffled"], stats["rate"]) == (7, 3, True, 1.0)

    # Admissions slow down; users 1-5 keep polling, the others closed their tab.
    set_admission_rate(sid, 0.02, now=opens_at + 3)
    now = opens_at + 3
    for _ in range(10):
        now += 6
        for user in range(1, 6):
            poll_waiting_room(sid, user, now=now)
    stats = waiting_room_stats(sid, now=now)
    # At most 4 admitted by now, so at least one of users 6-10 was still queued and went idle.
    assert stats["admitted"] <= 4
    assert stats["dropped"] >= 1
    assert stats["admitted"] + stats["queued"] + stats["dropped"] == 10
    assert stats["joined"] == 10


def test_a_dropped_shopper_rejoins_at_the_back(loaded_session, opens_at, settings):
    settings.FLASHSALE_WAITING_ROOM_IDLE_SECONDS = 60
    sid = loaded_session.pk
    set_admission_rate(sid, 0.001, now=opens_at - 120)
    admit_due(sid, now=opens_at)
    enter_waiting_room(sid, 1, now=opens_at)
    enter_waiting_room(sid, 2, now=opens_at + 1)
    for second in range(10, 100, 10):
        poll_waiting_room(sid, 2, now=opens_at + second)
    assert poll_waiting_room(sid, 1, now=opens_at + 100).state == "not_queued"
    status = enter_waiting_room(sid, 1, now=opens_at + 100)
    assert (status.state, status.position) == ("queued", 2)


def test_pause_shows_and_hides_the_estimate(loaded_session, opens_at):
    sid = loaded_session.pk
    set_admission_rate(sid, 1.0, now=opens_at - 60)
    admit_due(sid, now=opens_at)
    for user in range(1, 5):
        enter_waiting_room(sid, user, now=opens_at)
    pause_admissions(sid, True, now=opens_at)
    status = poll_waiting_room(sid, 4, now=opens_at + 10)
    assert (status.state, status.paused, status.eta_seconds) == ("queued", True, None)
    assert waiting_room_stats(sid, now=opens_at + 10)["paused"] is True


def test_too_early_and_closed(loaded_session, opens_at, settings):
    sid = loaded_session.pk
    lead = settings.FLASHSALE_WAITING_ROOM_LEAD_MINUTES * 60
    assert enter_waiting_room(sid, 1, now=opens_at - lead - 1).state == "too_early"
    assert enter_waiting_room(sid, 1, now=opens_at - lead).state == "pre_queue"
    ends_at = loaded_session.ends_at.timestamp()
    assert enter_waiting_room(sid, 2, now=ends_at).state == "closed"
    # No rate set: from the opening on, a newcomer is let straight in.
    assert enter_waiting_room(sid, 3, now=opens_at).state == "admitted"


def test_an_unloaded_session_has_no_waiting_room(db):
    assert enter_waiting_room(987654, 1, now=1_800_000_000.0).state == "no_session"
