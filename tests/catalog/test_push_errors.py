"""Every error of the push API is a JSON answer with the right status, never a 500, and lands nothing."""

import json

import pytest

from catalog.models import Product, SyncRun
from tests.support.product_records import product_record


def _assert_nothing_landed():
    assert not Product.objects.exists()
    assert not SyncRun.objects.exists()


def test_missing_key_is_401_with_challenge(push_provider, push):
    response = push(push_provider.slug, [product_record(1)])
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert "API key is required" in response.json()["detail"]
    _assert_nothing_landed()


@pytest.mark.parametrize("key", ["fsk_wrong", "", "two words"])
def test_wrong_key_is_401(push_provider, push, key):
    response = push(push_provider.slug, [product_record(1)], key=key)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    _assert_nothing_landed()


def test_another_providers_key_is_401(push_provider, push):
    from catalog.keys import issue_key
    from tests.factories import make_provider

    other_key = issue_key(make_provider("other"))
    assert push(push_provider.slug, [product_record(1)], key=other_key).status_code == 401


def test_unknown_provider_is_404(push_provider, push):
    response = push("no-such-provider", [product_record(1)], key=push_provider.key)
    assert response.status_code == 404
    assert response.json()["detail"] == "No provider 'no-such-provider'."


def test_disabled_provider_is_403(push_provider, push):
    push_provider.is_active = False
    push_provider.save()
    assert push(push_provider.slug, [product_record(1)], key=push_provider.key).status_code == 403
    _assert_nothing_landed()


def test_malformed_json_is_400(push_provider, push):
    response = push(push_provider.slug, b'[{"external_id": "x", ', key=push_provider.key)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert "JSON parse error" in response.json()["detail"]
    _assert_nothing_landed()


@pytest.mark.parametrize("body", [{"external_id": "x"}, "just a string", 42, None])
def test_a_body_that_is_not_an_array_is_400(push_provider, push, body):
    response = push(push_provider.slug, json.dumps(body), key=push_provider.key)
    assert response.status_code == 400
    assert response.json()["detail"] == "The body must be a JSON array of product records."
    _assert_nothing_landed()


def test_empty_body_is_400(push_provider, push):
    assert push(push_provider.slug, b"", key=push_provider.key).status_code == 400


def test_batch_over_the_limit_is_413(push_provider, push, settings):
    settings.CATALOG_MAX_BATCH = 3
    response = push(push_provider.slug, [product_record(n) for n in range(4)], key=push_provider.key)
    assert response.status_code == 413
    assert "4 records in one request; the limit is 3" in response.json()["detail"]
    _assert_nothing_landed()
    assert push(push_provider.slug, [product_record(n) for n in range(3)], key=push_provider.key).status_code == 200


def test_body_over_the_byte_limit_is_413_before_parsing(push_provider, push, settings):
    settings.CATALOG_MAX_BODY_BYTES = 100
    response = push(push_provider.slug, b"[" + b" " * 200 + b"]", key=push_provider.key)
    assert response.status_code == 413
    assert "the limit is 100" in response.json()["detail"]


def test_non_json_content_type_is_415(push_provider, push):
    response = push(push_provider.slug, "external_id=x", key=push_provider.key, content_type="text/plain")
    assert response.status_code == 415
    _assert_nothing_landed()


def test_get_is_405(push_provider, client):
    response = client.get(
        f"/api/providers/{push_provider.slug}/products/", HTTP_AUTHORIZATION=f"Bearer {push_provider.key}"
    )
    assert response.status_code == 405
