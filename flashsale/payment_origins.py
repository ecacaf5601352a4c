"""The origins a payment provider's browser code needs, for a Content-Security-Policy to allow.

Stripe.js (``STRIPE_JS_URL``) is a script from ``js.stripe.com`` that opens frames there and on
``hooks.stripe.com`` (card fields, 3-D Secure) and calls ``api.stripe.com``. A Stripe-compatible
test server (localstripe) serves its stand-in script and API from its own origin. The sandbox's
pages are its own: our pages load nothing of it.
"""

from __future__ import annotations

from typing import NamedTuple
from urllib.parse import urlsplit

STRIPE_JS_ORIGIN = "https://js.stripe.com"


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
