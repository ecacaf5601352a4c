"""`manage.py seed_demo` delivers the bundled catalog through push and pull, and is idempotent."""

from io import StringIO

from django.core.management import call_command

from catalog.demo.seed import seed_demo_catalog
from catalog.models import Product, Provider, SyncRun


def test_seed_demo_loads_the_catalog_once(db):
    out = StringIO()
    call_command("seed_demo", stdout=out)

    products = Product.objects.filter(is_active=True)
    assert products.count() >= 300
    assert products.values("provider").distinct().count() >= 3
    assert products.values("place").distinct().count() >= 6
    assert set(Provider.objects.values_list("delivery", flat=True)) == {"push", "pull"}
    assert set(Provider.objects.filter(delivery="pull").values_list("feed_format", flat=True)) == {"json", "csv"}
    assert set(SyncRun.objects.values_list("trigger", flat=True)) == {"push", "operator"}
    assert not SyncRun.objects.exclude(status="ok").exists()
    assert "Demo data ready." in out.getvalue() and "active products from 4 providers in 12 cities" in out.getvalue()
    paris = Product.objects.filter(place="Paris").first()
    assert 48.80 < float(paris.latitude) < 48.91 and 2.29 < float(paris.longitude) < 2.40
    snapshot = set(Product.objects.values_list("pk", "updated_at"))

    lines = seed_demo_catalog()

    assert set(Product.objects.values_list("pk", "updated_at")) == snapshot
    assert Provider.objects.count() == 4
    assert all(" 0 created, 0 updated, " in line for line in lines[:-1])


def test_demo_feeds_are_served_for_the_pull_providers(db, client, settings):
    seed_demo_catalog()
    for provider in Provider.objects.filter(delivery="pull"):
        path = provider.feed_url.removeprefix(settings.FLASHSALE_SITE_URL)
        response = client.get(path)
        assert response.status_code == 200
        assert response["Content-Type"] == ("text/csv" if provider.feed_format == "csv" else "application/json")
    assert client.get("/demo/feeds/..%2Fproviders.json").status_code == 404

    settings.CATALOG_DEMO_FEEDS = False
    assert client.get(path).status_code == 404


def test_demo_pictures_are_the_sites_own(db, client, settings):
    """Every demo product shows a picture the site serves itself: no outside photo host."""
    settings.FLASHSALE_SITE_URL = "http://127.0.0.1:8100"
    seed_demo_catalog()
    urls = set(Product.objects.values_list("image_url", flat=True))
    assert urls and all(url.startswith("http://127.0.0.1:8100/static/demo/") for url in urls), urls
    for url in urls:
        response = client.get(url.removeprefix(settings.FLASHSALE_SITE_URL))
        assert response.status_code == 200 and response["Content-Type"] == "image/svg+xml", url
        assert b"<svg" in b"".join(response.streaming_content)
    # The pull feeds name them the same way, so a scheduled pull keeps them.
    feed = client.get("/demo/feeds/urban-wellness.csv").content.decode()
    assert "{site}" not in feed and "http://127.0.0.1:8100/static/demo/massage.svg" in feed
