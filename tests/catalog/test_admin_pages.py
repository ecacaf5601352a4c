"""The catalog's admin pages render, and their query count does not grow with the rows shown."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from catalog.ingest import ingest_records
from catalog.models import Provider
from tests.factories import make_provider
from tests.support.product_records import product_record

CHANGELISTS = ["catalog_product", "catalog_provider", "catalog_syncrun", "catalog_syncrejection"]


def _deliver(slug: str, count: int) -> None:
    provider = make_provider(slug)
    records = [product_record(n, place=("Paris", "Lyon", "Rome")[n % 3]) for n in range(count)]
    records.append(product_record(999, price="nope"))
    ingest_records(provider, records, trigger="push")
    ingest_records(provider, records, trigger="push")


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(ctx)


@pytest.mark.parametrize("model", CHANGELISTS)
def test_changelist_queries_do_not_grow_with_rows(admin_client, model):
    url = reverse(f"admin:{model}_changelist")
    _deliver("first", 2)
    _queries(admin_client, url)  # warm the user cache
    few = _queries(admin_client, url)

    for n in range(4):
        _deliver(f"more-{n}", 6)
    many = _queries(admin_client, url)

    assert many == few


def test_provider_page_shows_recent_runs_and_rejections_link(admin_client, settings):
    settings.CATALOG_ADMIN_RECENT_RUNS = 3
    _deliver("first", 2)
    provider = make_provider("busy")
    for _ in range(5):
        ingest_records(provider, [product_record(1)], trigger="push")

    response = admin_client.get(reverse("admin:catalog_provider_change", args=[provider.pk]))

    assert response.status_code == 200
    assert response.context["inline_admin_formsets"][0].formset.get_queryset().count() == 3
    assert f"?run__provider__id__exact={provider.pk}".encode() in response.content
    assert b"None. <a" in response.content  # no rejections for this provider

    first = Provider.objects.get(slug="first")
    page = admin_client.get(reverse("admin:catalog_provider_change", args=[first.pk])).content.decode()
    assert "<td>sku-999</td><td>price: A valid number is required.</td>" in page


def test_sync_run_page_lists_its_rejections(admin_client):
    provider = make_provider("p")
    run = ingest_records(provider, [product_record(1), product_record(2, latitude=99)], trigger="push")

    response = admin_client.get(reverse("admin:catalog_syncrun_change", args=[run.pk]))

    assert response.status_code == 200
    assert b"Ensure this value is less than or equal to 90." in response.content


def test_product_page_shows_the_raw_record(admin_client):
    provider = make_provider("p")
    ingest_records(provider, [product_record(1, extra_field="kept as sent")], trigger="push")
    product = provider.products.get()

    response = admin_client.get(reverse("admin:catalog_product_change", args=[product.pk]))

    assert response.status_code == 200
    assert b"kept as sent" in response.content


def test_product_search_and_filters(admin_client):
    _deliver("first", 6)
    url = reverse("admin:catalog_product_changelist")
    assert admin_client.get(url, {"q": "Dinner for two #4"}).context["cl"].result_count == 1
    assert admin_client.get(url, {"place": "Lyon"}).context["cl"].result_count == 2
    assert admin_client.get(url, {"is_active__exact": "0"}).context["cl"].result_count == 0


def test_operator_adds_a_pull_provider_and_the_feed_url_is_required(admin_client):
    url = reverse("admin:catalog_provider_add")
    assert admin_client.get(url).status_code == 200
    data = {
        "name": "Feed Co",
        "slug": "feed-co",
        "is_active": "on",
        "delivery": "pull",
        "feed_url": "",
        "feed_format": "csv",
        "sync_interval": "00:15:00",
        "sync_runs-TOTAL_FORMS": "0",
        "sync_runs-INITIAL_FORMS": "0",
    }

    refused = admin_client.post(url, data)
    assert refused.status_code == 200
    assert b"A pull provider needs a feed URL." in refused.content

    created = admin_client.post(url, {**data, "feed_url": "https://feeds.example.com/products.csv"})
    assert created.status_code == 302
    assert Provider.objects.get(slug="feed-co").sync_interval.total_seconds() == 900
