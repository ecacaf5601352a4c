"""A live session loaded into Redis, and helpers to sell from it through the real reserve path."""

from __future__ import annotations

from datetime import timedelta

import pytest

from plans.loading import load_session_into_redis
from tests.factories import make_item, make_session


@pytest.fixture
def live_session(db, clock):
    session = make_session(opens_in=timedelta(seconds=-60), lasts=timedelta(hours=1), name="Audited sale")
    session.test_items = [make_item(session, quantity=5, per_user_limit=3), make_item(session, quantity=3)]
    load_session_into_redis(session, now=clock.now())
    return session


@pytest.fixture
def txn_ids():
    counter = {"n": 0}

    def next_id() -> str:
        counter["n"] += 1
        return f"01AUDIT{counter['n']:019d}"

    return next_id
