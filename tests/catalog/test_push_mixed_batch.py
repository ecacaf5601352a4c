"""A pushed batch mixing good and bad records lands the good ones and reports each bad one."""

from decimal import Decimal

from catalog.models import Product, SyncRejection, SyncRun
from tests.support.product_records import product_record


def test_good_records_land_and_each_bad_one_is_reported(push_provider, push):
    batch = [
        product_record(1),
        product_record(2, price="-5"),  # not positive
        product_record(3, latitude=123.0, currency="euro"),  # two bad fields
        "not an object",
        product_record(5, name=""),
        product_record(6, latitude="48.85661234", longitude=2.35, price=19.99, currency="chf"),
        product_record(1, name="same id again"),
        {"name": "no id", "price": "10"},
    ]
    response = push(push_provider.slug, batch, key=push_provider.key)

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "partial"
    assert (body["received"], body["created"], body["updated"], body["unchanged"], body["rejected"]) == (8, 2, 0, 0, 6)
    rejections = {r["index"]: r for r in body["rejections"]}
    assert sorted(rejections) == [1, 2, 3, 4, 6, 7]
    assert rejections[1]["external_id"] == "sku-2" and list(rejections[1]["errors"]) == ["price"]
    assert set(rejections[2]["errors"]) == {"latitude", "currency"}
    assert "non_field_errors" in rejections[3]["errors"] and rejections[3]["external_id"] == ""
    assert list(rejections[4]["errors"]) == ["name"]
    assert rejections[6]["errors"] == {"external_id": ["Repeated in this delivery (first at index 0)."]}
    assert set(rejections[7]["errors"]) >= {"external_id", "latitude", "longitude"}

    products = {p.external_id: p for p in Product.objects.filter(provider=push_provider)}
    assert set(products) == {"sku-1", "sku-6"}
    assert products["sku-1"].name == "Dinner for two #1"
    six = products["sku-6"]
    assert (six.latitude, six.list_price, six.currency) == (Decimal("48.856612"), Decimal("19.99"), "CHF")
    assert six.raw["latitude"] == "48.85661234"  # the record as sent

    run = SyncRun.objects.get(pk=body["run"])
    assert (run.trigger, run.status, run.created_count, run.rejected_count) == ("push", "partial", 2, 6)
    stored = SyncRejection.objects.filter(run=run).order_by("index")
    assert [r.index for r in stored] == [1, 2, 3, 4, 6, 7]
    assert stored[0].record == batch[1]
    push_provider.refresh_from_db()
    assert push_provider.last_sync_state == "partial" and push_provider.last_synced_at is not None


def test_a_batch_with_only_bad_records_is_a_failed_run_that_lands_nothing(push_provider, push):
    response = push(push_provider.slug, [product_record(1, price="free")], key=push_provider.key)

    assert response.status_code == 200
    assert response.json()["status"] == "failed"
    assert response.json()["rejections"][0]["errors"]["price"] == ["A valid number is required."]
    assert not Product.objects.exists()
