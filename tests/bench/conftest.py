"""Fixtures of the bench's own tests: the component measurements run small, on the test database."""

from __future__ import annotations

import pytest

from tests.support.waiting_room import load_waiting_room_session


@pytest.fixture
def loaded_session(db, clock):
    """A session loaded into Redis whose waiting room is empty (``tests.support.waiting_room``)."""
    return load_waiting_room_session(clock.now())
