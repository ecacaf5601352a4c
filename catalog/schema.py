"""OpenAPI description of the provider key scheme (loaded by CatalogConfig.ready)."""

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
