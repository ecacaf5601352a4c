"""The CAPTCHA gate: solved once per shopper per session, before the sale if they like; a pass expires."""

from __future__ import annotations

import re
from datetime import timedelta

from captcha.models import CaptchaStore
from django.contrib.sessions.backends.cache import SessionStore
from django.urls import reverse

from flashsale.clock import as_timestamp
from reservations.shopper import ShopperSession


def grant_pass(store, session_id, *, now):
    return ShopperSession(store).grant_captcha_pass(session_id, now=as_timestamp(now))


def has_pass(store, session_id, *, now):
    return ShopperSession(store).has_captcha_pass(session_id, now=as_timestamp(now))


def _solve(client, session_id: int, *, answer: str | None = None):
    page = client.get(reverse("reservations-captcha", args=[session_id]))
    hashkey = re.search(r'name="captcha_0" value="([0-9a-f]+)"', page.content.decode()).group(1)
    response = answer if answer is not None else CaptchaStore.objects.get(hashkey=hashkey).response
    return client.post(
        reverse("reservations-captcha", args=[session_id]), {"captcha_0": hashkey, "captcha_1": response}
    )


def test_solving_the_captcha_before_the_opening_lets_the_shopper_reserve(shopper, load_sale, clock):
    sale = load_sale(quantities=[3], opens_in=timedelta(minutes=2))
    reserve = reverse("reservations-reserve", args=[sale.id, sale.item.pk])
    assert shopper.post(reserve, {"quantity": "1"}).status_code == 403

    response = _solve(shopper, sale.id)

    # Before the opening a verified shopper waits in the pre-queue of the waiting room.
    waiting = reverse("reservations-waiting", args=[sale.id])
    assert response.status_code == 303 and response["Location"] == waiting
    assert has_pass(shopper.session, sale.id, now=clock.now())
    assert shopper.post(reserve, {"quantity": "1"})["Location"] == waiting  # not admitted yet
    assert shopper.get(waiting).status_code == 200  # the waiting page: in the pre-queue
    status_url = reverse("reservations-waiting-status", args=[sale.id])
    clock.set(sale.session.starts_at - timedelta(seconds=2))
    assert shopper.get(status_url).json()["state"] == "pre_queue"  # the waiting page keeps polling
    clock.set(sale.session.starts_at)
    poll = shopper.get(status_url)  # the poll at the opening admits them
    assert poll.json()["state"] == "admitted", poll.json()
    assert "verified for this sale" in shopper.get(reverse("reservations-sale", args=[sale.id])).content.decode()
    assert shopper.post(reserve, {"quantity": "1"}).status_code == 303


def test_a_wrong_answer_grants_nothing(shopper, load_sale, clock):
    sale = load_sale(quantities=[3])
    response = _solve(shopper, sale.id, answer="definitely-wrong")
    assert response.status_code == 400
    assert not has_pass(shopper.session, sale.id, now=clock.now())


def test_test_mode_accepts_passed(shopper, load_sale, clock, monkeypatch):
    monkeypatch.setattr("captcha.conf.settings.CAPTCHA_TEST_MODE", True)
    sale = load_sale(quantities=[3])
    assert _solve(shopper, sale.id, answer="PASSED").status_code == 303


def test_the_fragment_is_just_the_form(shopper, load_sale):
    sale = load_sale(quantities=[3])
    html = shopper.get(reverse("reservations-captcha", args=[sale.id]) + "?fragment=1").content.decode()
    assert html.lstrip().startswith("<form") and "captcha_1" in html


def test_the_captcha_needs_a_login_and_a_loaded_session(client, shopper, load_sale):
    from django.test import Client

    sale = load_sale(quantities=[3])
    assert Client().get(reverse("reservations-captcha", args=[sale.id])).status_code == 302
    assert shopper.get(reverse("reservations-captcha", args=[sale.id + 100])).status_code == 404


def test_a_pass_is_per_session_and_expires(clock, settings):
    settings.FLASHSALE_CAPTCHA_PASS_SECONDS = 60
    store = SessionStore()
    grant_pass(store, 7, now=clock.now())
    assert has_pass(store, 7, now=clock.now()) and not has_pass(store, 8, now=clock.now())
    clock.advance(seconds=60)
    assert not has_pass(store, 7, now=clock.now())


def test_grant_pass_works_on_a_detached_session_store(clock, shopper, load_sale):
    """What the benchmark does: grant passes to pre-logged-in sessions without a request."""
    sale = load_sale(quantities=[3])
    store = SessionStore(session_key=shopper.session.session_key)
    grant_pass(store, sale.id, now=clock.now())
    store.save()
    reserve = reverse("reservations-reserve", args=[sale.id, sale.item.pk])
    assert shopper.post(reserve, {"quantity": "1"}).status_code == 303
