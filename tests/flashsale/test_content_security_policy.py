"""The Content-Security-Policy: no 'unsafe-inline', nonces where a page has an inline block, the gateway
allowed as a form's destination, room for a payment provider's script origins."""

from __future__ import annotations

import re
from pathlib import Path

from csp.utils import build_policy, default_config
from django.test import Client

from flashsale.csp import origins_from_settings
from flashsale.csp_policy import CONTENT_SECURITY_POLICY

ROOT = Path(__file__).resolve().parents[2]


def directives(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {name: values for name, *values in (part.split() for part in header.split("; "))}


def test_shopper_pages_allow_only_our_own_scripts_and_styles(db):
    policy = directives(Client().get("/"))
    assert policy["script-src"] == ["'self'"] and policy["style-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"]
    assert not any("unsafe" in value for values in policy.values() for value in values)


def test_a_page_with_an_inline_block_gets_its_nonce_in_the_header(db):
    response = Client().get("/api/docs/")
    nonce = re.search(r'<style nonce="([^"]+)">', response.content.decode()).group(1)
    policy = directives(response)
    assert f"'nonce-{nonce}'" in policy["style-src"] and f"'nonce-{nonce}'" in policy["script-src"]
    # Swagger UI's start-up script is a file (drf-spectacular's split view), not an inline block.
    assert '<script src="/api/docs/?script="></script>' in response.content.decode()
    assert Client().get("/api/docs/?script=")["Content-Type"].startswith("application/javascript")
    assert Client().get("/api/docs/")["Content-Security-Policy"] != response["Content-Security-Policy"]


def test_forms_may_lead_to_the_payment_gateway(db, settings):
    settings.FLASHSALE_GATEWAY_URL = "https://pay.example.com/some/path"
    assert directives(Client().get("/"))["form-action"] == ["'self'", "https://pay.example.com"]


def test_the_header_built_once_is_django_csps_own(db):
    header = Client().get("/")["Content-Security-Policy"]
    assert header == build_policy(
        config=default_config(CONTENT_SECURITY_POLICY["DIRECTIVES"]), update=origins_from_settings()
    )


def test_the_payment_providers_origins_are_allowed(db, settings):
    """What Stripe.js needs (flashsale/payment_settings.py gives these defaults on Stripe)."""
    settings.FLASHSALE_PAYMENT_SCRIPT_ORIGINS = ["https://js.stripe.com"]
    settings.FLASHSALE_PAYMENT_FRAME_ORIGINS = ["https://js.stripe.com", "https://hooks.stripe.com"]
    settings.FLASHSALE_PAYMENT_CONNECT_ORIGINS = ["https://api.stripe.com"]
    policy = directives(Client().get("/"))
    assert policy["script-src"] == ["'self'", "https://js.stripe.com"]
    assert policy["frame-src"] == ["'self'", "https://js.stripe.com", "https://hooks.stripe.com"]
    assert policy["connect-src"] == ["'self'", "https://api.stripe.com"]
    docs = Client().get("/api/docs/")  # a page with a nonce goes through django-csp itself: the same origins
    assert "https://js.stripe.com" in directives(docs)["script-src"]


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\b(?:src|nonce)=)(?![^>]*application/json)[^>]*>")


def test_no_template_of_ours_has_a_style_attribute_or_an_unmarked_inline_block():
    """What the policy would block: style="..." attributes, <style> and <script> blocks without a nonce."""
    found = []
    for template in sorted((ROOT / "templates").rglob("*.html")):
        text = template.read_text()
        for pattern in (r'\bstyle="', r"<style(?![^>]*nonce=)[^>]*>", INLINE_SCRIPT.pattern):
            found += [f"{template.relative_to(ROOT)}: {m.group(0)}" for m in re.finditer(pattern, text)]
    assert found == []
