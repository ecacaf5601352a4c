"""Logged-in shoppers for HTTP tests: an open sale, shoppers with a cached Django session, and a
reserve click over HTTP as a browser sends it.

Shoppers are made the way the benchmark makes them: a user, a Django session in the cache session
store with the auth keys, a CAPTCHA pass (``ShopperSession.grant_captcha_pass``) and a location;
a ``requests.Session`` carries the session cookie and a CSRF cookie + header.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import requests
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.sessions.backends.cache import SessionStore
from django.utils.crypto import get_random_string

from plans.loading import load_session_into_redis
from reservations.shopper import ShopperSession
from reservations.tokens import verify_for_site
from tests.factories import make_item, make_product, make_session
from tests.support.sales import Sale

BACKEND = "django.contrib.auth.backends.ModelBackend"


def open_sale(*, quantities=(10,), limit: int = 1, price: Decimal = Decimal("19.90"), load: bool = True) -> Sale:
    """A session open now for two hours (real time: other processes share no test clock)."""
    session = make_session(opens_in=timedelta(minutes=-1), lasts=timedelta(hours=2))
    items = [
        make_item(session, make_product(), quantity=q, per_user_limit=limit, sale_price=price, display_order=n)
        for n, q in enumerate(quantities)
    ]
    if load:
        load_session_into_redis(session)
    return Sale(session=session, items=items)


@dataclass
class Shopper:
    user_id: int
    session_key: str
    csrf: str

    def browser(self) -> requests.Session:
        browser = requests.Session()
        browser.cookies.set(settings.SESSION_COOKIE_NAME, self.session_key)
        browser.cookies.set(settings.CSRF_COOKIE_NAME, self.csrf)
        browser.headers["X-CSRFToken"] = self.csrf
        return browser


def make_shoppers(count: int, *, sale_ids: list[int], prefix: str = "shopper") -> list[Shopper]:
    """``count`` users, each logged in (a cached Django session) with a CAPTCHA pass for ``sale_ids``."""
    User = get_user_model()
    password = make_password(get_random_string(20))  # hashed once: nobody logs in by form
    users = User.objects.bulk_create(User(username=f"{prefix}-{n:04d}", password=password) for n in range(count))
    now = time.time()
    made = []
    for user in users:
        store = SessionStore()
        store[SESSION_KEY] = str(user.pk)
        store[BACKEND_SESSION_KEY] = BACKEND
        store[HASH_SESSION_KEY] = user.get_session_auth_hash()
        for sale_id in sale_ids:
            ShopperSession(store).grant_captcha_pass(sale_id, now=now)
        store.create()
        made.append(Shopper(user_id=user.pk, session_key=store.session_key, csrf=get_random_string(32)))
    return made


def reserve_path(sale_id: int, item_id: int) -> str:
    return f"/sessions/{sale_id}/items/{item_id}/reserve/"


@dataclass
class Attempt:
    """One reserve click as the shopper saw it: a status, or an error if the connection broke."""

    user_id: int
    status: int | None
    txn_id: str = ""
    units: int = 0
    error: str = ""
    retried: bool = False
    base_url: str = ""


def _with_one_retry(send, errors: list[str]):
    """A broken connection is tried once more, as a shopper clicking again would.

    Broken before the answer (``ConnectionError``) or in the middle of its body
    (``ChunkedEncodingError``: a worker killed between writing the headers and the body).
    """
    for _ in range(2):
        try:
            return send()
        except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as exc:
            errors.append(type(exc).__name__)
    return None


def reserve_over_http(
    browser: requests.Session,
    base_url: str,
    sale_id: int,
    item_id: int,
    *,
    user_id: int,
    quantity: int = 1,
    visit: bool = True,
) -> Attempt:
    """Open the sale page (it mints the visit's TransactionID), then POST the reserve form.

    A retried POST carries the same TransactionID, so it replays the reservation if the first
    one was made.
    """
    errors: list[str] = []
    if visit:
        page = _with_one_retry(lambda: browser.get(f"{base_url}/sessions/{sale_id}/", timeout=30), errors)
        if page is None or page.status_code != 200:
            return Attempt(user_id=user_id, status=None if page is None else page.status_code, error="sale page")
    response = _with_one_retry(
        lambda: browser.post(
            f"{base_url}{reserve_path(sale_id, item_id)}",
            data={"quantity": str(quantity)},
            allow_redirects=False,
            timeout=30,
        ),
        errors,
    )
    if response is None:
        return Attempt(user_id=user_id, status=None, error=";".join(errors), retried=True, base_url=base_url)
    result = Attempt(
        user_id=user_id, status=response.status_code, retried=bool(errors), error=";".join(errors), base_url=base_url
    )
    if response.status_code == 303 and "token=" in response.headers.get("Location", ""):
        claims = txn_claims(response.headers["Location"])
        result.txn_id, result.units = claims.txn_id, claims.units
        assert claims.user_id == user_id, (claims, user_id)
    return result


def txn_claims(location: str):
    """The claims of the signed token in a redirect to the gateway's checkout."""
    token = parse_qs(urlsplit(location).query)["token"][0]
    return verify_for_site(token, now=time.time())
