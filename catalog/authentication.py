"""Bearer-key authentication of the provider push API (one key per provider, in the URL's slug)."""

from __future__ import annotations

from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.permissions import BasePermission

from catalog.keys import key_matches
from catalog.models import Provider


class ProviderKeyAuthentication(BaseAuthentication):
    """``Authorization: Bearer <key>`` checked against the provider named by the URL.

    An unknown provider is 404 before any key check (the URL is wrong, not the key); a missing
    header is 401 via the permission below; a wrong key is 401 here. ``request.auth`` is the
    Provider.
    """

    keyword = "Bearer"

    def authenticate(self, request):
        slug = request.parser_context["kwargs"].get("slug", "")
        provider = Provider.objects.filter(slug=slug).first()
        if provider is None:
            raise exceptions.NotFound(f"No provider {slug!r}.")
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword.lower().encode():
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed("Use 'Authorization: Bearer <key>' with one key.")
        try:
            key = parts[1].decode()
        except UnicodeDecodeError as exc:
            raise exceptions.AuthenticationFailed("Invalid API key.") from exc
        if not key_matches(provider, key):
            raise exceptions.AuthenticationFailed("Invalid API key.")
        if not provider.is_active:
            raise exceptions.PermissionDenied("This provider is disabled.")
        return (None, provider)

    def authenticate_header(self, request) -> str:
        return f'{self.keyword} realm="provider-api"'


class IsProvider(BasePermission):
    message = "An API key is required: 'Authorization: Bearer <key>'."

    def has_permission(self, request, view) -> bool:
        if not isinstance(request.auth, Provider):
            # Raised here rather than returning False, so the 401 carries our message.
            raise exceptions.NotAuthenticated(self.message)
        return True
