"""System checks of the project's own settings: production must not start with a test switch on,
nor the site with trusted proxies it cannot read.

They run with every management command (``check``, ``migrate``...) and, through
``refuse_unsafe_start``, when the WSGI application loads, so gunicorn refuses to start too.
"""

from __future__ import annotations

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured


def captcha_test_mode_in_production(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    if settings.PRODUCTION and settings.CAPTCHA_TEST_MODE:
        return [
            checks.Error(
                "FLASHSALE_CAPTCHA_TEST_MODE is on in production mode: the answer 'PASSED' would solve every CAPTCHA.",
                hint="Unset FLASHSALE_CAPTCHA_TEST_MODE (it is for the test suite only).",
                id="flashsale.E001",
            )
        ]
    return []


def trusted_proxies_are_networks(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    from flashsale.client_ip import parse_networks

    try:
        parse_networks(settings.FLASHSALE_TRUSTED_PROXIES)
    except ValueError as exc:
        return [
            checks.Error(
                f"FLASHSALE_TRUSTED_PROXIES: {exc}.",
                hint="List the proxies in front of the site as addresses or CIDRs, e.g. 10.0.0.0/16,2001:db8::/48.",
                id="flashsale.E002",
            )
        ]
    return []


STARTUP_CHECKS = [captcha_test_mode_in_production, trusted_proxies_are_networks]


def register() -> None:
    for check in STARTUP_CHECKS:
        checks.register(check, checks.Tags.security)


def refuse_unsafe_start() -> None:
    """Raise ImproperlyConfigured when a start-up check fails (gunicorn runs no system checks)."""
    errors = [message for check in STARTUP_CHECKS for message in check() if message.is_serious()]
    if errors:
        raise ImproperlyConfigured("; ".join(f"{error.id}: {error.msg}" for error in errors))
