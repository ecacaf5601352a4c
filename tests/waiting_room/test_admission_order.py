"""After the opening shuffle nobody is admitted out of turn: admissions follow the queue exactly."""

from __future__ import annotations

import pytest

from reservations.waiting_room import (
    admit_due,
    admitted_users,
    enter_waiting_room,
    poll_waiting_room,
    queue_order,
    set_admission_rate,
)

pytestmark = pytest.mark.django_db


def test_admissions_take_the_queue_from_its_head(loaded_session, opens_at):
    sid = loaded_session.pk
    set_admission_rate(sid, 3.0, now=opens_at - 900)
    early = list(range(1, 31))
    for user in early:
        assert enter_waiting_room(sid, user, now=opens_at - 100 + user).state == "pre_queue"
    # The first visit at the opening shuffles; later arrivals queue behind in arrival order.
    admit_due(sid, now=opens_at)
    late = list(range(100, 110))
    for index, user in enumerate(late):
        assert enter_waiting_room(sid, user, now=opens_at + index * 0.01).state == "queued"
    queue = queue_order(sid)
    assert sorted(queue[:30]) == early
    assert queue[30:] == late

    admitted_so_far: list[int] = []
    now = opens_at
    while len(admitted_so_far) < len(queue):
        now += 0.7
        admit_due(sid, now=now)
        current = admitted_users(sid)
        # Whatever was admitted so far is exactly the head of the queue, in any tick.
        assert sorted(current) == sorted(queue[: len(current)])
        assert set(admitted_so_far) <= set(current)
        admitted_so_far = current


def test_a_shopper_sees_their_position_fall_and_then_their_admission(loaded_session, opens_at):
    sid = loaded_session.pk
    set_admission_rate(sid, 1.0, now=opens_at - 900)
    admit_due(sid, now=opens_at)
    for user in range(1, 6):
        enter_waiting_room(sid, user, now=opens_at)
    positions = []
    for second in range(1, 7):
        status = poll_waiting_room(sid, 5, now=opens_at + second)
        positions.append(status.position if status.state == "queued" else status.state)
    assert positions == [4, 3, 2, 1, "admitted", "admitted"]


def test_position_and_estimate_reflect_the_rate(loaded_session, opens_at):
    sid = loaded_session.pk
    set_admission_rate(sid, 2.0, now=opens_at - 900)
    admit_due(sid, now=opens_at)
    for user in range(1, 21):
        enter_waiting_room(sid, user, now=opens_at)
    status = poll_waiting_room(sid, 20, now=opens_at)
    assert (status.state, status.position, status.waiting) == ("queued", 20, 20)
    assert status.eta_seconds == 10


def test_without_a_rate_everyone_is_admitted_at_the_opening(loaded_session, opens_at):
    sid = loaded_session.pk
    for user in range(1, 11):
        enter_waiting_room(sid, user, now=opens_at - 30)
    assert enter_waiting_room(sid, 50, now=opens_at + 1).admitted
    assert sorted(admitted_users(sid)) == [*range(1, 11), 50]
