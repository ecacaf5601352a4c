"""Strange but well-formed input is a rejection or a 400, never a 500 or a failed write."""

import json

import pytest

from catalog.models import Product, SyncRejection
from tests.support.product_records import product_record


@pytest.mark.parametrize(
    "record",
    [
        product_record(1, price=[1, 2]),
        product_record(1, name={"en": "x"}),
        product_record(1, latitude=True),
        product_record(1, external_id={"id": 1}),
        product_record(1, name="nul\u0000byte"),
        product_record(1, name="lone \ud800 surrogate"),
        product_record(1, image_url="javascript:alert(1)"),
        product_record(1, price="1e3000"),
        product_record(1, active="maybe"),
        product_record(1, currency="EURO"),
        product_record(1, external_id="x" * 201),
    ],
)
def test_odd_field_values_are_rejected_and_stored(push_provider, push, record):
    response = push(push_provider.slug, json.dumps([record]), key=push_provider.key)

    assert response.status_code == 200
    assert response.json()["rejected"] == 1
    assert SyncRejection.objects.count() == 1
    assert not Product.objects.exists()


def test_unstorable_characters_in_extra_fields_do_not_break_the_batch(push_provider, push):
    record = product_record(1, note="nul\u0000 and \ud800", nested={"k\u0000": ["\u0000"]})
    response = push(push_provider.slug, json.dumps([record, product_record(2)]), key=push_provider.key)

    assert response.status_code == 200
    assert response.json()["created"] == 2
    raw = Product.objects.get(external_id="sku-1").raw
    assert "\u0000" not in raw["note"] and raw["nested"] == {"k\ufffd": ["\ufffd"]}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'[{"price": 1e999}]', "out of range"),
        (b'[{"price": NaN}]', "NaN is not a number"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        (b"\xff\xfe[]", "JSON parse error"),
    ],
)
def test_unparseable_numbers_and_nesting_are_400(push_provider, push, body, message):
    response = push(push_provider.slug, body, key=push_provider.key)
    assert response.status_code == 400
    assert message in response.json()["detail"]
