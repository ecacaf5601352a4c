"""Fixtures of the fault tests: processes started on loopback and always stopped in teardown.

Processes of the site (gunicorn, manage.py commands) run against the database pytest-django
created for this run (``test_<name>``), so the tests that start them take ``transactional_db``:
rows the test writes are committed and visible to the other processes, and the tables are
emptied after the test.
"""

from __future__ import annotations

import pytest


@pytest.fixture
def site_redis_url(settings) -> str:
    """The Redis the test process uses (the normal test Redis db): gunicorn gets the same URL."""
    return settings.CACHES["default"]["LOCATION"]
