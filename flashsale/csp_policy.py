"""The site's Content-Security-Policy, what ``flashsale.csp`` sends unless the settings name another
(django-csp's ``CONTENT_SECURITY_POLICY``, which then replaces this fixed part).

No ``'unsafe-inline'``: our scripts and styles are files, and an inline block carries the request's
nonce (``nonce="{{ request.csp_nonce }}"``), which django-csp then names in that response's header.
Product pictures are the providers' own URLs (any https origin). What follows other settings is
added per response by ``flashsale.csp``: the payment gateway's origin to ``form-action`` (a reserve
form's answer redirects there) and the payment provider's origins (``FLASHSALE_PAYMENT_*_ORIGINS``)
to ``script-src``, ``frame-src`` and ``connect-src``. Imports nothing of the site.
"""

from __future__ import annotations

from csp.constants import NONCE, NONE, SELF

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, NONCE],
        "img-src": [SELF, "data:", "https:"],
        "connect-src": [SELF],
        "frame-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
