"""OpenAPI description of the provider API: its key scheme (loaded by CatalogConfig.ready) and its batches."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class ProviderKeyScheme(OpenApiAuthenticationExtension):
    target_class = "catalog.authentication.ProviderKeyAuthentication"
    name = "ProviderKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "The provider's API key, issued by `manage.py provider_key SLUG`.",
        }


PUSH_OPERATION_ID = "push_products"

ANY_OTHER_RECORD = {
    "description": (
        "Any other element: validated on its own like every record, refused on its own. It is listed "
        "under `rejections` with its index, its `external_id` if it has one, and `errors` (field name, "
        "or `non_field_errors`, to a list of messages: the ProductRecord rules it breaks); the valid "
        "records of the batch still land."
    )
}


def records_one_by_one(result: dict, generator, request, public) -> dict:
    """drf-spectacular post-processing hook: the push API's request schema as the API behaves.

    Records are validated one at a time and a bad one is answered in the 200's ``rejections``,
    not by refusing the batch. So each element is "a ProductRecord, or anything else (rejected on
    its own)"; the array itself is what can make the request fail (not an array, too long).
    """
    from django.conf import settings

    for path in result.get("paths", {}).values():
        operation = path.get("post")
        if not operation or operation.get("operationId") != PUSH_OPERATION_ID:
            continue
        body = operation["requestBody"]["content"]["application/json"]
        body["schema"] = {
            "type": "array",
            "maxItems": settings.CATALOG_MAX_BATCH,
            "description": (
                f"At most {settings.CATALOG_MAX_BATCH} product records (CATALOG_MAX_BATCH). Each element is "
                "validated on its own against ProductRecord."
            ),
            "items": {"anyOf": [{"$ref": "#/components/schemas/ProductRecord"}, ANY_OTHER_RECORD]},
        }
        operation["responses"]["429"]["headers"] = {
            "Retry-After": {"description": "Seconds until the provider may push again.", "schema": {"type": "integer"}}
        }
    return result
