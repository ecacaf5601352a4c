"""A page whose store stopped answering is a 503 "try again" page, not a traceback."""

import subprocess
import sys

from tests.support.site_env import site_process_env


def test_a_page_needing_redis_while_it_is_down_is_a_503(db):
    code = (
        "import django; django.setup();"
        "from django.test import Client;"
        "r = Client(raise_request_exception=False).get('/');"
        "print(r.status_code, r.get('Retry-After')); print(r.content.decode())"
    )
    env = site_process_env(REDIS_URL="redis://127.0.0.1:1/0", DEBUG="0")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    first, body = out.stdout.split("\n", 1)
    assert first == "503 5"
    assert "One moment, please" in body and "Nothing was reserved or charged" in body
