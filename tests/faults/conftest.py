"""Fixtures of the fault tests: processes started on loopback and always stopped in teardown.

Processes of the site (gunicorn, manage.py commands) run against the database pytest-django
created for this run (``test_<name>``), so the tests that start them take ``transactional_db``:
rows the test writes are committed and visible to the other processes, and the tables are
emptied after the test.
"""

from __future__ import annotations

import copy

import pytest


@pytest.fixture
def site_redis_url(settings) -> str:
    """The Redis the test process uses (the normal test Redis db): gunicorn gets the same URL."""
    return settings.CACHES["default"]["LOCATION"]


def point_settings_at_redis(settings, url: str) -> None:
    """Make this process's cache, sessions and sale data use the Redis at ``url``."""
    caches = copy.deepcopy(settings.CACHES)
    caches["default"]["LOCATION"] = url
    settings.CACHES = caches  # Django's setting_changed handler drops the old cache connections
    settings.FLASHSALE_SALE_REDIS_URL = url
