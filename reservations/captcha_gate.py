"""The CAPTCHA pass: solving one CAPTCHA lets a shopper reserve in one sale session for a while.

The pass is an expiry timestamp per sale session kept in the shopper's (server-side) session, so
the reserve request checks it without any extra read. ``grant_pass`` is also what the benchmark
uses to give pre-logged-in shoppers a pass without solving a CAPTCHA.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from datetime import datetime

from django.conf import settings

from flashsale.clock import as_timestamp

PASSES_FIELD = "fs_captcha_pass"


def grant_pass(
    session_store: MutableMapping, session_id: int, *, now: datetime | float, seconds: int | None = None
) -> float:
    """Record a solved CAPTCHA for ``session_id``; returns the pass's expiry (epoch seconds).

    ``session_store`` is ``request.session`` or any ``SessionBase`` (call ``save()`` yourself
    when it is not attached to a request).
    """
    lifetime = settings.FLASHSALE_CAPTCHA_PASS_SECONDS if seconds is None else seconds
    expires = as_timestamp(now) + lifetime
    passes = dict(session_store.get(PASSES_FIELD, {}))
    passes[str(session_id)] = expires
    # Reassigning (not mutating in place) marks the session modified so it is saved.
    session_store[PASSES_FIELD] = passes
    return expires


def pass_expires_at(session_store: MutableMapping, session_id: int) -> float | None:
    value = session_store.get(PASSES_FIELD, {}).get(str(session_id))
    return float(value) if value is not None else None


def has_pass(session_store: MutableMapping, session_id: int, *, now: datetime | float) -> bool:
    expires = pass_expires_at(session_store, session_id)
    return expires is not None and as_timestamp(now) < expires


def keep_pass_until(session_store: MutableMapping, session_id: int, until: float) -> None:
    """After a first reservation the shopper is not asked again in this session (until its end)."""
    current = pass_expires_at(session_store, session_id) or 0.0
    if until > current:
        passes = dict(session_store.get(PASSES_FIELD, {}))
        passes[str(session_id)] = until
        session_store[PASSES_FIELD] = passes
