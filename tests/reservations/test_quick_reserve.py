"""Reserve clicks decided before the hot routes' middleware (``flashsale.quick_reserve``).

A new hold is answered without Django's handler, with the stack's own headers and its own
Location; everything else is answered by the stack without deciding the click a second time;
what Django's CSRF check refuses never reaches Redis.
"""

from __future__ import annotations

import logging
import subprocess
import sys
import time
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse

from flashsale import quick_reserve
from flashsale.hot_routes import HotRouteApplication
from flashsale.request_context import REQUEST_ID_HEADER
from flashsale.store import keys
from flashsale.store.replies import user_txn_ids
from reservations import services
from reservations.tokens import verify_for_site
from tests.support.hot_requests import (
    CSRF,
    answered_early,
    ready_shopper,
    requests_django_began,
    seconds_timed,
    timed,
    without_request_id,
)
from tests.support.redis_monitor import commands_during
from tests.support.sales import assert_stock_invariant
from tests.support.site_env import site_process_env
from tests.support.wsgi_calls import call_wsgi

CLICK = {"body": b"quantity=1", "csrf": CSRF}


@pytest.fixture
def app():
    return HotRouteApplication()


def _token_of(answer: dict):
    (token,) = parse_qs(urlsplit(answer["headers"]["Location"]).query)["token"]
    return verify_for_site(token)


def test_a_new_hold_is_answered_before_django_with_the_stacks_headers(app, load_sale, make_user, clock, redis_conn):
    sale = load_sale(quantities=[5], limit=1)
    click = reverse("reservations-reserve", args=[sale.id, sale.item.pk])
    first, second, third = (ready_shopper(make_user, sale, clock) for _ in range(3))
    recorded = call_wsgi(app, "POST", click, cookies=first, **CLICK)  # the stack answers, recorded
    assert recorded["status"] == 303

    winners_before = timed("reservations-reserve", "POST", 303)
    answers = []
    sent = commands_during(
        redis_conn,
        lambda: answers.append(
            answered_early(app, "POST", click, cookies=second, extra={"HTTP_X_REQUEST_ID": "click-9"}, **CLICK)
        ),
    )
    (quick,) = answers
    quick_counted = timed("reservations-reserve", "POST", 303) - winners_before
    stack = call_wsgi(app.hot, "POST", click, cookies=third, **CLICK)

    assert sent == ["EVALSHA"]
    assert quick["status"] == 303 and quick["body"] == b""
    assert [name for name, _ in quick["header_list"]] == [name for name, _ in stack["header_list"]]
    for name in ("Content-Security-Policy", "X-Frame-Options", "X-Content-Type-Options", "Referrer-Policy"):
        assert quick["headers"][name] == stack["headers"][name]
    assert quick["headers"][REQUEST_ID_HEADER] == "click-9"
    assert quick_counted == 1  # in the request metrics, as the stack would count it
    # Its own Location: the gateway's URL with a token for this shopper's hold, not the recorded one.
    claims = _token_of(quick)
    assert claims != _token_of(recorded) and claims.item_id == sale.item.pk and claims.units == 1
    user_id = claims.user_id
    assert claims.txn_id in user_txn_ids(redis_conn.hgetall(keys.user(sale.id, user_id)))
    assert assert_stock_invariant(redis_conn, sale.id, sale.item.pk)["remaining"] == 2


def test_a_click_through_the_sale_pages_form_is_answered_early_too(app, load_sale, make_user, clock):
    sale = load_sale(quantities=[5, 5], limit=1)
    form = reverse("reservations-reserve-chosen", args=[sale.id])
    chosen = sale.items[1].pk
    body = f"csrfmiddlewaretoken={CSRF}&item={chosen}&q{chosen}=1".encode()
    call_wsgi(app, "POST", form, cookies=ready_shopper(make_user, sale, clock), body=body)  # recorded

    quick = answered_early(app, "POST", form, cookies=ready_shopper(make_user, sale, clock), body=body)

    assert quick["status"] == 303 and _token_of(quick).item_id == chosen


@pytest.mark.parametrize(
    "forged",
    [
        pytest.param({"csrf": None}, id="no-token"),
        pytest.param({"csrf": "w" * 32}, id="another-token"),
        pytest.param({"extra": {"HTTP_ORIGIN": "https://evil.example"}}, id="foreign-origin"),
    ],
)
def test_a_click_the_csrf_check_refuses_never_reaches_redis(app, load_sale, make_user, clock, redis_conn, forged):
    sale = load_sale(quantities=[5], limit=1)
    click = reverse("reservations-reserve", args=[sale.id, sale.item.pk])
    call_wsgi(app, "POST", click, cookies=ready_shopper(make_user, sale, clock), **CLICK)  # a recording exists
    shopper = ready_shopper(make_user, sale, clock)
    request = {**CLICK, **forged}

    answers = []
    sent = commands_during(
        redis_conn, lambda: answers.append(call_wsgi(app, "POST", click, cookies=shopper, **request))
    )

    assert sent == [] and answers[0]["status"] == 403
    assert without_request_id(answers[0]) == without_request_id(
        call_wsgi(app.hot, "POST", click, cookies=shopper, **request)
    )
    assert assert_stock_invariant(redis_conn, sale.id, sale.item.pk)["remaining"] == 4


def test_a_refusal_is_decided_once_and_answered_by_the_stack(app, load_sale, make_user, clock, redis_conn):
    sale = load_sale(quantities=[1], limit=1)
    click = reverse("reservations-reserve", args=[sale.id, sale.item.pk])
    late_user = make_user()
    first, late = ready_shopper(make_user, sale, clock), ready_shopper(make_user, sale, clock, user=late_user)
    assert call_wsgi(app, "POST", click, cookies=first, **CLICK)["status"] == 303
    answers = []

    sent = commands_during(redis_conn, lambda: answers.append(call_wsgi(app, "POST", click, cookies=late, **CLICK)))

    assert sent == ["EVALSHA"]  # decided before the stack, not again in the view
    assert answers[0]["status"] == 409 and b"Sold out" in answers[0]["body"]
    assert redis_conn.hget(keys.counts(sale.id, sale.item.pk), "rejected_sold_out") == b"1"
    rate = redis_conn.hget(keys.user(sale.id, late_user.pk), "rate")
    assert rate.split(b":")[1] == b"1"  # the click counted once in the shopper's rate window


def test_a_refusals_time_includes_the_decision_before_the_stack(app, load_sale, make_user, clock, monkeypatch):
    sale = load_sale(quantities=[1], limit=1)
    click = reverse("reservations-reserve", args=[sale.id, sale.item.pk])
    assert call_wsgi(app, "POST", click, cookies=ready_shopper(make_user, sale, clock), **CLICK)["status"] == 303
    late = ready_shopper(make_user, sale, clock)
    decide = services.decide_by_ticket

    def slow_decision(click):
        time.sleep(0.3)  # a slow store: what the request metrics must see
        return decide(click)

    monkeypatch.setattr(services, "decide_by_ticket", slow_decision)
    sum_before = seconds_timed("reservations-reserve", "POST", 409)

    assert call_wsgi(app, "POST", click, cookies=late, **CLICK)["status"] == 409

    assert seconds_timed("reservations-reserve", "POST", 409) - sum_before >= 0.3


def test_a_hold_whose_checkout_url_fails_is_answered_by_the_stack(
    app, load_sale, make_user, clock, redis_conn, monkeypatch
):
    sale = load_sale(quantities=[5], limit=1)
    click = reverse("reservations-reserve", args=[sale.id, sale.item.pk])
    assert call_wsgi(app, "POST", click, cookies=ready_shopper(make_user, sale, clock), **CLICK)["status"] == 303
    shopper = ready_shopper(make_user, sale, clock)

    def broken(held):
        raise RuntimeError("the gateway's URL cannot be built")

    monkeypatch.setattr(quick_reserve, "checkout_url_for", broken)
    with requests_django_began() as began:
        answer = call_wsgi(app, "POST", click, cookies=shopper, **CLICK)

    # Not an exception out of the WSGI application: the stack answered the hold (its view builds
    # the URL itself) and the unit stays held for the shopper.
    assert began == [1] and answer["status"] == 303
    assert assert_stock_invariant(redis_conn, sale.id, sale.item.pk)["remaining"] == 3


def test_a_shopper_without_a_ticket_is_decided_by_the_session(app, load_sale, make_user, clock, redis_conn):
    sale = load_sale(quantities=[5], limit=1)
    click = reverse("reservations-reserve", args=[sale.id, sale.item.pk])
    shopper = ready_shopper(make_user, sale, clock)
    redis_conn.delete(*redis_conn.scan_iter(keys.ticket(sale.id, "*")))
    answers = []

    sent = commands_during(redis_conn, lambda: answers.append(call_wsgi(app, "POST", click, cookies=shopper, **CLICK)))

    # The ticket's call (no ticket), the session read, the direct call that stores a new ticket.
    assert sent == ["EVALSHA", "GET", "EVALSHA"] and answers[0]["status"] == 303
    assert assert_stock_invariant(redis_conn, sale.id, sale.item.pk)["remaining"] == 4


def test_a_click_while_redis_is_down_gets_the_stacks_503_page():
    """A site process whose Redis does not answer: the click passes the CSRF check, the store's
    error is raised again inside the stack, whose middleware answers it."""
    code = (
        "import django; django.setup();"
        "from flashsale.hot_routes import HotRouteApplication;"
        "from tests.support.wsgi_calls import wsgi_environ;"
        "app = HotRouteApplication(); got = {};"
        "cookies = {'sessionid': 's' * 32, 'csrftoken': 'k' * 32};"
        "environ = wsgi_environ('POST', '/sessions/1/items/2/reserve/', cookies=cookies, body=b'quantity=1', csrf='k' * 32);"
        "body = b''.join(app(environ, lambda status, headers, info=None: got.update(s=status, h=dict(headers))));"
        "print(got['s'].split()[0], got['h'].get('Retry-After'), app.quick is not None); print(body.decode())"
    )
    env = site_process_env(REDIS_URL="redis://127.0.0.1:1/0", DEBUG="0")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    first, body = out.stdout.split("\n", 1)
    assert first == "503 5 True"
    assert "Nothing was reserved or charged" in body


def test_another_middleware_on_the_hot_routes_sends_every_click_through_the_stack(settings, caplog):
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, "django.middleware.gzip.GZipMiddleware"]
    with caplog.at_level(logging.WARNING, logger="flashsale.quick_reserve"):
        app = HotRouteApplication()
    assert app.quick is None
    assert "django.middleware.gzip.GZipMiddleware" in caplog.text
