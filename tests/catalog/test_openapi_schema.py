"""The provider API is described by an OpenAPI schema and browsable docs."""

import yaml


def test_schema_describes_the_push_endpoint(client, db):
    response = client.get("/api/schema/")
    assert response.status_code == 200
    schema = yaml.safe_load(response.content)
    operation = schema["paths"]["/api/providers/{slug}/products/"]["post"]
    assert operation["operationId"] == "push_products"
    assert {"200", "400", "401", "404", "413"} <= set(operation["responses"])
    assert schema["components"]["securitySchemes"]["ProviderKey"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "The provider's API key, issued by `manage.py provider_key SLUG`.",
    }
    record = schema["components"]["schemas"]["ProductRecord"]
    assert {"external_id", "name", "price", "latitude", "longitude"} <= set(record["required"])


def test_the_request_schema_says_records_are_validated_one_by_one(client, db, settings):
    schema = yaml.safe_load(client.get("/api/schema/").content)
    operation = schema["paths"]["/api/providers/{slug}/products/"]["post"]
    body = operation["requestBody"]["content"]["application/json"]
    # A record that breaks ProductRecord does not make the request invalid: it is rejected on its own.
    assert body["schema"]["type"] == "array" and body["schema"]["maxItems"] == settings.CATALOG_MAX_BATCH
    first, other = body["schema"]["items"]["anyOf"]
    assert first == {"$ref": "#/components/schemas/ProductRecord"}
    assert "type" not in other and "rejections" in other["description"]
    # The example is a batch of records (drf-spectacular wraps a many=True example in the array).
    example = body["examples"]["OneProduct"]["value"]
    assert isinstance(example, list) and example[0]["external_id"] == "sku-1042"
    errors = schema["components"]["schemas"]["Rejection"]["properties"]["errors"]
    assert errors["additionalProperties"] == {"type": "array", "items": {"type": "string"}}
    assert {"411", "413", "429"} <= set(operation["responses"])
    assert operation["responses"]["429"]["headers"]["Retry-After"]["schema"] == {"type": "integer"}


def test_docs_page_renders_with_local_assets(client, db):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    assert b"swagger-ui" in response.content
    assert b"/static/drf_spectacular_sidecar/" in response.content
