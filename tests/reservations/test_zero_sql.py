"""The sale page, the stock poll and the reserve request run no SQL for a logged-in shopper."""

from __future__ import annotations

from django.urls import reverse

from tests.support.passes import give_pass


def test_the_hot_path_touches_no_sql(shopper, load_sale, clock, django_assert_num_queries):
    sale = load_sale(quantities=[5, 5], limit=2, cities=["Paris", "Lyon"])
    give_pass(shopper, sale.id, now=clock.now())
    shopper.get(reverse("home"))  # the first request puts the user in the cache

    with django_assert_num_queries(0):
        page = shopper.get(reverse("reservations-sale", args=[sale.id]))
    assert page.status_code == 200 and shopper.user.username in page.content.decode()

    with django_assert_num_queries(0):
        poll = shopper.get(reverse("reservations-stock", args=[sale.id]))
    assert poll.status_code == 200

    with django_assert_num_queries(0):
        reserved = shopper.post(reverse("reservations-reserve", args=[sale.id, sale.item.pk]), {"quantity": "1"})
    assert reserved.status_code == 303

    with django_assert_num_queries(0):
        shopper.get(reverse("reservations-sale", args=[sale.id]))  # a new visit, a new TransactionID
        refused = shopper.post(reverse("reservations-reserve", args=[sale.id, sale.item.pk]), {"quantity": "2"})
    assert refused.status_code == 403


def test_anonymous_browsing_touches_no_sql(client, load_sale, django_assert_num_queries):
    sale = load_sale(quantities=[5])
    client.get(reverse("home"))  # the first visitor caches today's not-yet-loaded schedule
    with django_assert_num_queries(0):
        assert client.get(reverse("reservations-sale", args=[sale.id])).status_code == 200
        assert client.get(reverse("reservations-stock", args=[sale.id])).status_code == 200
        assert client.get(reverse("home")).status_code == 200
