"""The Content-Security-Policy header (django-csp), with the origins other settings name, built once
for the responses that need no nonce.

``flashsale.csp_policy`` is the fixed part. Added here, from the settings of the moment: the payment
gateway's origin to ``form-action`` (the answer to a reserve form is a redirect there, and browsers
hold a form's redirects to ``form-action``), and the payment provider's origins
(``FLASHSALE_PAYMENT_SCRIPT_ORIGINS``, ``_FRAME_``, ``_CONNECT_``) to ``script-src``, ``frame-src``
and ``connect-src``.

A page with an inline block gives it the request's nonce (``nonce="{{ request.csp_nonce }}"``) and
django-csp adds that nonce to the page's header. Most responses use none (every reserve answer
and stock poll): django-csp would build the same header string for each of them, so this
subclass builds it once per policy and reuses it. Anything else (a nonce, a per-view policy from
django-csp's decorators, a report-only policy, excluded prefixes) goes through django-csp itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from csp.constants import HEADER
from csp.middleware import CheckableLazyObject, PolicyParts
from csp.middleware import CSPMiddleware as DjangoCSPMiddleware
from csp.utils import build_policy, default_config
from django.conf import settings

from flashsale.csp_policy import CONTENT_SECURITY_POLICY
from flashsale.settings_cache import from_settings

# What django-csp's decorators set on a response to change or drop its policy.
PER_RESPONSE = ("_csp_config", "_csp_update", "_csp_replace", "_csp_exempt")


def gateway_origin() -> str:
    parts = urlsplit(settings.FLASHSALE_GATEWAY_URL)
    return f"{parts.scheme}://{parts.netloc}"


def site_policy() -> dict:
    """django-csp's ``CONTENT_SECURITY_POLICY`` setting if the settings have one, else ours."""
    return getattr(settings, "CONTENT_SECURITY_POLICY", None) or CONTENT_SECURITY_POLICY


def origins_from_settings() -> dict[str, list[str]]:
    """The sources other settings add to the fixed policy (directive -> origins)."""
    added = {
        "form-action": [gateway_origin()],
        "script-src": list(settings.FLASHSALE_PAYMENT_SCRIPT_ORIGINS),
        "frame-src": list(settings.FLASHSALE_PAYMENT_FRAME_ORIGINS),
        "connect-src": list(settings.FLASHSALE_PAYMENT_CONNECT_ORIGINS),
    }
    return {directive: origins for directive, origins in added.items() if origins}


class CSPMiddleware(DjangoCSPMiddleware):
    def get_policy_parts(self, request, response, report_only: bool = False) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        if report_only:
            return parts
        if parts.config is None:
            parts.config = default_config(site_policy()["DIRECTIVES"])
        added = origins_from_settings()
        for directive, origins in (parts.update or {}).items():
            added[directive] = [*added.get(directive, []), *origins]
        parts.update = added
        return parts

    def process_response(self, request, response):
        fixed = _fixed_policy()
        if (
            fixed.through_django_csp
            or getattr(request, "_csp_nonce", None) is not None
            or any(hasattr(response, name) for name in PER_RESPONSE)
            or (fixed.debug and response.status_code in (404, 500))
        ):
            return super().process_response(request, response)
        if HEADER not in response:
            response[HEADER] = fixed.header
        # As django-csp does once the header is written: a nonce asked for now could not be in it.
        request.csp_nonce = CheckableLazyObject(self._csp_nonce_post_response)
        return response


@dataclass(frozen=True)
class FixedPolicy:
    """What every response without a nonce gets, read from the settings once (and again when a
    setting changes: ``setting_changed``, as tests do), not on each response."""

    header: str
    through_django_csp: bool  # excluded prefixes or a report-only policy: django-csp decides
    debug: bool


@from_settings
def _fixed_policy() -> FixedPolicy:
    policy = site_policy()
    return FixedPolicy(
        header=build_policy(config=default_config(policy["DIRECTIVES"]), update=origins_from_settings()),
        through_django_csp=bool(
            policy.get("EXCLUDE_URL_PREFIXES") or getattr(settings, "CONTENT_SECURITY_POLICY_REPORT_ONLY", None)
        ),
        debug=settings.DEBUG,
    )
