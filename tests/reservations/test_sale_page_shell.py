"""The sale page's HTML around its cards is rendered once per variant; each shopper's own parts are put in per request."""

from __future__ import annotations

import re

from django.contrib.messages import get_messages
from django.contrib.messages.storage.fallback import FallbackStorage
from django.http import HttpResponse
from django.middleware.csrf import _unmask_cipher_token
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.http import parse_http_date

from flashsale.csrf_tokens import masked_token, random_mask
from flashsale.never_cache import never_cache
from reservations import sale_page
from reservations.holds import reserve_units
from tests.support.passes import give_pass

TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def _shopper(make_user, name: str) -> Client:
    client = Client()
    client.force_login(make_user(name))
    return client


def _page(client: Client, sale):
    return client.get(reverse("reservations-sale", args=[sale.id]))


def test_two_shoppers_on_one_shell_get_their_own_token_name_and_counts(load_sale, make_user, clock):
    sale = load_sale(quantities=[5, 5], limit=3)
    ada, bob = _shopper(make_user, "ada"), _shopper(make_user, "bob<i>")
    ada_id = int(ada.session["_auth_user_id"])
    reserve_units(sale.id, sale.items[0].pk, user_id=ada_id, quantity=2, txn_id="A" * 26, now=clock.now())
    clock.advance(seconds=1)
    first = _page(ada, sale)
    assert [t.name for t in first.templates][:1] == ["reservations/sale.html"]
    second = _page(bob, sale)
    assert second.templates == []  # the same variant: the template did not run again
    ada_html, bob_html = first.content.decode(), second.content.decode()

    ada_tokens, bob_tokens = set(TOKEN.findall(ada_html)), set(TOKEN.findall(bob_html))
    assert len(ada_tokens) == len(bob_tokens) == 1 and ada_tokens != bob_tokens
    assert _unmask_cipher_token(ada_tokens.pop()) == ada.cookies["csrftoken"].value
    assert _unmask_cipher_token(bob_tokens.pop()) == bob.cookies["csrftoken"].value
    assert '<span class="who">ada</span>' in ada_html
    assert '<span class="who">bob&lt;i&gt;</span>' in bob_html and "bob<i>" not in bob_html
    assert "you have <span data-yours>2</span>" in ada_html and "data-yours" not in bob_html


def test_the_shell_follows_what_the_shopper_may_do(client, load_sale, make_user, clock):
    sale = load_sale(quantities=[5])
    anonymous = _page(client, sale).content.decode()
    assert f'href="{reverse("login")}?next=/sessions/{sale.id}/">Log in</a> to reserve' in anonymous
    assert "reserve-list" not in anonymous

    shopper = _shopper(make_user, "carol")
    unverified = _page(shopper, sale).content.decode()
    assert "One quick check before your first reservation" in unverified and "reserve-list" in unverified
    verified_shopper = _shopper(make_user, "erin")
    give_pass(verified_shopper, sale.id, now=clock.now())
    verified = _page(verified_shopper, sale).content.decode()
    assert "You are verified for this sale" in verified and "One quick check" not in verified


def test_a_page_posted_from_keeps_working_with_its_token(load_sale, make_user, clock):
    sale = load_sale(quantities=[5])
    shopper = Client(enforce_csrf_checks=True)
    shopper.force_login(make_user())
    give_pass(shopper, sale.id, now=clock.now())
    html = _page(shopper, sale).content.decode()
    (token,) = set(TOKEN.findall(html))
    item = sale.items[0].pk
    answer = shopper.post(
        reverse("reservations-reserve-chosen", args=[sale.id]), {"csrfmiddlewaretoken": token, "item": item}
    )
    assert answer.status_code == 303 and "/checkout/" in answer["Location"]


def test_a_waiting_message_is_left_for_the_next_page_that_shows_messages(shopper, load_sale):
    sale = load_sale(quantities=[5])
    request = RequestFactory().get("/")
    request.session = shopper.session
    storage = FallbackStorage(request)
    storage.add(20, "Reservation cancelled: its units are back on sale.")
    response = HttpResponse()
    storage.update(response)
    shopper.cookies.update(response.cookies)

    page = _page(shopper, sale)
    assert "Reservation cancelled" not in page.content.decode()
    assert [str(m) for m in get_messages(page.wsgi_request)] == ["Reservation cancelled: its units are back on sale."]


def test_masked_tokens_unmask_to_the_cookies_secret_with_a_fresh_mask_each_time():
    request = RequestFactory().get("/")
    request.META["CSRF_COOKIE"] = secret = "a" * 16 + "Z9" * 8
    tokens = {masked_token(request) for _ in range(50)}
    assert len(tokens) == 50
    assert all(len(token) == 64 and _unmask_cipher_token(token) == secret for token in tokens)
    assert request.META["CSRF_COOKIE_NEEDS_UPDATE"] is True
    assert set("".join(random_mask() for _ in range(200))) == set(
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    )


def test_a_request_without_a_csrf_cookie_gets_one_from_django():
    request = RequestFactory().get("/")
    token = masked_token(request)
    assert _unmask_cipher_token(token) == request.META["CSRF_COOKIE"]


def test_never_cache_writes_djangos_headers():
    theirs = HttpResponse()
    add_never_cache_headers(theirs)
    ours = never_cache(lambda request: HttpResponse())(RequestFactory().get("/"))
    assert ours["Cache-Control"] == theirs["Cache-Control"]
    assert abs(parse_http_date(ours["Expires"]) - parse_http_date(theirs["Expires"])) <= 1
    patched = never_cache(lambda request: HttpResponse(headers={"Cache-Control": "public"}))(RequestFactory().get("/"))
    assert "no-store" in patched["Cache-Control"] and "private" in patched["Cache-Control"]


def test_a_changed_setting_drops_the_shells(settings, load_sale, make_user):
    sale = load_sale(quantities=[5])
    _page(_shopper(make_user, "dan"), sale)
    assert sale_page._shells
    settings.FLASHSALE_ADMISSION_PASS_SECONDS = 600
    assert not sale_page._shells
