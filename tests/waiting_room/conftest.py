"""A sale session loaded into Redis that opens ten minutes from the test's clock."""

from __future__ import annotations

from datetime import timedelta

import pytest

from plans.loading import load_session_into_redis
from reservations.waiting_room import reset_waiting_room
from tests.factories import make_item, make_session

OPENS_IN = timedelta(minutes=10)


@pytest.fixture
def loaded_session(db, clock):
    session = make_session(opens_in=OPENS_IN, lasts=timedelta(hours=2), name="Waiting room sale")
    session.test_items = [make_item(session, quantity=50), make_item(session, quantity=50)]
    load_session_into_redis(session, now=clock.now())
    reset_waiting_room(session.pk)
    return session


@pytest.fixture
def opens_at(loaded_session) -> float:
    return loaded_session.starts_at.timestamp()
