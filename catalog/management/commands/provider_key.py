"""Issue a fresh API key for a provider (creating a push provider if the slug is new)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_slug

from catalog.keys import issue_key
from catalog.models import Provider


class Command(BaseCommand):
    help = "Print a fresh API key for provider SLUG (created as a push provider if needed). The old key stops working."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--name", default="", help="Display name when the provider is created.")

    def handle(self, *args, slug: str, name: str, **options):
        try:
            validate_slug(slug)
        except ValidationError as exc:
            raise CommandError(f"{slug!r} is not a valid slug (letters, digits, - and _).") from exc
        provider, created = Provider.objects.get_or_create(
            slug=slug, defaults={"name": name or slug.replace("-", " ").title()}
        )
        key = issue_key(provider)
        if created:
            self.stderr.write(f"Created push provider {provider.slug}.")
        else:
            self.stderr.write(f"Rotated the key of {provider.slug}; the previous key no longer works.")
        # The key alone on stdout, so scripts can capture it.
        self.stdout.write(key)
