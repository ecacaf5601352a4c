"""The Content-Security-Policy: no 'unsafe-inline', nonces where a page has an inline block, the gateway
allowed as a form's destination, room for a payment provider's script origins."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from csp.utils import build_policy
from django.test import Client

from flashsale.csp import gateway_origin

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
    assert header == build_policy(update={"form-action": [gateway_origin()]})


def test_payment_provider_script_origins_come_from_the_environment():
    code = "import django, json; django.setup(); from django.conf import settings as s; print(json.dumps(s.CONTENT_SECURITY_POLICY['DIRECTIVES'], default=str))"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "flashsale.settings",
        "FLASHSALE_CSP_SCRIPT_ORIGINS": "https://js.stripe.com, https://cdn.example.net",
    }
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    policy = json.loads(out.stdout.strip().splitlines()[-1])
    assert policy["script-src"][-2:] == ["https://js.stripe.com", "https://cdn.example.net"]
    assert policy["frame-src"][-2:] == ["https://js.stripe.com", "https://cdn.example.net"]


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\b(?:src|nonce)=)(?![^>]*application/json)[^>]*>")


def test_no_template_of_ours_has_a_style_attribute_or_an_unmarked_inline_block():
    """What the policy would block: style="..." attributes, <style> and <script> blocks without a nonce."""
    found = []
    for template in sorted((ROOT / "templates").rglob("*.html")):
        text = template.read_text()
        for pattern in (r'\bstyle="', r"<style(?![^>]*nonce=)[^>]*>", INLINE_SCRIPT.pattern):
            found += [f"{template.relative_to(ROOT)}: {m.group(0)}" for m in re.finditer(pattern, text)]
    assert found == []
