"""A deactivated shopper is refused at once by the sale page and the reserve, over HTTP, without SQL.

The site runs under gunicorn (the hot routes' own middleware list, as in production) with the
benchmark's SQL counter; the shopper logs in through the log-in form like anyone else.
"""

from __future__ import annotations

import re
import time
from datetime import timedelta
from decimal import Decimal

import pytest
import requests
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import PBKDF2PasswordHasher, make_password
from django.contrib.sessions.backends.cache import SessionStore

from flashsale.accounts import deactivate_user
from flashsale.store import keys
from plans.loading import load_session_into_redis
from reservations import tickets
from reservations.shopper import ShopperSession
from tests.factories import make_item, make_product, make_session
from tests.support.sql_counts import APPLICATION, SETTINGS_MODULE, forget_sql_counts, sql_queries_by_path, sql_samples

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

PASSWORD = "a-scalpers-long-phrase"


def log_in(base_url: str, username: str) -> requests.Session:
    browser = requests.Session()
    form = browser.get(f"{base_url}/accounts/login/", timeout=10)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text).group(1)
    answer = browser.post(
        f"{base_url}/accounts/login/",
        data={"username": username, "password": PASSWORD, "csrfmiddlewaretoken": token},
        allow_redirects=False,
        timeout=30,
    )
    assert answer.status_code == 302, answer.text[:500]
    return browser


def reserve(browser: requests.Session, base_url: str, path: str) -> requests.Response:
    return browser.post(
        f"{base_url}{path}",
        data={"quantity": "1"},
        headers={"X-CSRFToken": browser.cookies["csrftoken"]},
        allow_redirects=False,
        timeout=10,
    )


def test_a_deactivated_shopper_is_refused_by_the_sale_page_and_the_reserve_without_sql(
    transactional_db, processes, redis_conn
):
    session = make_session(opens_in=timedelta(minutes=-1), lasts=timedelta(hours=2))
    item = make_item(session, make_product(), quantity=5, per_user_limit=5, sale_price=Decimal("9.90"))
    load_session_into_redis(session)
    scalper = get_user_model().objects.create(
        username="scalper", password=make_password(PASSWORD, hasher=PBKDF2PasswordHasher())
    )
    site = processes.gunicorn(
        redis_url=settings.CACHES["default"]["LOCATION"],
        workers=1,
        application=APPLICATION,
        DJANGO_SETTINGS_MODULE=SETTINGS_MODULE,
    )
    sale_url, reserve_path = f"{site.url}/sessions/{session.pk}/", f"/sessions/{session.pk}/items/{item.pk}/reserve/"

    browser = log_in(site.url, "scalper")
    session_key = browser.cookies[settings.SESSION_COOKIE_NAME]
    store = SessionStore(session_key)  # the CAPTCHA, solved (the served site is not in test mode)
    ShopperSession(store).grant_captcha_pass(session.pk, now=time.time())
    store.save()
    assert "scalper" in browser.get(sale_url, timeout=10).text
    assert reserve(browser, site.url, reserve_path).status_code == 303  # to the gateway: they could buy
    assert tickets.read_ticket(session.pk, session_key) is not None
    on_sale = redis_conn.llen(keys.stock(session.pk, item.pk))

    deactivate_user(scalper)

    forget_sql_counts(redis_conn)
    page = browser.get(sale_url, timeout=10)
    assert page.status_code == 200
    assert "scalper" not in page.text and "to reserve" in page.text  # a visitor: "Log in to reserve"
    refused = reserve(browser, site.url, reserve_path)
    assert refused.status_code == 302 and refused.headers["Location"].startswith("/accounts/login/")
    assert reserve(browser, site.url, reserve_path).status_code == 302  # again: no ticket came back
    assert redis_conn.llen(keys.stock(session.pk, item.pk)) == on_sale
    assert tickets.read_ticket(session.pk, session_key) is None

    counts = sql_queries_by_path(redis_conn)
    assert counts == {}, sql_samples(redis_conn)
    # The counter does count in this gunicorn: a log-in attempt reads the User table.
    with pytest.raises(AssertionError):
        log_in(site.url, "scalper")  # refused: the account is inactive
    assert sql_queries_by_path(redis_conn).get("/accounts/login/", 0) >= 1
