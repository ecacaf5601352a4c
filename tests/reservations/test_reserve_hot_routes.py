"""The hot routes' shorter middleware list: what it leaves out, and what it keeps (CSRF, sessions, headers)."""

from __future__ import annotations

import io
import sys

import pytest
from django.urls import reverse

from flashsale.hot_routes import HotRouteApplication, hot_route_middleware
from tests.support.passes import give_pass

CSRF = "k" * 32


@pytest.fixture
def app():
    return HotRouteApplication()


def _call(app, method: str, path: str, *, cookies: dict | None = None, body: bytes = b"", csrf: str | None = None):
    """One request through the WSGI application itself, as gunicorn would send it."""
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "SCRIPT_NAME": "",
        "QUERY_STRING": "",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "HTTP_HOST": "testserver",
        "REMOTE_ADDR": "127.0.0.1",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "CONTENT_TYPE": "application/x-www-form-urlencoded",
        "CONTENT_LENGTH": str(len(body)),
    }
    if cookies:
        environ["HTTP_COOKIE"] = "; ".join(f"{name}={value}" for name, value in cookies.items())
    if csrf:
        environ["HTTP_X_CSRFTOKEN"] = csrf
    answer = {}

    def start_response(status, headers, exc_info=None):
        answer["status"] = int(status.split()[0])
        answer["headers"] = dict(headers)

    chunks = app(environ, start_response)
    answer["body"] = b"".join(chunks)
    chunks.close()
    return answer


def test_only_the_reserve_and_stock_routes_take_the_short_list(app):
    assert app.handler_for("/sessions/12/items/34/reserve/") is app.hot
    assert app.handler_for("/sessions/12/stock.json") is app.hot
    for path in ("/sessions/12/", "/sessions/12/items/34/reserve", "/admin/", "/", "/sessions/12/stock.json/x"):
        assert app.handler_for(path) is app.site, path


def test_the_short_list_keeps_security_sessions_csrf_and_auth(settings):
    kept = hot_route_middleware()
    for needed in (
        "django.middleware.security.SecurityMiddleware",
        "django.contrib.sessions.middleware.SessionMiddleware",
        "django.middleware.csrf.CsrfViewMiddleware",
        "flashsale.auth.CachedAuthenticationMiddleware",
        "django.middleware.clickjacking.XFrameOptionsMiddleware",
    ):
        assert needed in kept
    assert not set(settings.FLASHSALE_HOT_ROUTE_SKIPPED_MIDDLEWARE) & set(kept)
    assert [m for m in settings.MIDDLEWARE if m in kept] == kept  # same order as the site's list


def test_a_reserve_without_the_csrf_token_is_refused_on_the_short_list(app, shopper, load_sale, clock):
    sale = load_sale(quantities=[5])
    give_pass(shopper, sale.id, now=clock.now())
    shopper.get(reverse("reservations-sale", args=[sale.id]))
    cookies = {"sessionid": shopper.cookies["sessionid"].value, "csrftoken": CSRF}
    path = reverse("reservations-reserve", args=[sale.id, sale.item.pk])

    refused = _call(app, "POST", path, cookies=cookies, body=b"quantity=1")
    assert refused["status"] == 403

    reserved = _call(app, "POST", path, cookies=cookies, body=b"quantity=1", csrf=CSRF)
    assert reserved["status"] == 303 and "/checkout/?token=" in reserved["headers"]["Location"]
    # SecurityMiddleware's headers are still set on the hot route, and the length CommonMiddleware
    # would have added is there too.
    assert reserved["headers"]["X-Content-Type-Options"] == "nosniff"
    assert reserved["headers"]["Content-Length"] == str(len(reserved["body"]))
    assert "Referrer-Policy" in reserved["headers"]


def test_an_anonymous_reserve_on_the_short_list_goes_to_the_login_page(app, load_sale):
    sale = load_sale(quantities=[5])
    path = reverse("reservations-reserve", args=[sale.id, sale.item.pk])
    answer = _call(app, "POST", path, cookies={"csrftoken": CSRF}, body=b"quantity=1", csrf=CSRF)
    assert answer["status"] == 302 and answer["headers"]["Location"].startswith(reverse("login"))


def test_a_refusal_page_on_the_short_list_is_framed_by_nobody(app, shopper, load_sale, clock):
    sale = load_sale(quantities=[5], limit=1)
    give_pass(shopper, sale.id, now=clock.now())
    shopper.get(reverse("reservations-sale", args=[sale.id]))
    cookies = {"sessionid": shopper.cookies["sessionid"].value, "csrftoken": CSRF}
    path = reverse("reservations-reserve", args=[sale.id, sale.item.pk])
    answer = _call(app, "POST", path, cookies=cookies, body=b"quantity=2", csrf=CSRF)
    assert answer["status"] == 403 and b"Limit reached" in answer["body"]
    assert answer["headers"]["X-Frame-Options"] == "DENY"


def test_the_rest_of_the_site_keeps_the_whole_list(app, db):
    # CommonMiddleware (left out of the hot routes) still appends the slash elsewhere.
    answer = _call(app, "GET", "/accounts/login")
    assert answer["status"] == 301 and answer["headers"]["Location"] == "/accounts/login/"
