"""Log-in limits as an attacker meets them: gunicorn behind a (pretend) load balancer on loopback.

Every request comes from 127.0.0.1, the trusted proxy; X-Forwarded-For carries the client the
balancer saw, so each "client" below has limits of its own.
"""

from __future__ import annotations

import re

import pytest
import requests
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import PBKDF2PasswordHasher, make_password

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


def try_password(base_url: str, username: str, password: str, *, client: str, **headers) -> requests.Response:
    browser = requests.Session()
    browser.headers["X-Forwarded-For"] = client
    form = browser.get(f"{base_url}/accounts/login/", timeout=10)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text).group(1)
    return browser.post(
        f"{base_url}/accounts/login/",
        data={"username": username, "password": password, "csrfmiddlewaretoken": token},
        headers=headers,
        allow_redirects=False,
        timeout=30,
    )


def test_thirty_wrong_passwords_are_stopped_and_told_when_to_come_back(transactional_db, processes):
    get_user_model().objects.create(
        username="victim", password=make_password("victims-long-phrase", hasher=PBKDF2PasswordHasher())
    )
    site = processes.gunicorn(
        redis_url=settings.CACHES["default"]["LOCATION"],
        workers=1,
        FLASHSALE_TRUSTED_PROXIES="127.0.0.1/32",
        FLASHSALE_LOGIN_RATE_USERNAME="10/15m",
        # django-ratelimit counts in fixed windows: one that ends mid-test starts the count again
        # (CI once saw the 16th failure let through). An hour makes that rare; the count is the same.
        FLASHSALE_LOGIN_RATE_IP="15/1h",
    )

    # One guesser, one username: ten tries, then 429 until the window ends, right password or not.
    statuses = [try_password(site.url, "victim", f"guess-{n}", client="198.51.100.7").status_code for n in range(30)]
    assert statuses == [200] * 10 + [429] * 20
    refused = try_password(site.url, "victim", "victims-long-phrase", client="203.0.113.99")
    assert refused.status_code == 429 and 1 <= int(refused.headers["Retry-After"]) <= 15 * 60
    assert "Slow down" in refused.text

    # The same guesser on other usernames: its address is limited after 15 failures in all.
    others = [try_password(site.url, f"user-{n}", "x", client="198.51.100.7").status_code for n in range(6)]
    assert others == [200] * 5 + [429]
    as_json = try_password(site.url, "user-9", "x", client="198.51.100.7", Accept="application/json")
    assert as_json.status_code == 429 and as_json.json()["retry_after"] == int(as_json.headers["Retry-After"])
    # Another shopper behind the same balancer is not limited by them.
    assert try_password(site.url, "user-0", "x", client="198.51.100.8").status_code == 200
