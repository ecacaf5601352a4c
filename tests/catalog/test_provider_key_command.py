"""`manage.py provider_key SLUG` creates the provider if needed and rotates its key."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from catalog.models import Provider
from tests.support.product_records import product_record


def _issue(slug: str, *args) -> str:
    out = StringIO()
    call_command("provider_key", slug, *args, stdout=out, stderr=StringIO())
    return out.getvalue().strip()


def test_creates_provider_and_rotates_key(db, push):
    first = _issue("new-partner", "--name", "New Partner")

    provider = Provider.objects.get(slug="new-partner")
    assert (provider.name, provider.delivery) == ("New Partner", "push")
    assert first.startswith("fsk_") and first not in provider.api_key_hash
    assert push("new-partner", [product_record(1)], key=first).status_code == 200

    second = _issue("new-partner")

    assert second != first
    assert Provider.objects.count() == 1
    assert push("new-partner", [product_record(2)], key=first).status_code == 401
    assert push("new-partner", [product_record(2)], key=second).status_code == 200


def test_rejects_an_invalid_slug(db):
    with pytest.raises(CommandError, match="not a valid slug"):
        _issue("Not A Slug!")
    assert not Provider.objects.exists()
