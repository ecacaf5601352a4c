"""Signed admission passes: proof that the waiting room let this user into this session.

A pass is ``"a1.<user>.<session>.<expires>.<mac>"`` where the MAC is HMAC-SHA256 over the
version, user, session and expiry under a key derived from ``SECRET_KEY`` (domain-separated by a
salt, so a pass can never stand in for another signed value). ``SECRET_KEY_FALLBACKS`` still
verify, so rotating the secret does not throw out everyone admitted a minute ago. The token keys
are deliberately not used: the payment gateway knows those, and it must not be able to admit.

Checking a pass reads no Redis and no SQL: the reserve request can refuse a shopper who was not
admitted before spending anything on them.
"""

from __future__ import annotations

import base64
import hmac

from django.conf import settings
from django.utils.crypto import salted_hmac

from flashsale import clock

PASS_VERSION = "a1"  # noqa: S105 (a format tag, not a secret)
KEY_SALT = "flashsale.reservations.admission-pass"


def _mac(secret: str, message: str) -> str:
    digest = salted_hmac(KEY_SALT, message, secret=secret, algorithm="sha256").digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _message(user_id: int, session_id: int, expires_at: int) -> str:
    return f"{PASS_VERSION}|{int(user_id)}|{int(session_id)}|{int(expires_at)}"


def issue_admission_pass(user_id: int, session_id: int, *, expires_at: float) -> str:
    """A pass for ``user_id`` in ``session_id`` valid until ``expires_at`` (epoch seconds)."""
    expires = int(expires_at)
    mac = _mac(settings.SECRET_KEY, _message(user_id, session_id, expires))
    return f"{PASS_VERSION}.{int(user_id)}.{int(session_id)}.{expires}.{mac}"


def pass_for_admission(user_id: int, session_id: int, *, admitted_at: float) -> str:
    """The pass an admission at ``admitted_at`` earns: the same one however often it is asked for."""
    return issue_admission_pass(user_id, session_id, expires_at=admitted_at + settings.FLASHSALE_ADMISSION_PASS_SECONDS)


def admission_expires_at(
    admission_pass: str | None, user_id: int | None, session_id: int, *, now: float | None = None
) -> float | None:
    """When ``admission_pass`` stops admitting ``user_id`` to ``session_id``.

    None for a missing, malformed, tampered or expired pass, or one issued to another user or
    for another session. Constant-time MAC comparison; no Redis, no SQL. The shopper's own pass
    is kept in their session (``reservations.shopper.ShopperSession.admitted_until``).
    """
    if user_id is None or not isinstance(admission_pass, str) or not admission_pass:
        return None
    parts = admission_pass.split(".")
    if len(parts) != 5 or parts[0] != PASS_VERSION:
        return None
    _, user_part, session_part, expires_part, mac = parts
    if not (user_part.isdigit() and session_part.isdigit() and expires_part.isdigit()):
        return None
    if int(user_part) != int(user_id) or int(session_part) != int(session_id):
        return None
    current = clock.now_ts() if now is None else float(now)
    if int(expires_part) <= current:
        return None
    message = _message(int(user_part), int(session_part), int(expires_part))
    secrets = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    # Every key is tried even after a match, so the time taken says nothing about which one fits.
    valid = False
    for secret in secrets:
        valid |= hmac.compare_digest(_mac(secret, message).encode(), mac.encode())
    return float(expires_part) if valid else None


def check_admission(
    admission_pass: str | None, user_id: int | None, session_id: int, *, now: float | None = None
) -> bool:
    """Whether ``admission_pass`` admits ``user_id`` to ``session_id`` now."""
    return admission_expires_at(admission_pass, user_id, session_id, now=now) is not None


def admission_required() -> bool:
    """Whether reserve requests must carry a pass (the waiting room is switched on)."""
    return bool(settings.FLASHSALE_WAITING_ROOM_ENABLED)
