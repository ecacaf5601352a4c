"""Beat's sync_due_providers enqueues each pull provider once its interval has elapsed."""

from datetime import timedelta

from catalog.models import Provider, SyncRun
from catalog.sync import claim, due_providers
from catalog.tasks import sync_due_providers
from tests.factories import make_provider
from tests.support.product_records import as_json, product_record


def test_due_providers_follow_their_interval(db, clock, feed_server, celery_eager):
    url = feed_server.put("/f.json", as_json([product_record(1)]))
    hourly = make_provider("hourly", delivery="pull", feed_url=url, sync_interval=timedelta(hours=1))
    make_provider("manual", delivery="pull", feed_url=url)  # no interval: operator-triggered only
    make_provider("off", delivery="pull", feed_url=url, sync_interval=timedelta(minutes=1), is_active=False)
    make_provider("pushy", sync_interval=timedelta(minutes=1))

    assert sync_due_providers() == ["hourly"]
    run = SyncRun.objects.get()
    assert (run.provider, run.trigger, run.status) == (hourly, "schedule", "ok")

    clock.advance(minutes=59)
    assert sync_due_providers() == []
    clock.advance(minutes=1)
    assert sync_due_providers() == ["hourly"]
    assert SyncRun.objects.filter(provider=hourly).count() == 2
    assert feed_server.requests == ["/f.json", "/f.json"]


def test_a_failing_feed_waits_for_its_interval_too(db, clock, feed_server, fast_feeds, celery_eager):
    make_provider("broken", delivery="pull", feed_url=feed_server.url("/404"), sync_interval=timedelta(minutes=10))

    assert sync_due_providers() == ["broken"]
    clock.advance(minutes=1)
    assert sync_due_providers() == []
    assert Provider.objects.get().last_sync_state == "failed"


def test_only_one_scheduler_claims_a_due_provider(db, clock):
    make_provider("p", delivery="pull", feed_url="http://127.0.0.1:18199/x", sync_interval=timedelta(minutes=5))
    first, second = due_providers(), due_providers()  # two beat processes saw the same state

    assert claim(first[0]) is True
    assert claim(second[0]) is False
