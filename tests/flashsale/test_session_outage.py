"""While Redis (the session store) is down, a shopper keeps their session cookie and gets a 503.

Django's cache session store reads a failing cache as "no such session": the shopper would be
anonymous for the request and the response would delete their cookie, logging them out for good
although their session is intact in Redis (``make soak`` checks it: Redis stopped mid-sale while
shoppers open "My reservations").
"""

import json
import subprocess
import sys

from tests.support.site_env import site_process_env

PROBE = """
import json, django
django.setup()
from django.conf import settings
from django.test import Client
client = Client(raise_request_exception=False)
client.cookies[settings.SESSION_COOKIE_NAME] = "a" * 32
out = {}
for path in ("/", "/sessions/1/", "/me/reservations/"):
    r = client.get(path)
    cookie = r.cookies.get(settings.SESSION_COOKIE_NAME)
    out[path] = {"status": r.status_code, "set_cookie": cookie.OutputString() if cookie else None}
print(json.dumps(out))
"""


def test_a_session_cookie_survives_a_redis_outage_and_the_answer_is_a_503(db):
    env = site_process_env(REDIS_URL="redis://127.0.0.1:1/0", DEBUG="0")
    out = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    answers = json.loads(out.stdout.strip().splitlines()[-1])
    for path, answer in answers.items():
        assert answer == {"status": 503, "set_cookie": None}, (path, answer)
