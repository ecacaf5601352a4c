"""The hot routes' shorter middleware list: what it leaves out, and what it keeps (CSRF, sessions, headers)."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from flashsale.hot_routes import HotRouteApplication, hot_route_middleware
from tests.support.hot_requests import timed
from tests.support.passes import give_pass
from tests.support.redis_monitor import commands_during
from tests.support.wsgi_calls import call_wsgi

CSRF = "k" * 32


@pytest.fixture
def app():
    return HotRouteApplication()


def _call(app, method: str, path: str, **request) -> dict:
    """One request through the WSGI application itself, as gunicorn would send it."""
    return call_wsgi(app, method, path, **request)


def test_only_the_sale_page_reserve_and_stock_routes_take_the_short_list(app):
    for path in ("/sessions/12/", "/sessions/12/items/34/reserve/", "/sessions/12/reserve/", "/sessions/12/stock.json"):
        assert app.handler_for(path) is app.hot, path
    for path in (
        "/sessions/12",
        "/sessions/12/items/34/reserve",
        "/sessions/12/location/",
        "/admin/",
        "/",
        "/sessions/12/stock.json/x",
    ):
        assert app.handler_for(path) is app.site, path


def test_the_short_list_keeps_security_sessions_csrf_and_auth(settings):
    kept = hot_route_middleware()
    for needed in (
        "django.middleware.security.SecurityMiddleware",
        "flashsale.csp.CSPMiddleware",
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


def test_the_sale_page_on_the_short_list_gives_a_token_its_form_posts_with(app, shopper, load_sale, clock):
    sale = load_sale(quantities=[5])
    give_pass(shopper, sale.id, now=clock.now())
    cookies = {"sessionid": shopper.cookies["sessionid"].value, "csrftoken": CSRF}
    page = _call(app, "GET", reverse("reservations-sale", args=[sale.id]), cookies=cookies)
    assert page["status"] == 200 and page["headers"]["Content-Length"] == str(len(page["body"]))
    assert "no-store" in page["headers"]["Cache-Control"] and page["headers"]["X-Frame-Options"] == "DENY"
    (token,) = set(re.findall(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page["body"]))
    body = b"csrfmiddlewaretoken=" + token + f"&item={sale.item.pk}".encode()
    reserved = _call(app, "POST", reverse("reservations-reserve-chosen", args=[sale.id]), cookies=cookies, body=body)
    assert reserved["status"] == 303 and "/checkout/?token=" in reserved["headers"]["Location"]


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


def test_metrics_and_request_ids_cost_the_hot_routes_no_redis_command_and_no_sql(
    app, shopper, load_sale, clock, redis_conn, django_assert_num_queries
):
    kept = hot_route_middleware()
    assert kept[:2] == ["flashsale.metrics.RequestMetricsMiddleware", "flashsale.request_context.RequestIdMiddleware"]
    sale = load_sale(quantities=[5])
    give_pass(shopper, sale.id, now=clock.now())
    shopper.get(reverse("reservations-sale", args=[sale.id]))
    cookies = {"sessionid": shopper.cookies["sessionid"].value, "csrftoken": CSRF}
    reserve = reverse("reservations-reserve", args=[sale.id, sale.item.pk])
    poll = reverse("reservations-stock", args=[sale.id])
    reserves_before = timed("reservations-reserve", "POST", 303)
    polls_before = timed("reservations-stock", "GET", 200)
    answers = []
    with django_assert_num_queries(0):
        reserve_sent = commands_during(
            redis_conn,
            lambda: answers.append(
                _call(
                    app,
                    "POST",
                    reserve,
                    cookies=cookies,
                    body=b"quantity=1",
                    csrf=CSRF,
                    extra={"HTTP_X_REQUEST_ID": "hot-route-1"},
                )
            ),
        )
        poll_sent = commands_during(redis_conn, lambda: answers.append(_call(app, "GET", poll, cookies=cookies)))
    reserved, polled = answers
    assert reserved["status"] == 303 and polled["status"] == 200
    # The views' own round trips and nothing more: the reserve script; the poll's one script, or
    # none when the shared stock snapshot of this process is fresh.
    assert reserve_sent == ["EVALSHA"]
    assert poll_sent in ([], ["EVALSHA"])
    assert timed("reservations-reserve", "POST", 303) == reserves_before + 1
    assert timed("reservations-stock", "GET", 200) == polls_before + 1
    assert reserved["headers"]["X-Request-ID"] == "hot-route-1"
    assert len(polled["headers"]["X-Request-ID"]) == 32  # minted
