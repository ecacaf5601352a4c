"""A sale session for waiting-room tests: loaded into Redis, opening ten minutes from the test's clock,
its waiting room empty."""

from __future__ import annotations

from datetime import datetime, timedelta

from plans.loading import load_session_into_redis
from plans.models import SaleSession
from reservations.waiting_room import reset_waiting_room
from tests.factories import make_item, make_session

OPENS_IN = timedelta(minutes=10)


def load_waiting_room_session(now: datetime) -> SaleSession:
    """Two items of 50 units each, kept as ``session.test_items``."""
    session = make_session(opens_in=OPENS_IN, lasts=timedelta(hours=2), name="Waiting room sale")
    session.test_items = [make_item(session, quantity=50), make_item(session, quantity=50)]
    load_session_into_redis(session, now=now)
    reset_waiting_room(session.pk)
    return session
