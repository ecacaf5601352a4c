"""A sale session loaded into Redis that opens ten minutes from the test's clock."""

from __future__ import annotations

import pytest

from tests.support.waiting_room import load_waiting_room_session


@pytest.fixture
def loaded_session(db, clock):
    return load_waiting_room_session(clock.now())


@pytest.fixture
def opens_at(loaded_session) -> float:
    return loaded_session.starts_at.timestamp()
