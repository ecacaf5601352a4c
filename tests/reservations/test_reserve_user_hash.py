"""What the reserve script keeps in the user hash and the item hash so that it reads each once.

The user hash holds the shopper's units per item and their rate window (``rate``); the item hash
holds a copy of the session's window and state. Every reader must keep working with both.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from flashsale.store import keys
from flashsale.store.replies import as_str, item_counts, user_txn_ids
from plans.loading import set_redis_state
from plans.states import SessionState
from reservations import availability, refusals, tickets
from reservations.audit import audit_session
from reservations.holds import KnownShopper, RateLimit, RateLimits, ReserveRequest, reserve

PER_MINUTE = RateLimits(user=RateLimit(limit=10, window=60))


def _attempt(sale, user_id: int, n: int, now: float, *, rate_limits: RateLimits = PER_MINUTE):
    shopper = KnownShopper(user_id=user_id, txn_id=f"RATE{user_id:06d}{n:04d}")
    request = ReserveRequest(
        session_id=sale.id, item_id=sale.item.pk, quantity=1, now=now, shopper=shopper, rate_limits=rate_limits
    )
    return reserve(request)


def test_the_user_window_refuses_the_eleventh_attempt_and_opens_again_in_the_next(
    load_sale, make_user, redis_conn, clock
):
    sale = load_sale(quantities=[50], limit=50)
    user = make_user()
    start = (int(clock.now().timestamp()) // 60 + 1) * 60  # the first second of a window
    clock.set(datetime.fromtimestamp(start, tz=clock.now().tzinfo))

    for n in range(10):
        _attempt(sale, user.pk, n, start + n)
    with pytest.raises(refusals.RateLimited) as refused:
        _attempt(sale, user.pk, 10, start + 10)

    assert refused.value.retry_after == 50  # the window's end, not a full window from now
    user_hash = {as_str(k): as_str(v) for k, v in redis_conn.hgetall(keys.user(sale.id, user.pk)).items()}
    assert user_hash == {
        str(sale.item.pk): "10",
        "rate": f"{start // 60}:10",
        **{keys.user_txn_field(f"RATE{user.pk:06d}{n:04d}"): str(sale.item.pk) for n in range(10)},
    }
    assert not redis_conn.keys(f"*{{s:{sale.id}}}:rate:user:*")  # no key of its own any more

    # The next window counts from one again.
    assert _attempt(sale, user.pk, 11, start + 60).quantity == 1
    assert as_str(redis_conn.hget(keys.user(sale.id, user.pk), "rate")) == f"{start // 60 + 1}:1"


def test_refusals_count_in_the_user_window(load_sale, make_user, redis_conn, clock):
    sale = load_sale(quantities=[5], limit=1)
    user = make_user()
    now = clock.now().timestamp()
    _attempt(sale, user.pk, 0, now, rate_limits=RateLimits(user=RateLimit(limit=3, window=60)))
    for n in (1, 2):
        with pytest.raises(refusals.LimitReached):
            _attempt(sale, user.pk, n, now, rate_limits=RateLimits(user=RateLimit(limit=3, window=60)))
    with pytest.raises(refusals.RateLimited):
        _attempt(sale, user.pk, 3, now, rate_limits=RateLimits(user=RateLimit(limit=3, window=60)))
    assert as_str(redis_conn.hget(keys.user(sale.id, user.pk), "rate")) == f"{int(now) // 60}:3"


def test_readers_of_the_user_hash_see_only_item_counts(load_sale, make_user, redis_conn, clock):
    sale = load_sale(quantities=[5], limit=2)
    user = make_user()
    _attempt(sale, user.pk, 0, clock.now().timestamp())
    assert redis_conn.hexists(keys.user(sale.id, user.pk), "rate")

    expected = {sale.item.pk: 1}
    assert tickets.own_counts_of(sale.id, user.pk) == expected
    own = availability.own_counts(sale.id, user_id=user.pk)
    assert own is not None and own.units == expected
    report = audit_session(sale.id, store=False)
    assert report.users_checked == 1 and not report.users


def test_item_counts_skips_every_field_that_is_not_an_item():
    assert item_counts({b"12": b"2", b"rate": b"29933:4", b"t:01JDZX3YQ8M7T5V0A2B4C6D8E1": b"12"}) == {12: 2}
    assert item_counts([b"rate", b"29933:4", b"7", b"1", b"t:42", b"7"]) == {7: 1}


def test_the_user_hash_lists_the_reservations_with_those_of_an_older_set():
    """Reservations made before the t: fields existed are in the user_txns set: both are read."""
    user_hash = {b"12": b"2", b"rate": b"29933:4", b"t:NEW": b"12", b"t:42": b"12"}
    assert user_txn_ids(user_hash, [b"OLD"]) == ["42", "NEW", "OLD"]


def test_my_reservations_lists_old_and_new_ones(load_sale, make_user, redis_conn, clock):
    sale = load_sale(quantities=[5], limit=2)
    user = make_user()
    _attempt(sale, user.pk, 0, clock.now().timestamp())
    # One reserved by the previous release: its TransactionID in the set, its count in the hash.
    old = _attempt(sale, user.pk, 1, clock.now().timestamp())
    redis_conn.hdel(keys.user(sale.id, user.pk), keys.user_txn_field(old.txn_id))
    redis_conn.sadd(keys.user_txns(sale.id, user.pk), old.txn_id)

    listed = [held.txn_id for held in availability.user_reservations(user.pk, [sale.id])]
    assert sorted(listed) == sorted([f"RATE{user.pk:06d}0000", old.txn_id])
    assert audit_session(sale.id, store=False).ok


def test_a_closed_session_creates_no_user_hash(load_sale, make_user, redis_conn, clock):
    """After the end the session's keys may already carry their deadline: nothing new is written."""
    sale = load_sale(quantities=[5], limit=1)
    user = make_user()
    after_end = sale.session.ends_at.timestamp() + 5
    with pytest.raises(refusals.SessionClosed):
        _attempt(sale, user.pk, 0, after_end)
    assert not redis_conn.exists(keys.user(sale.id, user.pk))


def test_every_item_carries_the_window_and_a_cancel_reaches_it(load_sale, make_user, redis_conn, clock):
    sale = load_sale(quantities=[5, 5], limit=1)
    session = {as_str(k): as_str(v) for k, v in redis_conn.hgetall(keys.session(sale.id)).items()}
    for item in sale.items:
        window = [as_str(v) for v in redis_conn.hmget(keys.item(sale.id, item.pk), "starts_at", "ends_at", "state")]
        assert window == [session["starts_at"], session["ends_at"], session["state"]]

    assert set_redis_state(sale.id, SessionState.CANCELLED)

    assert {as_str(redis_conn.hget(keys.item(sale.id, item.pk), "state")) for item in sale.items} == {"cancelled"}
    with pytest.raises(refusals.SessionClosed):
        _attempt(sale, make_user().pk, 0, clock.now().timestamp())


def test_an_item_loaded_before_the_copy_reads_the_session_hash(load_sale, make_user, redis_conn, clock):
    """Holds in flight across a deploy: item hashes written by the old loader lack the window."""
    sale = load_sale(quantities=[5], limit=1, opens_in=timedelta(minutes=10))
    redis_conn.hdel(keys.item(sale.id, sale.item.pk), "starts_at", "ends_at", "state")
    now = clock.now().timestamp()

    with pytest.raises(refusals.NotOpenYet):
        _attempt(sale, make_user().pk, 0, now)
    opened = sale.session.starts_at.timestamp() + 1
    assert _attempt(sale, make_user().pk, 1, opened).quantity == 1
    redis_conn.hset(keys.session(sale.id), "state", "cancelled")
    with pytest.raises(refusals.SessionClosed):
        _attempt(sale, make_user().pk, 2, opened)


def test_an_unloaded_session_is_unknown(load_sale, make_user, redis_conn, clock):
    sale = load_sale(quantities=[5], limit=1)
    redis_conn.delete(keys.session(sale.id), keys.item(sale.id, sale.item.pk))
    with pytest.raises(refusals.UnknownSaleItem):
        _attempt(sale, make_user().pk, 0, clock.now().timestamp())
