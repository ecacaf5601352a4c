"""A pull retries a feed that answers 5xx, and gives up with a readable error after the last retry."""

from catalog.models import Product, Provider, SyncRun
from catalog.sync import pull_provider
from tests.factories import make_provider
from tests.support.product_records import as_json, product_record


def test_a_passing_5xx_is_retried(db, feed_server, fast_feeds):
    url = feed_server.put("/flaky.json", as_json([product_record(1)]))
    feed_server.fail_next("/flaky.json", 1)
    provider = make_provider("flaky", delivery=Provider.Delivery.PULL, feed_url=url)

    run = pull_provider(provider, trigger=SyncRun.Trigger.SCHEDULE)

    assert feed_server.requests == ["/flaky.json", "/flaky.json"]
    assert (run.status, run.created_count) == ("ok", 1)


def test_a_feed_that_keeps_failing_gives_up_after_the_retries(db, feed_server, fast_feeds):
    url = feed_server.put("/down.json", as_json([product_record(1)]))
    feed_server.fail_next("/down.json", 5)
    provider = make_provider("down", delivery=Provider.Delivery.PULL, feed_url=url)

    run = pull_provider(provider, trigger=SyncRun.Trigger.SCHEDULE)

    assert feed_server.requests == ["/down.json", "/down.json"]  # one try and CATALOG_FEED_RETRIES=1 retry
    assert run.status == "failed"
    assert run.error.startswith("The feed kept failing after 1 retries:") and "503" in run.error
    assert not Product.objects.exists()
