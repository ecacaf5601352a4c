"""Rate limits on reserve and on the CAPTCHA: 429 per user and per IP, counted per item."""

from __future__ import annotations

from django.urls import reverse

from flashsale.store import keys
from tests.support.passes import give_pass
from tests.support.sales import item_figures


def test_reserve_is_limited_per_user_and_counted(shopper, load_sale, redis_conn, clock, settings):
    settings.FLASHSALE_RESERVE_RATE_USER = "2/m"
    settings.FLASHSALE_RESERVE_RATE_IP = "100/m"
    sale = load_sale(quantities=[10], limit=1)
    give_pass(shopper, sale.id, now=clock.now())
    url = reverse("reservations-reserve", args=[sale.id, sale.item.pk])

    statuses = []
    for _ in range(4):
        shopper.get(reverse("reservations-sale", args=[sale.id]))  # each attempt from a new visit
        statuses.append(shopper.post(url, {"quantity": "1"}).status_code)

    assert statuses == [303, 403, 429, 429]  # reserved, limit reached, then slowed down
    slowed = shopper.post(url, {"quantity": "1"})
    assert b"Slow down" in slowed.content
    assert 1 <= int(slowed["Retry-After"]) <= 60  # when the script's minute window ends
    figures = item_figures(redis_conn, sale.id, sale.item.pk)
    assert (figures["rejected_rate_limited"], figures["rejected_limit"], figures["held"]) == (3, 1, 1)


def test_reserve_is_limited_per_ip_across_users(client, make_user, load_sale, clock, settings):
    settings.FLASHSALE_RESERVE_RATE_USER = "100/m"
    settings.FLASHSALE_RESERVE_RATE_IP = "3/m"
    sale = load_sale(quantities=[10], limit=1)
    url = reverse("reservations-reserve", args=[sale.id, sale.item.pk])
    statuses = []
    for _ in range(4):
        client.force_login(make_user())
        give_pass(client, sale.id, now=clock.now())
        statuses.append(client.post(url, {"quantity": "1"}, REMOTE_ADDR="10.1.2.3").status_code)
    assert statuses == [303, 303, 303, 429]
    client.force_login(make_user())
    give_pass(client, sale.id, now=clock.now())
    assert client.post(url, {"quantity": "1"}, REMOTE_ADDR="10.9.9.9").status_code == 303


def test_rate_limits_on_an_unknown_item_create_no_keys(shopper, load_sale, redis_conn, settings, clock):
    settings.FLASHSALE_RESERVE_RATE_USER = "0/m"
    sale = load_sale(quantities=[1])
    give_pass(shopper, sale.id, now=clock.now())
    url = reverse("reservations-reserve", args=[sale.id, sale.item.pk + 500])
    assert shopper.post(url, {"quantity": "1"}).status_code == 404
    assert not redis_conn.keys(f"*counts:{sale.item.pk + 500}")
    assert not redis_conn.keys("*:rate:*")
    # A known item with a zero rate is refused before anything is reserved.
    known = reverse("reservations-reserve", args=[sale.id, sale.item.pk])
    assert shopper.post(known, {"quantity": "1"}).status_code == 429
    assert redis_conn.llen(keys.stock(sale.id, sale.item.pk)) == 1


def test_the_captcha_is_limited_per_user(shopper, load_sale, settings):
    settings.FLASHSALE_CAPTCHA_RATE_USER = "2/m"
    sale = load_sale(quantities=[1])
    url = reverse("reservations-captcha", args=[sale.id])
    assert [shopper.get(url).status_code for _ in range(2)] == [200, 200]
    slowed = shopper.get(url)
    assert slowed.status_code == 429 and 1 <= int(slowed["Retry-After"]) <= 60


def test_the_reserve_ip_window_counts_the_client_behind_a_trusted_proxy(client, make_user, load_sale, clock, settings):
    settings.FLASHSALE_RESERVE_RATE_USER = "100/m"
    settings.FLASHSALE_RESERVE_RATE_IP = "2/m"
    settings.FLASHSALE_TRUSTED_PROXIES = ["10.0.0.0/8"]
    sale = load_sale(quantities=[10], limit=1)
    url = reverse("reservations-reserve", args=[sale.id, sale.item.pk])

    def reserve_from(address: str) -> int:
        client.force_login(make_user())
        give_pass(client, sale.id, now=clock.now())
        return client.post(url, {"quantity": "1"}, REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=address).status_code

    # Every shopper reaches the site through the balancer 10.0.0.2; each has a window of their own.
    assert [reserve_from("198.51.100.1") for _ in range(3)] == [303, 303, 429]
    assert [reserve_from("198.51.100.2") for _ in range(2)] == [303, 303]


def test_the_reserve_ip_window_counts_an_ipv6_client_by_its_64_network(client, make_user, load_sale, clock, settings):
    settings.FLASHSALE_RESERVE_RATE_USER = "100/m"
    settings.FLASHSALE_RESERVE_RATE_IP = "2/m"
    sale = load_sale(quantities=[10], limit=1)
    url = reverse("reservations-reserve", args=[sale.id, sale.item.pk])

    def reserve_from(address: str) -> int:
        client.force_login(make_user())
        give_pass(client, sale.id, now=clock.now())
        return client.post(url, {"quantity": "1"}, REMOTE_ADDR=address).status_code

    # One subscriber's /64: walking its addresses does not open new windows.
    assert [reserve_from(f"2001:db8:1:2::{n:x}") for n in range(1, 4)] == [303, 303, 429]
    # Another /64 has its own.
    assert reserve_from("2001:db8:1:3::1") == 303
