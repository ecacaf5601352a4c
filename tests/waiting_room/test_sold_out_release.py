"""When every item's stock list is empty, everyone still waiting is released at once."""

from __future__ import annotations

import pytest

from flashsale.store import keys
from reservations.holds import release_hold, reserve_units
from reservations.waiting_room import (
    admit_due,
    admitted_users,
    enter_waiting_room,
    poll_waiting_room,
    set_admission_rate,
    waiting_room_stats,
)

pytestmark = pytest.mark.django_db


def sell_everything(session, now: float) -> list[str]:
    txns = []
    buyer = 10_000
    for item in session.test_items:
        for _ in range(item.quantity):
            buyer += 1
            txn = f"T{buyer:025d}"
            reserve_units(session.pk, item.pk, user_id=buyer, quantity=1, txn_id=txn, now=now)
            txns.append(txn)
    return txns


def test_sell_out_releases_everyone_waiting_and_tells_them(loaded_session, opens_at, redis_conn):
    sid = loaded_session.pk
    set_admission_rate(sid, 1.0, now=opens_at - 60)
    for user in range(1, 41):
        enter_waiting_room(sid, user, now=opens_at - 20)
    admit_due(sid, now=opens_at + 2)
    assert waiting_room_stats(sid, now=opens_at + 2)["waiting"] == 38
    still_waiting = set(range(1, 41)) - set(admitted_users(sid))

    sell_everything(loaded_session, opens_at + 3)
    assert all(redis_conn.llen(keys.stock(sid, item.pk)) == 0 for item in loaded_session.test_items)

    # The very next visit, by anyone, releases the whole queue.
    assert poll_waiting_room(sid, min(still_waiting), now=opens_at + 4).state == "sold_out"
    stats = waiting_room_stats(sid, now=opens_at + 4)
    assert (stats["waiting"], stats["released"], stats["sold_out"]) == (0, 38, True)
    assert {poll_waiting_room(sid, user, now=opens_at + 5).state for user in still_waiting} == {"sold_out"}
    # Newcomers are told too, and not queued.
    assert enter_waiting_room(sid, 99, now=opens_at + 6).state == "sold_out"
    assert waiting_room_stats(sid, now=opens_at + 6)["waiting"] == 0


def test_units_coming_back_reopen_the_queue(loaded_session, opens_at):
    sid = loaded_session.pk
    set_admission_rate(sid, 1.0, now=opens_at - 60)
    enter_waiting_room(sid, 1, now=opens_at - 10)
    txns = sell_everything(loaded_session, opens_at + 1)
    assert poll_waiting_room(sid, 1, now=opens_at + 2).state == "sold_out"
    release_hold(sid, txns[0], reason="cancelled", now=opens_at + 3)
    status = enter_waiting_room(sid, 1, now=opens_at + 4)
    # The queue was empty for seconds, so the bucket had an admission ready for them.
    assert status.state == "admitted"
    assert waiting_room_stats(sid, now=opens_at + 4)["sold_out"] is False


def test_one_item_left_keeps_the_queue(loaded_session, opens_at):
    sid = loaded_session.pk
    set_admission_rate(sid, 1.0, now=opens_at - 60)
    enter_waiting_room(sid, 1, now=opens_at - 10)
    first = loaded_session.test_items[0]
    for n in range(first.quantity):
        reserve_units(sid, first.pk, user_id=5000 + n, quantity=1, txn_id=f"U{n:025d}", now=opens_at)
    assert poll_waiting_room(sid, 1, now=opens_at).state == "queued"
