import subprocess
import sys

import pytest
from django.urls import reverse

from tests.support.site_env import site_process_env


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
    env = site_process_env(**env_overrides)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    status, body = out.stdout.strip().splitlines()[-2:]
    return status, body
