"""measure_ingest times a real ingest and leaves nothing behind."""

from bench.ingest import measure_ingest
from catalog.models import Product, Provider, SyncRun


def test_measure_ingest_returns_a_rate_and_cleans_up(db):
    rate = measure_ingest(300)

    assert rate > 0
    assert not Provider.objects.exists()
    assert not Product.objects.exists()
    assert not SyncRun.objects.exists()
