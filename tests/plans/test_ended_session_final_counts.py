"""At its end a session is closed in Redis, its counts are saved to PostgreSQL and its keys get a TTL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import override_settings

from flashsale.store import keys
from plans.live import live_snapshot
from plans.models import ItemFinalCounts, SaleSession
from plans.scheduling import advance_sessions
from tests.support.expiry import expire_at

pytestmark = pytest.mark.django_db
State = SaleSession.State


@override_settings(FLASHSALE_REDIS_RETENTION_HOURS=24)
def test_end_saves_final_counts_and_expires_keys(clock, live_session, redis_conn):
    session, first, second = live_session
    redis_conn.lpop(keys.stock(session.pk, first.pk), 3)
    redis_conn.hincrby(keys.counts(session.pk, first.pk), "held", 2)
    redis_conn.hincrby(keys.counts(session.pk, first.pk), "paid", 1)
    redis_conn.hincrby(keys.counts(session.pk, second.pk), "rejected_sold_out", 4)
    minute = int(clock.now().timestamp()) // 60
    redis_conn.hincrby(keys.timeline(session.pk), str(minute), 3)

    clock.set(session.ends_at)
    result = advance_sessions()

    assert result.ended == [session.pk]
    session.refresh_from_db()
    assert session.state == State.ENDED
    assert redis_conn.hget(keys.session(session.pk), "state") == b"ended"
    first_counts = ItemFinalCounts.objects.get(item=first)
    assert (first_counts.allocated, first_counts.remaining, first_counts.held, first_counts.paid) == (10, 7, 2, 1)
    assert ItemFinalCounts.objects.get(item=second).rejected_sold_out == 4
    assert session.final_timeline == {str(minute): 3}
    assert session.redis_expires_at == clock.now() + timedelta(hours=24)
    session_keys = list(redis_conn.scan_iter(match=keys.session_pattern(session.pk)))
    assert len(session_keys) >= 10
    deadline = int(session.redis_expires_at.timestamp())
    assert {key: expire_at(redis_conn, key) for key in session_keys} == dict.fromkeys(session_keys, deadline)


def test_after_end_counts_keep_up_until_the_keys_expire(clock, live_session, redis_conn):
    session, first, _ = live_session
    redis_conn.lpop(keys.stock(session.pk, first.pk))
    redis_conn.hincrby(keys.counts(session.pk, first.pk), "held", 1)
    clock.set(session.ends_at)
    advance_sessions()

    # A hold paid after the end: the next tick saves it.
    redis_conn.hincrby(keys.counts(session.pk, first.pk), "held", -1)
    redis_conn.hincrby(keys.counts(session.pk, first.pk), "paid", 1)
    clock.advance(seconds=30)
    result = advance_sessions()

    assert session.pk in result.refreshed
    assert ItemFinalCounts.objects.get(item=first).paid == 1


def test_live_page_reads_the_final_counts_once_keys_are_gone(clock, live_session, redis_conn):
    session, first, _ = live_session
    redis_conn.hincrby(keys.counts(session.pk, first.pk), "rejected_limit", 2)
    clock.set(session.ends_at)
    advance_sessions()
    for key in redis_conn.scan_iter(match=keys.session_pattern(session.pk)):
        redis_conn.delete(key)  # what the TTL does a day later

    snapshot = live_snapshot(SaleSession.objects.get(pk=session.pk))

    assert snapshot["source"] == "final"
    row = next(row for row in snapshot["items"] if row["id"] == first.pk)
    assert (row["allocated"], row["remaining"], row["rejected_limit"]) == (10, 10, 2)


def test_index_entry_is_pruned_after_the_keys_expire(clock, live_session, redis_conn):
    session, _, _ = live_session
    clock.set(session.ends_at)
    advance_sessions()
    for key in redis_conn.scan_iter(match=keys.session_pattern(session.pk)):
        redis_conn.delete(key)
    clock.advance(hours=25)
    assert advance_sessions().pruned == 1
    assert redis_conn.zscore(keys.sessions_index(), str(session.pk)) is None


def test_a_stock_list_refilled_after_the_end_gets_the_deadline(clock, live_session, redis_conn):
    session, first, _ = live_session
    redis_conn.lpop(keys.stock(session.pk, first.pk), 10)  # sold out: the list key is gone
    redis_conn.hincrby(keys.counts(session.pk, first.pk), "held", 10)
    clock.set(session.ends_at)
    advance_sessions()
    assert not redis_conn.exists(keys.stock(session.pk, first.pk))

    redis_conn.rpush(keys.stock(session.pk, first.pk), f"{first.pk}:1")  # an expired hold comes back
    clock.advance(seconds=30)
    advance_sessions()

    session.refresh_from_db()
    assert expire_at(redis_conn, keys.stock(session.pk, first.pk)) == int(session.redis_expires_at.timestamp())
