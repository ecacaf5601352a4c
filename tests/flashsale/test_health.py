import subprocess
import sys

import pytest
from django.urls import reverse

from tests.support.processes import run_database_url


@pytest.mark.django_db
def test_healthz_ok_when_database_and_redis_answer(client):
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    assert response.json() == {"database": "ok", "redis": "ok", "status": "ok"}


def test_healthz_503_names_redis_when_it_is_down(db, tmp_path):
    """A stopped Redis gives 503 naming it, not a traceback: run a site process whose REDIS_URL
    points at a port nothing listens on."""
    status, body = _healthz_in_a_site_process(REDIS_URL="redis://127.0.0.1:1/0")
    assert status == "503"
    assert '"redis": "down: ConnectionError' in body
    assert '"database": "ok"' in body
    assert '"status": "unavailable: redis"' in body


def test_healthz_503_names_database_when_it_is_down(tmp_path):
    status, body = _healthz_in_a_site_process(DATABASE_URL="postgres://postgres@127.0.0.1:1/nowhere")
    assert status == "503"
    assert '"database": "down: OperationalError' in body
    assert '"status": "unavailable: database"' in body


def _healthz_in_a_site_process(**env_overrides: str) -> tuple[str, str]:
    """GET /healthz in a fresh site process whose environment has ``env_overrides``: (status, body)."""
    code = (
        "import django; django.setup();"
        "from django.test import Client;"
        "r = Client().get('/healthz');"
        "print(r.status_code); print(r.content.decode())"
    )
    env = _env_with(**env_overrides)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    status, body = out.stdout.strip().splitlines()[-2:]
    return status, body


def _env_with(**overrides):
    import os

    from django.conf import settings

    env = dict(os.environ)
    env.setdefault("DJANGO_SETTINGS_MODULE", "flashsale.settings")
    env["REDIS_URL"] = settings.REDIS_URL
    env["DATABASE_URL"] = _reachable_database_url()
    env.update(overrides)
    return env


def _reachable_database_url() -> str:
    """This run's PostgreSQL test database, or (SQLite runs keep theirs in memory, out of reach of
    another process) a SQLite file of its own: the health check only needs one that answers."""
    import tempfile

    from django.db import connection

    if connection.vendor == "postgresql":
        return run_database_url()
    return f"sqlite:///{tempfile.mkdtemp(prefix='healthz-')}/db.sqlite3"
