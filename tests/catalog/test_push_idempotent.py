"""A record delivered twice changes nothing the second time; a changed record is updated."""

from catalog.models import Product
from tests.support.product_records import product_record


def test_repeated_batch_changes_nothing(push_provider, push):
    batch = [product_record(n) for n in range(5)]
    first = push(push_provider.slug, batch, key=push_provider.key).json()
    before = {p.external_id: (p.pk, p.updated_at) for p in Product.objects.all()}

    second = push(push_provider.slug, batch, key=push_provider.key).json()

    assert (first["created"], first["unchanged"]) == (5, 0)
    assert (second["created"], second["updated"], second["unchanged"], second["rejected"]) == (0, 0, 5, 0)
    assert second["status"] == "ok"
    assert {p.external_id: (p.pk, p.updated_at) for p in Product.objects.all()} == before


def test_changed_record_is_updated_in_place(push_provider, push):
    push(push_provider.slug, [product_record(1), product_record(2)], key=push_provider.key)
    original = Product.objects.get(external_id="sku-1")

    body = push(
        push_provider.slug, [product_record(1, price="79.00", place="Lyon"), product_record(2)], key=push_provider.key
    ).json()

    assert (body["created"], body["updated"], body["unchanged"]) == (0, 1, 1)
    product = Product.objects.get(external_id="sku-1")
    assert product.pk == original.pk
    assert (str(product.list_price), product.place, product.raw["price"]) == ("79.00", "Lyon", "79.00")
    assert product.updated_at > original.updated_at
