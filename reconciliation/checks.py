"""System checks of the payment gateway's settings (``manage.py check``, ``check --deploy``).

Missing Stripe keys and an unknown gateway name stop the site in ``flashsale/settings.py`` already;
these catch what still starts but would not take the money the operator expects.
"""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register


def _mode(key: str) -> str:
    """``test`` or ``live`` from a Stripe key's prefix (sk_test_…, pk_live_…, rk_test_…), else ''."""
    parts = key.split("_")
    return parts[1] if len(parts) > 2 and parts[1] in ("test", "live") else ""


@register(Tags.security)
def stripe_keys_match(app_configs, **kwargs):
    if settings.FLASHSALE_GATEWAY != "stripe":
        return []
    secret, publishable = _mode(settings.STRIPE_SECRET_KEY), _mode(settings.STRIPE_PUBLISHABLE_KEY)
    if secret and publishable and secret != publishable:
        return [
            Error(
                f"STRIPE_SECRET_KEY is a {secret}-mode key but STRIPE_PUBLISHABLE_KEY is a {publishable}-mode key.",
                hint="Take both keys from the same mode of the Stripe dashboard (Developers → API keys).",
                id="reconciliation.E001",
            )
        ]
    return []


@register(Tags.security, deploy=True)
def stripe_ready_for_production(app_configs, **kwargs):
    if settings.FLASHSALE_GATEWAY != "stripe":
        return []
    found = []
    if _mode(settings.STRIPE_SECRET_KEY) == "test":
        found.append(
            Warning(
                "STRIPE_SECRET_KEY is a test-mode key: no real money will be taken.",
                hint="Use the live-mode keys and the live webhook endpoint's signing secret in production.",
                id="reconciliation.W001",
            )
        )
    if not settings.STRIPE_API_BASE.startswith("https://") or not settings.STRIPE_JS_URL.startswith("https://"):
        found.append(
            Warning(
                "STRIPE_API_BASE or STRIPE_JS_URL is not an https:// URL (a local test server?).",
                hint="Leave both unset in production: they default to Stripe's own.",
                id="reconciliation.W002",
            )
        )
    return found
