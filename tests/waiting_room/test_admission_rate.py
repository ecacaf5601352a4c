"""The operator's admission rate is honoured over simulated time, and can change or pause live."""

from __future__ import annotations

import math

import pytest

from reservations.waiting_room import (
    admit_due,
    enter_waiting_room,
    pause_admissions,
    set_admission_rate,
    waiting_room_stats,
)

pytestmark = pytest.mark.django_db


def queue_up(sid: int, opens_at: float, shoppers: int) -> None:
    for user in range(1, shoppers + 1):
        enter_waiting_room(sid, user, now=opens_at - 30)
    admit_due(sid, now=opens_at)


def admitted(sid: int, now: float) -> int:
    return waiting_room_stats(sid, now=now)["admitted"]


@pytest.mark.parametrize(("rate", "step"), [(10.0, 0.25), (2.5, 0.4), (0.5, 1.5)])
def test_admissions_follow_the_rate_within_one_admission(loaded_session, opens_at, rate, step):
    sid = loaded_session.pk
    set_admission_rate(sid, rate, now=opens_at - 60)
    queue_up(sid, opens_at, 400)
    now = opens_at
    while now < opens_at + 30:
        now += step
        admit_due(sid, now=now)
        expected = rate * (now - opens_at)
        # The bucket starts empty at the opening: never ahead of the rate, never a whole admission behind.
        assert math.floor(expected) - 1 < admitted(sid, now) <= math.floor(expected + 1e-9)
    assert admitted(sid, now) == math.floor(rate * 30 + 1e-9)


def test_a_gap_between_visits_admits_what_was_due_up_to_the_burst_cap(loaded_session, opens_at, settings):
    settings.FLASHSALE_WAITING_ROOM_BURST_SECONDS = 5
    sid = loaded_session.pk
    set_admission_rate(sid, 4.0, now=opens_at - 60)
    queue_up(sid, opens_at, 200)
    admit_due(sid, now=opens_at + 3)
    assert admitted(sid, opens_at + 3) == 12
    # Nobody visits for 20 s: at most 5 s' worth (20) is saved up.
    admit_due(sid, now=opens_at + 23)
    assert admitted(sid, opens_at + 23) == 32


def test_changing_the_rate_applies_from_then_on(loaded_session, opens_at):
    sid = loaded_session.pk
    set_admission_rate(sid, 2.0, now=opens_at - 60)
    queue_up(sid, opens_at, 300)
    for second in range(1, 11):
        admit_due(sid, now=opens_at + second)
    assert admitted(sid, opens_at + 10) == 20
    set_admission_rate(sid, 10.0, now=opens_at + 10)
    for second in range(11, 21):
        admit_due(sid, now=opens_at + second)
    assert admitted(sid, opens_at + 20) == 120


def test_pausing_stops_admissions_and_resuming_releases_no_burst(loaded_session, opens_at):
    sid = loaded_session.pk
    set_admission_rate(sid, 5.0, now=opens_at - 60)
    queue_up(sid, opens_at, 300)
    admit_due(sid, now=opens_at + 2)
    assert admitted(sid, opens_at + 2) == 10
    pause_admissions(sid, True, now=opens_at + 2)
    for second in range(3, 30):
        admit_due(sid, now=opens_at + second)
    assert admitted(sid, opens_at + 30) == 10
    assert waiting_room_stats(sid, now=opens_at + 30)["paused"] is True
    pause_admissions(sid, False, now=opens_at + 30)
    admit_due(sid, now=opens_at + 31)
    assert admitted(sid, opens_at + 31) == 15


def test_emptying_the_rate_lets_everyone_in(loaded_session, opens_at):
    sid = loaded_session.pk
    set_admission_rate(sid, 1.0, now=opens_at - 60)
    queue_up(sid, opens_at, 50)
    set_admission_rate(sid, None, now=opens_at + 1)
    admit_due(sid, now=opens_at + 1)
    stats = waiting_room_stats(sid, now=opens_at + 1)
    assert (stats["admitted"], stats["queued"], stats["rate"]) == (50, 0, None)


def test_a_rate_must_be_a_positive_number(loaded_session):
    with pytest.raises(ValueError):
        set_admission_rate(loaded_session.pk, -1.0)
    with pytest.raises(ValueError):
        set_admission_rate(loaded_session.pk, float("nan"))


def test_concurrent_visits_at_one_instant_admit_once(loaded_session, opens_at):
    """Eight web workers polling at the same instant: the bucket is spent once, atomically."""
    from concurrent.futures import ThreadPoolExecutor

    sid = loaded_session.pk
    set_admission_rate(sid, 10.0, now=opens_at - 60)
    queue_up(sid, opens_at, 200)
    instants = [opens_at + 0.5 * step for step in range(1, 21)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        for now in instants:
            list(pool.map(lambda at: admit_due(sid, now=at), [now] * 8))
    assert admitted(sid, instants[-1]) == 100
