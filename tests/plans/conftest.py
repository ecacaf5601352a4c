"""Fixtures of the plans tests: staff users and a loaded session."""

from __future__ import annotations

import pytest

from tests.factories import load_live_session, make_staff


@pytest.fixture
def superuser(db):
    return make_staff("admin", is_superuser=True)


@pytest.fixture
def admin_client(client, superuser):
    client.force_login(superuser)
    return client


@pytest.fixture
def live_session(db, clock):
    """(session, first item, second item): ``tests.factories.load_live_session``."""
    return load_live_session()
