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


def test_docs_page_renders_with_local_assets(client, db):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    assert b"swagger-ui" in response.content
    assert b"/static/drf_spectacular_sidecar/" in response.content
