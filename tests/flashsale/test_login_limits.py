"""Log-in and sign-up limits: failures per address and per username, sign-ups per address; 429 says when."""

from __future__ import annotations

import pytest
from django.contrib.auth import SESSION_KEY
from django.test import Client
from django.urls import reverse

LOGIN = "/accounts/login/"


@pytest.fixture(autouse=True)
def _small_rates(settings):
    settings.FLASHSALE_LOGIN_RATE_USERNAME = "3/15m"
    settings.FLASHSALE_LOGIN_RATE_IP = "5/5m"
    settings.FLASHSALE_SIGNUP_RATE_IP = "2/h"


def attempt(username: str, password: str, *, address: str = "198.51.100.1", client: Client | None = None, **extra):
    return (client or Client()).post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=address, **extra)


def assert_slowed_down(response, *, longest: int) -> int:
    assert response.status_code == 429
    wait = int(response["Retry-After"])
    assert 1 <= wait <= longest
    return wait


def test_failures_for_one_username_lock_it_even_with_the_right_password(make_user):
    make_user("dana", password="the-right-phrase")
    statuses = [attempt("dana", "wrong", address=f"198.51.100.{n}").status_code for n in range(3)]
    assert statuses == [200, 200, 200]  # the form says the password is wrong, three times
    refused = attempt("dana", "the-right-phrase", address="198.51.100.9")
    assert_slowed_down(refused, longest=15 * 60)
    assert b"Slow down" in refused.content and b"Try again in" in refused.content
    # Someone else, from the same addresses, is not affected.
    make_user("eli", password="elis-long-phrase")
    assert attempt("eli", "elis-long-phrase", address="198.51.100.1").status_code == 302


def test_failures_from_one_address_lock_it_for_every_username(make_user):
    make_user("fay", password="fays-long-phrase")
    for n in range(5):
        assert attempt(f"guess-{n}", "wrong", address="203.0.113.5").status_code == 200
    assert_slowed_down(attempt("fay", "fays-long-phrase", address="203.0.113.5"), longest=5 * 60)
    assert attempt("fay", "fays-long-phrase", address="203.0.113.6").status_code == 302


def test_successful_log_ins_do_not_count(make_user):
    make_user("gil", password="gils-long-phrase")
    for _ in range(6):
        browser = Client()
        assert attempt("gil", "gils-long-phrase", client=browser).status_code == 302
        assert SESSION_KEY in browser.session


def test_the_admin_log_in_is_limited_too(make_user):
    make_user("root", password="roots-long-phrase", is_staff=True, is_superuser=True)
    for _ in range(3):
        Client().post("/admin/login/", {"username": "root", "password": "wrong"}, REMOTE_ADDR="198.51.100.1")
    refused = Client().post("/admin/login/", {"username": "root", "password": "roots-long-phrase"})
    assert_slowed_down(refused, longest=15 * 60)
    assert reverse("admin:login") == "/admin/login/"  # the limited view answers admin's own log-in URL


def test_a_json_client_gets_json_with_the_same_wait(make_user):
    for _ in range(3):
        attempt("hal", "wrong")
    refused = attempt("hal", "wrong", HTTP_ACCEPT="application/json")
    wait = assert_slowed_down(refused, longest=15 * 60)
    assert refused["Content-Type"] == "application/json"
    assert refused.json()["error"] == "rate_limited" and refused.json()["retry_after"] == wait


def test_the_address_is_the_client_behind_a_trusted_proxy(make_user, settings):
    settings.FLASHSALE_TRUSTED_PROXIES = ["10.0.0.0/8"]
    make_user("ivy", password="ivys-long-phrase")
    for n in range(5):
        attempt(f"guess-{n}", "wrong", address="10.0.0.2", HTTP_X_FORWARDED_FOR="203.0.113.5")
    # The balancer's address is shared: another shopper behind it is not limited.
    assert attempt("ivy", "ivys-long-phrase", address="10.0.0.2", HTTP_X_FORWARDED_FOR="203.0.113.6").status_code == 302
    assert_slowed_down(
        attempt("ivy", "ivys-long-phrase", address="10.0.0.2", HTTP_X_FORWARDED_FOR="203.0.113.5"), longest=300
    )


def test_sign_ups_are_limited_per_address(db):
    for _ in range(2):
        assert Client().post(reverse("signup"), {"username": "x"}, REMOTE_ADDR="198.51.100.1").status_code == 200
    assert_slowed_down(Client().post(reverse("signup"), {"username": "x"}, REMOTE_ADDR="198.51.100.1"), longest=3600)
    assert Client().post(reverse("signup"), {"username": "x"}, REMOTE_ADDR="198.51.100.2").status_code == 200
    assert Client().get(reverse("signup"), REMOTE_ADDR="198.51.100.1").status_code == 200  # the form still shows
