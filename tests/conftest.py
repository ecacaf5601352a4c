"""Fixtures shared by every test: a clean Redis database and small factories."""

from __future__ import annotations

import pytest
from django_redis import get_redis_connection


@pytest.fixture
def redis_conn():
    """The real Redis behind the site, emptied before the test so state never leaks."""
    conn = get_redis_connection("default")
    conn.flushdb()
    yield conn
    conn.flushdb()


@pytest.fixture(autouse=True)
def _clean_redis(redis_conn):
    """Sessions, cache and sale data all live in Redis: start each test from nothing."""


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Many tests create shoppers; the production hasher's cost is not what they test.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def processes(tmp_path):
    """Real processes for one test (gunicorn, redis-server, the sandbox gateway, commands), all stopped
    in teardown, last started first: ``tests.support.processes.Processes``."""
    from tests.support.processes import Processes

    started = Processes(tmp_path)
    try:
        yield started
    finally:
        started.stop_all()


@pytest.fixture
def make_user(db, django_user_model):
    counter = {"n": 0}

    def make(username: str | None = None, password: str = "correct-horse-battery", **extra):
        counter["n"] += 1
        name = username or f"shopper{counter['n']}"
        return django_user_model.objects.create_user(username=name, password=password, **extra)

    return make


@pytest.fixture
def operator(db):
    """A staff user in the ``operators`` group (``tests.factories.make_operator``)."""
    from tests.factories import make_operator

    return make_operator()


@pytest.fixture
def clock():
    """Drive time: ``clock.set(dt)`` / ``clock.advance(seconds=...)``; real time again afterwards."""
    from datetime import timedelta

    from django.utils import timezone

    from flashsale import clock as site_clock

    class Clock:
        def __init__(self):
            self.current = timezone.now().replace(microsecond=0)
            site_clock.freeze(self.current)

        def set(self, when):
            self.current = when
            site_clock.freeze(when)

        def advance(self, **delta):
            self.set(self.current + timedelta(**delta))

        def now(self):
            return self.current

    yield Clock()
    site_clock.freeze(None)
