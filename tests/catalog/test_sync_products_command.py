"""`manage.py sync_products [SLUG]` pulls feeds now, from the shell."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from catalog.models import Product, Provider, SyncRun
from tests.factories import make_provider
from tests.support.product_records import as_csv, as_json, product_record


def _run(*args) -> str:
    out = StringIO()
    call_command("sync_products", *args, stdout=out)
    return out.getvalue()


def test_syncs_one_provider_by_slug(db, feed_server):
    url = feed_server.put("/a.json", as_json([product_record(1), product_record(2)]))
    make_provider("alpha", delivery=Provider.Delivery.PULL, feed_url=url)
    make_provider("beta", delivery=Provider.Delivery.PULL, feed_url=feed_server.url("/never-fetched.json"))

    output = _run("alpha")

    assert "alpha: run" in output and "ok: 2 created" in output
    assert feed_server.requests == ["/a.json"]
    assert SyncRun.objects.get().trigger == "operator"


def test_syncs_every_active_pull_provider_and_fails_loudly(db, feed_server, fast_feeds):
    make_provider(
        "alpha", delivery=Provider.Delivery.PULL, feed_url=feed_server.put("/a.json", as_json([product_record(1)]))
    )
    make_provider(
        "gamma",
        delivery=Provider.Delivery.PULL,
        feed_format="csv",
        feed_url=feed_server.put("/g.csv", as_csv([product_record(5)]), "text/csv"),
    )
    make_provider("broken", delivery=Provider.Delivery.PULL, feed_url=feed_server.url("/gone.json"))
    make_provider("asleep", delivery=Provider.Delivery.PULL, feed_url=feed_server.url("/z.json"), is_active=False)
    make_provider("pushy")

    with pytest.raises(CommandError, match="1 of 3 syncs failed"):
        _run()

    assert sorted(feed_server.requests) == ["/a.json", "/g.csv", "/gone.json"]
    assert Product.objects.count() == 2
    assert SyncRun.objects.filter(provider__slug="broken", status="failed").count() == 1


def test_unknown_and_push_providers_are_errors(db):
    make_provider("pushy")
    with pytest.raises(CommandError, match="No provider 'nope'"):
        _run("nope")
    with pytest.raises(CommandError, match="push provider"):
        _run("pushy")
