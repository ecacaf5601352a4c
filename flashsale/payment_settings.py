"""The payment gateway's settings, checked when the site starts (``flashsale/settings.py`` calls these).

An unknown gateway name, or Stripe without its keys, stops the start-up with a message naming what
is missing, rather than failing at the first payment. ``payment_origins`` gives the origins the
provider's browser code needs, for a Content-Security-Policy: Stripe.js (``STRIPE_JS_URL``) is a
script from ``js.stripe.com`` that opens frames there and on ``hooks.stripe.com`` (card fields,
3-D Secure) and calls ``api.stripe.com``; a Stripe-compatible test server (localstripe) serves its
stand-in script and API from its own origin; the sandbox's pages are its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

GATEWAYS = ("sandbox", "stripe")
STRIPE_KEYS = ("STRIPE_SECRET_KEY", "STRIPE_PUBLISHABLE_KEY", "STRIPE_WEBHOOK_SECRET")
STRIPE_JS_ORIGIN = "https://js.stripe.com"


def gateway_name(value: str) -> str:
    name = value.strip().lower()
    if name not in GATEWAYS:
        raise ImproperlyConfigured(
            f"FLASHSALE_GATEWAY={name!r} is not a known payment gateway; use one of: {', '.join(GATEWAYS)}"
        )
    return name


def stripe_keys(environ: Mapping[str, str], *, gateway: str) -> tuple[str, str, str]:
    """The secret key, publishable key and webhook signing secret; all three required on Stripe."""
    keys = {name: environ.get(name, "").strip() for name in STRIPE_KEYS}
    missing = [name for name, value in keys.items() if not value]
    if gateway == "stripe" and missing:
        raise ImproperlyConfigured(
            f"FLASHSALE_GATEWAY=stripe needs {', '.join(missing)} in the environment "
            "(Stripe dashboard: Developers → API keys, and the webhook endpoint's signing secret)"
        )
    return keys["STRIPE_SECRET_KEY"], keys["STRIPE_PUBLISHABLE_KEY"], keys["STRIPE_WEBHOOK_SECRET"]


class PaymentOrigins(NamedTuple):
    script: list[str]
    frame: list[str]
    connect: list[str]


def payment_origins(gateway: str, js_url: str) -> PaymentOrigins:
    if gateway != "stripe":
        return PaymentOrigins(script=[], frame=[], connect=[])
    parts = urlsplit(js_url)
    origin = f"{parts.scheme}://{parts.netloc}"
    if origin != STRIPE_JS_ORIGIN:
        return PaymentOrigins(script=[origin], frame=[origin], connect=[origin])
    return PaymentOrigins(
        script=[origin], frame=[origin, "https://hooks.stripe.com"], connect=["https://api.stripe.com"]
    )
