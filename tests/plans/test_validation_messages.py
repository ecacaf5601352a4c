"""Each planning rule refuses bad input with its own plain message, in forms and in the database."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse

from plans.forms import (
    ENDS_AFTER_START,
    LIMIT_AT_LEAST_ONE,
    PRICE_POSITIVE,
    PRODUCT_INACTIVE,
    PRODUCT_ONCE,
    PRODUCT_REPEATED,
    QUANTITY_AT_LEAST_ONE,
    SaleItemForm,
    SaleSessionForm,
)
from plans.models import SaleItem, SaleSession
from tests.factories import make_item, make_product, make_session
from tests.support.session_admin import session_form_data

pytestmark = pytest.mark.django_db


def _item_data(product, **overrides):
    data = {
        "product": product.pk,
        "quantity": 5,
        "sale_price": "19.90",
        "currency": "EUR",
        "per_user_limit": 1,
        "display_order": 0,
    }
    data.update(overrides)
    return data


def test_session_must_end_after_it_starts(clock):
    start = clock.now()
    form = SaleSessionForm(data={"name": "x", "starts_at": start, "ends_at": start, "notes": ""})
    assert not form.is_valid()
    assert form.errors["ends_at"] == [ENDS_AFTER_START]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("quantity", 0, QUANTITY_AT_LEAST_ONE),
        ("per_user_limit", 0, LIMIT_AT_LEAST_ONE),
        ("sale_price", "0.00", PRICE_POSITIVE),
        ("sale_price", "-5", PRICE_POSITIVE),
    ],
)
def test_item_rules_have_their_own_message(clock, field, value, message):
    session = make_session()
    form = SaleItemForm(data=_item_data(make_product(), **{field: value}), instance=SaleItem(session=session))
    assert not form.is_valid()
    assert form.errors[field] == [message]


def test_database_constraints_hold_without_the_forms(clock):
    session = make_session()
    product = make_product()
    make_item(session, product)
    with pytest.raises(IntegrityError), transaction.atomic():
        SaleItem.objects.bulk_create([SaleItem(session=session, product=product, quantity=1, sale_price=1)])
    with pytest.raises(IntegrityError), transaction.atomic():
        SaleItem.objects.bulk_create([SaleItem(session=session, product=make_product(), quantity=0, sale_price=1)])
    with pytest.raises(IntegrityError), transaction.atomic():
        SaleSession.objects.bulk_create([SaleSession(name="x", starts_at=clock.now(), ends_at=clock.now())])


def test_model_validation_names_the_duplicate_product(clock):
    session = make_session()
    product = make_product()
    make_item(session, product)
    duplicate = SaleItem(session=session, product=product, quantity=1, sale_price=Decimal("1.00"))
    with pytest.raises(ValidationError) as caught:
        duplicate.full_clean()
    assert PRODUCT_ONCE in str(caught.value)


def test_admin_inline_refuses_a_product_twice_with_a_message(admin_client, clock):
    session = make_session()
    product = make_product()
    url = reverse("admin:plans_salesession_change", args=[session.pk])

    response = admin_client.post(url, session_form_data(session, [_item_data(product), _item_data(product)]))

    assert response.status_code == 200
    assert PRODUCT_REPEATED in response.content.decode()
    assert PRODUCT_ONCE in response.content.decode()
    assert not SaleItem.objects.filter(session=session).exists()


def test_admin_inline_refuses_a_product_already_saved_in_the_session(admin_client, clock):
    session = make_session()
    product = make_product()
    existing = make_item(session, product)
    url = reverse("admin:plans_salesession_change", args=[session.pk])
    rows = [
        {**_item_data(product, quantity=existing.quantity, sale_price=existing.sale_price), "id": existing.pk},
        _item_data(product),
    ]

    response = admin_client.post(url, session_form_data(session, rows))

    assert response.status_code == 200
    assert PRODUCT_ONCE in response.content.decode()
    assert SaleItem.objects.filter(session=session).count() == 1


def test_admin_shows_the_window_message(admin_client, clock):
    session = make_session()
    data = session_form_data(session, [])
    data["ends_at_0"], data["ends_at_1"] = data["starts_at_0"], data["starts_at_1"]

    response = admin_client.post(reverse("admin:plans_salesession_change", args=[session.pk]), data)

    assert response.status_code == 200
    assert ENDS_AFTER_START in response.content.decode()


def test_admin_add_sets_created_by(admin_client, superuser, clock):
    start = clock.now() + timedelta(hours=1)
    session = SaleSession(name="New", starts_at=start, ends_at=start + timedelta(hours=1))
    session.pk = None
    data = session_form_data(session, [_item_data(make_product())])
    for key in [k for k in data if k.endswith("-session")]:
        data.pop(key)

    response = admin_client.post(reverse("admin:plans_salesession_add"), data)

    assert response.status_code == 302, response.content.decode()[:2000]
    created = SaleSession.objects.get(name="New")
    assert created.created_by == superuser
    assert created.items.count() == 1


def test_an_inactive_product_cannot_be_picked(clock):
    session = make_session()
    form = SaleItemForm(data=_item_data(make_product(is_active=False)), instance=SaleItem(session=session))
    assert not form.is_valid()
    assert form.errors["product"] == [PRODUCT_INACTIVE]
