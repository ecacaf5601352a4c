"""The push API is limited per provider (by its key, whatever address it pushes from): 429 says when."""

from catalog.keys import issue_key
from catalog.models import Product, Provider, SyncRun
from tests.factories import make_provider
from tests.support.product_records import product_record


def test_pushes_over_the_rate_get_429_with_retry_after_and_land_nothing(push_provider, push, settings):
    settings.CATALOG_PUSH_RATE = "2/m"
    assert [push(push_provider.slug, [product_record(n)], key=push_provider.key).status_code for n in (1, 2)] == [
        200,
        200,
    ]
    refused = push(push_provider.slug, [product_record(3)], key=push_provider.key)
    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert "More than 2/m pushes for this provider" in refused.json()["detail"]
    assert SyncRun.objects.count() == 2 and not Product.objects.filter(external_id=product_record(3)["external_id"])

    other = make_provider("other-tours", delivery=Provider.Delivery.PUSH)
    assert push(other.slug, [product_record(4)], key=issue_key(other)).status_code == 200  # a rate of its own


def test_a_wrong_key_does_not_use_up_the_providers_rate(push_provider, push, settings):
    settings.CATALOG_PUSH_RATE = "1/m"
    for _ in range(3):
        assert push(push_provider.slug, [product_record(1)], key="fsk_wrong").status_code == 401
    assert push(push_provider.slug, [product_record(1)], key=push_provider.key).status_code == 200
