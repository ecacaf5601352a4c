"""A push sent with Transfer-Encoding: chunked, through gunicorn: read like any other, up to the same limit."""

from __future__ import annotations

import json

import pytest
import requests
from django.conf import settings

from catalog.keys import issue_key
from catalog.models import Product, Provider
from tests.factories import make_provider
from tests.support.product_records import product_record

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

LIMIT = 4000


def chunks(body: bytes, size: int = 100):
    """A generator body: requests sends it chunked, without a Content-Length."""
    for start in range(0, len(body), size):
        yield body[start : start + size]


def test_a_chunked_push_lands_and_one_over_the_limit_gets_413(transactional_db, processes):
    provider = make_provider("chunky-tours", delivery=Provider.Delivery.PUSH)
    key = issue_key(provider)
    site = processes.gunicorn(
        redis_url=settings.CACHES["default"]["LOCATION"], workers=1, CATALOG_MAX_BODY_BYTES=str(LIMIT)
    )
    url = f"{site.url}/api/providers/{provider.slug}/products/"
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}

    sent = requests.Request("POST", url, headers=headers, data=chunks(json.dumps([product_record(1)]).encode()))
    prepared = sent.prepare()
    assert prepared.headers["Transfer-Encoding"] == "chunked" and "Content-Length" not in prepared.headers
    answer = requests.Session().send(prepared, timeout=30)
    assert answer.status_code == 200, answer.text
    assert answer.json()["created"] == 1 and answer.json()["rejected"] == 0
    assert Product.objects.filter(provider=provider, external_id="sku-1").exists()

    too_big = json.dumps([product_record(n) for n in range(20)]).encode()
    assert len(too_big) > LIMIT
    refused = requests.post(url, headers=headers, data=chunks(too_big), timeout=30)
    assert refused.status_code == 413
    assert refused.json()["detail"].startswith(f"The chunked body is over the limit of {LIMIT} bytes")
    assert Product.objects.filter(provider=provider).count() == 1
