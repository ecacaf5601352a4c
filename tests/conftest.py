"""Fixtures shared by every test: a clean Redis database and small factories."""

from __future__ import annotations

import pytest
from django_redis import get_redis_connection


def pytest_collection_modifyitems(config, items):
    """Tests marked ``postgres`` need a database several processes share (or PostgreSQL's own SQL):
    with the embedded SQLite default they are skipped, saying why."""
    from django.conf import settings

    if settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL (set DATABASE_URL): SQLite's test database is in memory")
    for item in items:
        if item.get_closest_marker("postgres"):
            item.add_marker(skip)


def pytest_sessionstart(session):
    """Stop before the first test if the Redis database holds data no test run wrote (tests/support/redis_guard.py)."""
    from django.conf import settings

    from tests.support.redis_guard import ForeignData, check_may_flush

    try:
        check_may_flush(get_redis_connection("default"), url=settings.CACHES["default"]["LOCATION"])
    except ForeignData as exc:
        pytest.exit(f"refusing to run: {exc}", returncode=3)


@pytest.fixture
def redis_conn():
    """The real Redis behind the site, emptied before the test so state never leaks."""
    from tests.support.redis_guard import flush

    conn = get_redis_connection("default")
    flush(conn)
    # The crowd's path keeps copies per process (display data, stock snapshots, card lists, page
    # shells, the sold-out memo); with Redis emptied they must go too (on SQLite the next test's session may
    # even reuse this one's id).
    forget_process_copies()
    yield conn
    flush(conn)
    forget_process_copies()


def forget_process_copies() -> None:
    from reservations import availability, cards, display, sale_page, snapshot, sold_out

    display.forget_display_data()
    snapshot.forget_snapshots()
    sold_out.forget_all()
    cards.forget_cards()
    sale_page.forget_shells()
    availability.forget_orders()


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


@pytest.fixture(scope="session")
def _smtp_server():
    from tests.support.smtp import SmtpServer

    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def smtp_server(_smtp_server, settings):
    """A real SMTP server (aiosmtpd) the site sends its mail to in this test: ``tests.support.smtp.SmtpServer``."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", _smtp_server.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    _smtp_server.clear()
    return _smtp_server


@pytest.fixture
def eager_celery():
    """Tasks queued by the code under test (admin actions, mails) run at once, in the queuing thread."""
    from flashsale.celery import app

    before = app.conf.task_always_eager, app.conf.task_eager_propagates
    app.conf.task_always_eager, app.conf.task_eager_propagates = True, True
    yield app
    app.conf.task_always_eager, app.conf.task_eager_propagates = before
