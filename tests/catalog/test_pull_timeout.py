"""A feed that never answers leaves a failed SyncRun with a readable error and no partial damage."""

from catalog.models import Product, Provider, SyncRun
from catalog.sync import pull_provider
from tests.factories import make_product, make_provider


def test_hanging_feed_times_out_into_a_failed_run(db, silent_server, fast_feeds):
    provider = make_provider("slowco", delivery=Provider.Delivery.PULL, feed_url=silent_server.url)
    product = make_product(provider, external_id="kept")

    run = pull_provider(provider, trigger=SyncRun.Trigger.SCHEDULE)

    assert run.status == "failed" and run.finished_at is not None
    assert run.error == (
        f"The feed did not answer within 0.5s (connect timeout 1s) after 1 retries. Feed: {silent_server.url}"
    )
    assert (run.created_count, run.updated_count, run.deactivated_count) == (0, 0, 0)
    product.refresh_from_db()
    assert product.is_active and product.name == Product.objects.get(pk=product.pk).name
    assert Product.objects.count() == 1
    provider.refresh_from_db()
    assert provider.last_sync_state == "failed"
    assert provider.last_synced_at is None
    assert provider.last_attempt_at is not None
