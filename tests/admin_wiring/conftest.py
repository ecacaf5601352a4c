"""Fixtures of the admin wiring tests: staff clients and a live session loaded into Redis."""

from __future__ import annotations

import pytest

from flashsale.store import keys
from tests.factories import load_live_session


@pytest.fixture
def operator_client(client, operator):
    client.force_login(operator)
    return client


@pytest.fixture
def live_session(db, clock):
    """``tests.factories.load_live_session``, its two items kept as ``session.test_items``."""
    session, first, second = load_live_session()
    session.test_items = [first, second]
    return session


@pytest.fixture
def inject_extra_unit(redis_conn):
    """Duplicate the head unit of an item's stock list: one more unit could sell than was planned."""

    def inject(session, item) -> None:
        stock = keys.stock(session.pk, item.pk)
        redis_conn.lpush(stock, redis_conn.lindex(stock, 0))

    return inject
