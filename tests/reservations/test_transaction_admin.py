"""Operators see transactions in admin, read-only, without N+1 queries."""

from __future__ import annotations

from django.urls import reverse

from reservations.drain import drain_session
from reservations.holds import reserve_units


def test_the_changelist_lists_transactions_read_only(
    admin_client, load_sale, make_user, clock, django_assert_max_num_queries
):
    sale = load_sale(quantities=[10])
    for n in range(5):
        reserve_units(sale.id, sale.item.pk, user_id=make_user().pk, quantity=1, txn_id=f"{n:026d}", now=clock.now())
    drain_session(sale.id)
    url = reverse("admin:reservations_transaction_changelist")
    with django_assert_max_num_queries(12):
        response = admin_client.get(url)
    assert response.status_code == 200 and response.content.decode().count("00000000000000000000000") == 5
    assert admin_client.get(reverse("admin:reservations_transaction_add")).status_code == 403
