"""The site's Content-Security-Policy, as django-csp's ``CONTENT_SECURITY_POLICY`` setting.

No ``'unsafe-inline'``: our scripts and styles are files, and an inline block carries the request's
nonce (``nonce="{{ CSP_NONCE }}"``), which django-csp then names in that response's header.
Product pictures are the providers' own URLs (any https origin). ``flashsale.csp`` adds the
payment gateway's origin to ``form-action``, where a reserve form's answer redirects. Imports
nothing of the site, so the settings module can build the policy with it.
"""

from __future__ import annotations

from collections.abc import Sequence

from csp.constants import NONCE, NONE, SELF


def content_security_policy(
    *, script: Sequence[str] = (), frame: Sequence[str] = (), connect: Sequence[str] = ()
) -> dict[str, dict[str, list]]:
    """The policy, with the origins the payment provider's browser code needs (its script, the frames
    it opens, the API it calls: ``FLASHSALE_PAYMENT_*_ORIGINS``, flashsale/payment_settings.py)."""
    return {
        "DIRECTIVES": {
            "default-src": [SELF],
            "script-src": [SELF, NONCE, *script],
            "style-src": [SELF, NONCE],
            "img-src": [SELF, "data:", "https:"],
            "connect-src": [SELF, *connect],
            "frame-src": [SELF, *frame],
            "object-src": [NONE],
            "base-uri": [SELF],
            "form-action": [SELF],
            "frame-ancestors": [NONE],
        }
    }
