"""The stock poll and sold-out clicks answered before Django: the stack's own answer, replayed.

Every comparison is against the short stack itself (``app.hot``): the replayed answer must carry
the same status, headers in the same order and the same body; only the request id is its own.
"""

from __future__ import annotations

import pytest
from django.urls import reverse
from prometheus_client import REGISTRY

from flashsale.hot_routes import HotRouteApplication
from flashsale.request_context import REQUEST_ID_HEADER
from flashsale.store import keys
from flashsale.store.replies import user_txn_ids
from plans.adjusting import adjust_stock
from reservations.holds import release_hold, reserve_units
from tests.support.hot_requests import CSRF, answered_early, ready_shopper, timed, without_request_id
from tests.support.redis_monitor import commands_during
from tests.support.sales import assert_stock_invariant
from tests.support.wsgi_calls import call_wsgi


@pytest.fixture
def app():
    return HotRouteApplication()


def _cancel_holds_of(redis_conn, sale, user, clock) -> None:
    (txn_id,) = user_txn_ids(redis_conn.hgetall(keys.user(sale.id, user.pk)))
    assert release_hold(sale.id, txn_id, reason="cancelled", now=clock.now())


def _sold_out_sale(load_sale, make_user, clock):
    """A sale whose one unit is held: a late shopper's click teaches the process "sold out"."""
    sale = load_sale(quantities=[1], limit=1)
    reserve_units(sale.id, sale.item.pk, user_id=make_user().pk, quantity=1, txn_id="A" * 26, now=clock.now())
    return sale


# --- the stock poll ------------------------------------------------------------------------------


def test_the_poll_is_replayed_with_the_stacks_headers_and_body(app, load_sale, clock, redis_conn):
    sale = load_sale(quantities=[4, 2])
    poll = reverse("reservations-stock", args=[sale.id])
    assert call_wsgi(app, "GET", poll)["status"] == 200  # the stack reads the snapshot...
    first = call_wsgi(app, "GET", poll)  # ...and builds the answer from it, recorded

    polls_before = timed("reservations-stock", "GET", 200)
    answers = []
    sent = commands_during(
        redis_conn, lambda: answers.append(answered_early(app, "GET", poll, extra={"HTTP_X_REQUEST_ID": "poll-7"}))
    )
    stack = call_wsgi(app.hot, "GET", poll)

    assert sent == []
    (replayed,) = answers
    assert without_request_id(replayed) == without_request_id(stack) == without_request_id(first)
    assert replayed["headers"][REQUEST_ID_HEADER] == "poll-7"
    assert len(stack["headers"][REQUEST_ID_HEADER]) == 32
    for name in ("Content-Security-Policy", "X-Frame-Options", "X-Content-Type-Options", "Referrer-Policy", "ETag"):
        assert name in replayed["headers"]
    assert replayed["headers"]["Cache-Control"] == "public, max-age=1"
    assert replayed["headers"]["Content-Length"] == str(len(replayed["body"]))
    assert timed("reservations-stock", "GET", 200) == polls_before + 2  # the replayed poll and the stack's


def test_a_poll_naming_the_etag_gets_the_stacks_304(app, load_sale, clock):
    sale = load_sale(quantities=[4])
    poll = reverse("reservations-stock", args=[sale.id])
    etag = call_wsgi(app, "GET", poll)["headers"]["ETag"]  # the snapshot is read
    asked = {"extra": {"HTTP_IF_NONE_MATCH": etag}}
    assert call_wsgi(app, "GET", poll, **asked)["status"] == 304  # built by the stack once

    before = timed("reservations-stock", "GET", 304)
    replayed = answered_early(app, "GET", poll, **asked)

    assert timed("reservations-stock", "GET", 304) == before + 1
    assert without_request_id(replayed) == without_request_id(call_wsgi(app.hot, "GET", poll, **asked))
    assert replayed["status"] == 304 and replayed["body"] == b"" and replayed["headers"]["ETag"] == etag
    assert call_wsgi(app, "GET", poll)["status"] == 200  # without the tag: the body


def test_a_stale_snapshot_sends_the_poll_to_django_which_reads_it_again(app, load_sale, make_user, clock, redis_conn):
    sale = load_sale(quantities=[4])
    buyer = make_user()
    poll = reverse("reservations-stock", args=[sale.id])
    call_wsgi(app, "GET", poll)
    call_wsgi(app, "GET", poll)
    before = answered_early(app, "GET", poll)
    reserve_units(sale.id, sale.item.pk, user_id=buyer.pk, quantity=1, txn_id="B" * 26, now=clock.now())
    assert answered_early(app, "GET", poll)["body"] == before["body"]  # the same second: the same snapshot

    clock.advance(seconds=1)
    answers = []
    sent = commands_during(redis_conn, lambda: answers.append(call_wsgi(app, "GET", poll)))

    assert sent == ["EVALSHA"]
    (fresh,) = answers
    assert fresh["body"] != before["body"] and b'"items":{"%d":3}' % sale.item.pk in fresh["body"]
    call_wsgi(app, "GET", poll)  # recorded from the new snapshot
    assert answered_early(app, "GET", poll)["body"] == fresh["body"]


# --- sold-out clicks -----------------------------------------------------------------------------


def test_a_sold_out_click_is_replayed_with_the_stacks_409(app, load_sale, make_user, clock, redis_conn):
    sale = _sold_out_sale(load_sale, make_user, clock)
    cookies = ready_shopper(make_user, sale, clock)
    click = reverse("reservations-reserve", args=[sale.id, sale.item.pk])
    request = {"cookies": cookies, "body": b"quantity=1", "csrf": CSRF}
    assert call_wsgi(app, "POST", click, **request)["status"] == 409  # Redis says so: remembered
    assert call_wsgi(app, "POST", click, **request)["status"] == 409  # the memo's page, built by the stack

    clicks_before = timed("reservations-reserve", "POST", 409)
    memo_before = _refused_from_memory(sale)
    answers = []
    sent = commands_during(redis_conn, lambda: answers.append(answered_early(app, "POST", click, **request)))
    stack = call_wsgi(app.hot, "POST", click, **request)

    assert sent == []  # no EVALSHA, no session read
    (replayed,) = answers
    assert without_request_id(replayed) == without_request_id(stack)
    assert replayed["status"] == 409 and b"Sold out" in replayed["body"]
    assert replayed["headers"]["X-Frame-Options"] == "DENY"
    assert timed("reservations-reserve", "POST", 409) == clicks_before + 2  # the replayed click and the stack's
    assert _refused_from_memory(sale) == memo_before + 2  # the replayed click and the stack's


def _refused_from_memory(sale) -> float:
    labels = {"session": str(sale.id), "item": str(sale.item.pk)}
    return REGISTRY.get_sample_value("flashsale_sale_refusals_from_memory_total", labels) or 0.0


def test_an_anonymous_click_on_a_sold_out_item_still_gets_sold_out_first(app, load_sale, make_user, clock):
    sale = _sold_out_sale(load_sale, make_user, clock)
    click = reverse("reservations-reserve", args=[sale.id, sale.item.pk])
    cookies = ready_shopper(make_user, sale, clock)
    for _ in range(2):
        call_wsgi(app, "POST", click, cookies=cookies, body=b"quantity=1", csrf=CSRF)

    anonymous = answered_early(app, "POST", click, cookies={"csrftoken": CSRF}, body=b"quantity=1", csrf=CSRF)

    assert anonymous["status"] == 409 and b"Sold out" in anonymous["body"]


def test_the_memo_expires_after_a_second_and_units_that_came_back_are_reserved(
    app, load_sale, make_user, clock, redis_conn
):
    sale = load_sale(quantities=[1], limit=1)
    buyer_user = make_user()
    buyer, waiting = ready_shopper(make_user, sale, clock, user=buyer_user), ready_shopper(make_user, sale, clock)
    click = reverse("reservations-reserve", args=[sale.id, sale.item.pk])

    def reserve(cookies):
        return call_wsgi(app, "POST", click, cookies=cookies, body=b"quantity=1", csrf=CSRF)

    assert reserve(buyer)["status"] == 303
    assert reserve(waiting)["status"] == 409  # learnt from Redis
    assert reserve(waiting)["status"] == 409  # recorded
    _cancel_holds_of(redis_conn, sale, buyer_user, clock)
    before = assert_stock_invariant(redis_conn, sale.id, sale.item.pk)
    assert before["remaining"] == 1

    assert answered_early(app, "POST", click, cookies=waiting, body=b"quantity=1", csrf=CSRF)["status"] == 409
    assert assert_stock_invariant(redis_conn, sale.id, sale.item.pk) == before  # memory took nothing

    clock.advance(seconds=1)
    answers = []
    sent = commands_during(redis_conn, lambda: answers.append(reserve(waiting)))
    assert sent == ["EVALSHA"] and answers[0]["status"] == 303  # expired: Redis decides, and reserves
    assert assert_stock_invariant(redis_conn, sale.id, sale.item.pk)["remaining"] == 0


def test_a_snapshot_showing_units_again_ends_the_replayed_refusals(app, load_sale, make_user, clock, settings):
    settings.FLASHSALE_SOLD_OUT_MEMO_SECONDS = 60.0  # long: only the snapshot can end it here
    sale = load_sale(quantities=[1], limit=1)
    buyer, waiting = ready_shopper(make_user, sale, clock), ready_shopper(make_user, sale, clock)
    click = reverse("reservations-reserve", args=[sale.id, sale.item.pk])
    request = {"body": b"quantity=1", "csrf": CSRF}
    assert call_wsgi(app, "POST", click, cookies=buyer, **request)["status"] == 303
    for _ in range(2):
        assert call_wsgi(app, "POST", click, cookies=waiting, **request)["status"] == 409
    adjust_stock(sale.item, delta=1, reason="found one more")
    assert answered_early(app, "POST", click, cookies=waiting, **request)["status"] == 409  # the memo still holds

    clock.advance(seconds=1)  # the poll reads a fresh snapshot: it shows a unit, the memo is dropped
    assert (
        b'"items":{"%d":1}' % sale.item.pk
        in call_wsgi(app, "GET", reverse("reservations-stock", args=[sale.id]))["body"]
    )

    assert call_wsgi(app, "POST", click, cookies=waiting, **request)["status"] == 303


# --- requests the stack would answer otherwise go to it ------------------------------------------


@pytest.mark.parametrize(
    "odd",
    [
        pytest.param({"cookies": {"csrftoken": "not-a-token"}}, id="malformed-csrf-cookie"),
        pytest.param({"cookies": {"sessionid": "short"}}, id="session-cookie-too-short"),
        pytest.param({"extra": {"HTTP_HOST": "elsewhere.example"}}, id="host-not-allowed"),
        pytest.param({"method": "HEAD"}, id="head"),
        pytest.param({"extra": {"REQUEST_METHOD": "PUT"}}, id="put"),
    ],
)
def test_a_request_the_stack_answers_otherwise_gets_the_stacks_answer(app, load_sale, make_user, clock, odd):
    sale = _sold_out_sale(load_sale, make_user, clock)
    poll = reverse("reservations-stock", args=[sale.id])
    click = reverse("reservations-reserve", args=[sale.id, sale.item.pk])
    shopper = ready_shopper(make_user, sale, clock)
    for _ in range(3):  # both answers recorded
        call_wsgi(app, "GET", poll)
        call_wsgi(app, "POST", click, cookies=shopper, body=b"quantity=1", csrf=CSRF)
    answered_early(app, "GET", poll)
    answered_early(app, "POST", click, cookies=shopper, body=b"quantity=1", csrf=CSRF)
    extra = odd.get("extra", {})
    poll_request = {"cookies": odd.get("cookies"), "extra": extra}
    click_request = {
        "cookies": {**shopper, **odd.get("cookies", {})},
        "body": b"quantity=1",
        "csrf": CSRF,
        "extra": extra,
    }

    for method, path, request in ((odd.get("method", "GET"), poll, poll_request), ("POST", click, click_request)):
        got = call_wsgi(app, method, path, **request)
        assert _comparable(got) == _comparable(call_wsgi(app.hot, method, path, **request))


def _comparable(answer: dict) -> dict:
    """Without the request id, and a new CSRF cookie's random value."""
    seen = without_request_id(answer)
    seen["headers"] = [
        (name, value.split("=", 1)[0] if name == "Set-Cookie" and value.strip().startswith("csrftoken=") else value)
        for name, value in seen["headers"]
    ]
    return seen


def test_over_https_the_recorded_answer_is_the_secure_one(load_sale, settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_HSTS_SECONDS = 3600
    app = HotRouteApplication()  # SecurityMiddleware reads its settings when it is built
    sale = load_sale(quantities=[4])
    poll = reverse("reservations-stock", args=[sale.id])
    secure = {"extra": {"HTTP_X_FORWARDED_PROTO": "https"}}
    for _ in range(2):
        call_wsgi(app, "GET", poll)
    call_wsgi(app, "GET", poll, **secure)  # recorded apart

    over_https = answered_early(app, "GET", poll, **secure)

    assert "Strict-Transport-Security" in over_https["headers"]
    assert "Strict-Transport-Security" not in answered_early(app, "GET", poll)["headers"]
    assert without_request_id(over_https) == without_request_id(call_wsgi(app.hot, "GET", poll, **secure))


# --- the sale page's one form --------------------------------------------------------------------


def test_a_sold_out_click_through_the_sale_pages_form_is_replayed_too(app, load_sale, make_user, clock, redis_conn):
    sale = load_sale(quantities=[1, 5], limit=1)
    sold, other = sale.items
    reserve_units(sale.id, sold.pk, user_id=make_user().pk, quantity=1, txn_id="A" * 26, now=clock.now())
    cookies = ready_shopper(make_user, sale, clock)
    form = reverse("reservations-reserve-chosen", args=[sale.id])

    def click(item_id, **request):
        body = f"csrfmiddlewaretoken={CSRF}&item={item_id}&q{item_id}=1".encode()
        return call_wsgi(app, "POST", form, cookies=cookies, body=body, **request)

    for _ in range(2):
        assert click(sold.pk)["status"] == 409
    chosen_before = timed("reservations-reserve-chosen", "POST", 409)
    answers = []
    sent = commands_during(redis_conn, lambda: answers.append(click(sold.pk)))
    body = f"csrfmiddlewaretoken={CSRF}&item={sold.pk}&q{sold.pk}=1".encode()
    stack = call_wsgi(app.hot, "POST", form, cookies=cookies, body=body)

    assert sent == []
    assert without_request_id(answers[0]) == without_request_id(stack)
    assert timed("reservations-reserve-chosen", "POST", 409) == chosen_before + 2
    # The body read to find the item reaches Django whole: the other item is reserved.
    assert click(other.pk)["status"] == 303
    assert call_wsgi(app, "POST", form, cookies=cookies, body=b"item=x", csrf=CSRF)["status"] == 400
