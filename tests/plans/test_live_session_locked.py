"""A loaded or live session's window and quantities cannot change: refused in the admin and in the model."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse

from flashsale.store import keys
from plans.exceptions import SessionLocked
from plans.models import SaleItem
from tests.factories import make_item, make_product, make_session
from tests.support.session_admin import session_form_data

pytestmark = pytest.mark.django_db


def _row(item, **overrides):
    row = {
        "id": item.pk,
        "product": item.product_id,
        "quantity": item.quantity,
        "sale_price": item.sale_price,
        "currency": item.currency,
        "per_user_limit": item.per_user_limit,
        "display_order": item.display_order,
    }
    row.update(overrides)
    return row


def test_the_locked_fields_of_a_live_session_show_as_text_with_the_reason(admin_client, live_session):
    """Window, products and quantities cannot change: no input offers to, and the page says why."""
    session, first, second = live_session
    html = admin_client.get(reverse("admin:plans_salesession_change", args=[session.pk])).content.decode()

    for name in ("starts_at_0", "ends_at_0", "items-0-quantity", "items-0-product", "items-TOTAL_FORMS"):
        assert f'name="{name}"' not in html or name == "items-TOTAL_FORMS", name
    assert 'name="items-0-sale_price"' in html and 'name="name"' in html  # still editable
    assert "its window, products and quantities are locked" in html
    # No row can be removed or added either.
    assert "items-0-DELETE" not in html and 'name="items-MAX_NUM_FORMS" value="0"' in html


def test_a_forged_quantity_or_window_change_of_a_live_session_changes_nothing(admin_client, live_session, redis_conn):
    session, first, second = live_session
    data = session_form_data(session, [_row(first, quantity=50), _row(second)])
    later = session.ends_at + timedelta(hours=1)
    data["ends_at_0"], data["ends_at_1"] = later.strftime("%Y-%m-%d"), later.strftime("%H:%M:%S")

    admin_client.post(reverse("admin:plans_salesession_change", args=[session.pk]), data)

    first.refresh_from_db()
    original_end = session.ends_at
    session.refresh_from_db()
    assert first.quantity == 10 and session.ends_at == original_end
    assert redis_conn.llen(keys.stock(session.pk, first.pk)) == 10


def test_admin_refuses_new_and_removed_items_of_a_live_session(admin_client, live_session):
    session, first, second = live_session
    url = reverse("admin:plans_salesession_change", args=[session.pk])
    new_row = {
        "product": make_product().pk,
        "quantity": 3,
        "sale_price": "5.00",
        "currency": "EUR",
        "per_user_limit": 1,
        "display_order": 2,
    }

    admin_client.post(url, session_form_data(session, [_row(first), _row(second), new_row]))
    admin_client.post(url, session_form_data(session, [_row(first), _row(second, DELETE="on")]))

    assert SaleItem.objects.filter(session=session).count() == 2


def test_admin_accepts_a_price_change_and_copies_it_to_redis(admin_client, live_session, redis_conn):
    session, first, second = live_session
    url = reverse("admin:plans_salesession_change", args=[session.pk])

    response = admin_client.post(url, session_form_data(session, [_row(first, sale_price="7.77"), _row(second)]))

    assert response.status_code == 302
    assert redis_conn.hget(keys.item(session.pk, first.pk), "sale_price") == b"7.77"
    assert redis_conn.llen(keys.stock(session.pk, first.pk)) == 10


def test_the_model_refuses_what_the_form_would(live_session):
    session, first, _ = live_session
    first.quantity = 99
    with pytest.raises(SessionLocked) as caught:
        first.save()
    assert caught.value.fields == ("quantity",)

    session.starts_at -= timedelta(minutes=5)
    with pytest.raises(SessionLocked):
        session.save()
    with pytest.raises(SessionLocked):
        make_item(session)
    with pytest.raises(SessionLocked):
        SaleItem.objects.get(pk=first.pk).delete()
    with pytest.raises(SessionLocked):
        session.delete()


def test_a_draft_can_still_change(clock):
    session = make_session(opens_in=timedelta(hours=2))
    item = make_item(session, quantity=4)
    item.quantity = 8
    item.save()
    session.ends_at += timedelta(hours=1)
    session.save()
    item.refresh_from_db()
    assert item.quantity == 8
