"""The environment of a one-off site process started by a test, pointed at this run's stores."""

from __future__ import annotations

import os
import tempfile

from tests.support.processes import run_database_url


def site_process_env(**overrides: str) -> dict[str, str]:
    """The environment of a one-off site process (``python -c "import django; django.setup()..."``):
    this run's Redis and a database that answers, then ``overrides``."""
    from django.conf import settings

    env = dict(os.environ)
    env.setdefault("DJANGO_SETTINGS_MODULE", "flashsale.settings")
    env["REDIS_URL"] = settings.REDIS_URL
    env["DATABASE_URL"] = reachable_database_url()
    env.update(overrides)
    return env


def reachable_database_url() -> str:
    """This run's PostgreSQL test database, or (SQLite runs keep theirs in memory, out of reach of
    another process) a SQLite file of its own: the health check only needs one that answers."""
    from django.db import connection

    if connection.vendor == "postgresql":
        return run_database_url()
    return f"sqlite:///{tempfile.mkdtemp(prefix='healthz-')}/db.sqlite3"
