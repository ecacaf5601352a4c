"""A page's CSRF token as Django masks it, with one read of the system's random source instead of 32.

``django.middleware.csrf.get_token`` draws its 32-character mask one ``secrets.choice`` at a time
(about 40 µs); the sale page is shown to the whole crowd, each with a fresh token. ``masked_token``
does the same job from ``secrets.token_bytes``: bytes from 248 up are dropped so that each of the
62 characters is equally likely, and the token is built by Django's own rule (mask, then secret
plus mask character by character), so ``CsrfViewMiddleware`` reads it as it reads its own.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.middleware.csrf import CSRF_ALLOWED_CHARS, CSRF_SECRET_LENGTH, get_token

_BASE = len(CSRF_ALLOWED_CHARS)
_INDEX = {char: n for n, char in enumerate(CSRF_ALLOWED_CHARS)}
# byte -> its character; bytes at or above the largest multiple of 62 are deleted (no modulo bias).
_UNBIASED = _BASE * (256 // _BASE)
_TO_CHARS = bytes(ord(CSRF_ALLOWED_CHARS[n % _BASE]) for n in range(256))
_DROPPED = bytes(range(_UNBIASED, 256))
# One read is enough almost always (8 of 256 byte values are dropped).
_READ = CSRF_SECRET_LENGTH + 16


def random_mask() -> str:
    """``CSRF_SECRET_LENGTH`` characters of ``CSRF_ALLOWED_CHARS``, each uniformly random."""
    mask = b""
    while len(mask) < CSRF_SECRET_LENGTH:
        mask += secrets.token_bytes(_READ).translate(_TO_CHARS, _DROPPED)
    return mask[:CSRF_SECRET_LENGTH].decode("ascii")


def masked_token(request: Any) -> str:
    """What ``get_token(request)`` returns, with the same effect (the CSRF cookie is sent again)."""
    secret = request.META.get("CSRF_COOKIE")
    if secret is None:  # no cookie yet: Django makes the secret
        return get_token(request)
    # As get_token: renew the cookie's expiry with this response.
    request.META["CSRF_COOKIE_NEEDS_UPDATE"] = True
    mask = random_mask()
    index, chars = _INDEX, CSRF_ALLOWED_CHARS
    return mask + "".join(chars[(index[s] + index[m]) % _BASE] for s, m in zip(secret, mask, strict=True))
