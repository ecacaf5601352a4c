"""Signed checkout tokens: what the shopper carries to the payment gateway and the gateway verifies.

Format: ``base64url(JSON payload) "." kid "." base64url(HMAC-SHA256(kid-secret, payload-part))``,
base64url without padding. Only that canonical spelling of the signature is accepted: it is compared
as text with the one we compute, because a lenient decoder maps several spellings (the unused low
bits of the last character, padding, the standard alphabet, stray characters) to the same bytes.
The pure functions take the keys as arguments and import nothing from Django, so the sandbox
gateway (a separate process) can use them; ``sign_for_site``/``verify_for_site`` read the keys
from settings. Several verification keys may be listed at once (rotation), one signs.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from json.encoder import encode_basestring_ascii

TOKEN_VERSION = 1


class TokenError(Exception):
    """A token that must not be honoured; ``reason`` is one of the REASONS."""

    REASONS = ("malformed", "unknown_key", "bad_signature", "expired")

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class TokenClaims:
    """What a token vouches for. ``amount`` is a decimal string, ``expires_at`` epoch seconds."""

    txn_id: str
    user_id: int
    session_id: int
    item_id: int
    units: int
    amount: str
    currency: str
    expires_at: int
    kid: str = ""
    # What is being paid for, in words (signed like the rest); empty in tokens made before they were added.
    item_name: str = ""
    session_name: str = ""

    @property
    def amount_decimal(self) -> Decimal:
        return Decimal(self.amount)


def _b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    padding = "=" * (-len(text) % 4)
    return base64.urlsafe_b64decode(text + padding)


def _mac(secret: str, kid: str, payload_part: str) -> bytes:
    # The kid is inside the MAC so a token cannot be re-labelled to another key.
    message = f"{payload_part}.{kid}".encode("ascii")
    return hmac.digest(secret.encode(), message, hashlib.sha256)


# json.dumps with options builds a new encoder per call; this one is made once (same output).
_PAYLOAD_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"))
_INTEGER_CLAIMS = ("user_id", "session_id", "item_id", "units", "expires_at")


def _payload_json(claims: TokenClaims) -> str:
    """The claims as ``json.dumps(body, sort_keys=True, separators=(",", ":"))`` spells them.

    Written out in key order (this runs on every reservation: a third of the encoder's cost), the
    strings escaped by json's own C escaper. Anything but plain ints where ints belong goes through
    the encoder, so the bytes are the encoder's in every case (tests compare both).
    """
    amount = str(Decimal(claims.amount))
    if any(type(getattr(claims, name)) is not int for name in _INTEGER_CLAIMS):
        return _PAYLOAD_ENCODER.encode(_payload_body(claims, amount))
    quote = encode_basestring_ascii
    names = (
        f',"item_name":{quote(claims.item_name)}' if claims.item_name else "",
        f',"session_name":{quote(claims.session_name)}' if claims.session_name else "",
    )
    return (
        f'{{"amount":{quote(amount)},"currency":{quote(claims.currency)},"expires_at":{claims.expires_at},'
        f'"item_id":{claims.item_id}{names[0]},"session_id":{claims.session_id}{names[1]},'
        f'"txn_id":{quote(claims.txn_id)},"units":{claims.units},"user_id":{claims.user_id},"v":{TOKEN_VERSION}}}'
    )


def _payload_body(claims: TokenClaims, amount: str) -> dict[str, object]:
    # Built by hand, not with dataclasses.asdict (a deep copy).
    body: dict[str, object] = {
        "txn_id": claims.txn_id,
        "user_id": claims.user_id,
        "session_id": claims.session_id,
        "item_id": claims.item_id,
        "units": claims.units,
        "amount": amount,
        "currency": claims.currency,
        "expires_at": claims.expires_at,
        "v": TOKEN_VERSION,
    }
    # Only when known, so a token without names is byte for byte what it was before names existed.
    if claims.item_name:
        body["item_name"] = claims.item_name
    if claims.session_name:
        body["session_name"] = claims.session_name
    return body


def sign_token(claims: TokenClaims, *, keys: Mapping[str, str], kid: str) -> str:
    """Sign ``claims`` with ``keys[kid]``. Deterministic: the same claims and key give the same token."""
    if kid not in keys:
        raise TokenError("unknown_key", f"no signing key {kid!r}")
    if "." in kid:
        raise TokenError("malformed", "a key id must not contain '.'")
    payload_part = _b64encode(_payload_json(claims).encode())
    return f"{payload_part}.{kid}.{_b64encode(_mac(keys[kid], kid, payload_part))}"


def verify_token(token: str, *, keys: Mapping[str, str], now: float) -> TokenClaims:
    """Check the signature (its canonical spelling only) in constant time, then the expiry.

    Raises TokenError with a reason.
    """
    if not isinstance(token, str) or token.count(".") != 2:
        raise TokenError("malformed", "expected three dot-separated parts")
    payload_part, kid, signature_part = token.split(".")
    if kid not in keys:
        raise TokenError("unknown_key", f"key {kid!r} is not (or no longer) accepted")
    # The canonical encoding of the expected MAC against the text received, in constant time: a
    # second spelling of the same bytes is a different token (and would let a link be altered).
    expected = _b64encode(_mac(keys[kid], kid, payload_part))
    if not hmac.compare_digest(expected.encode("ascii"), signature_part.encode("utf-8", "replace")):
        raise TokenError("bad_signature")
    try:
        body = json.loads(_b64decode(payload_part))
        claims = TokenClaims(
            txn_id=str(body["txn_id"]),
            user_id=int(body["user_id"]),
            session_id=int(body["session_id"]),
            item_id=int(body["item_id"]),
            units=int(body["units"]),
            amount=str(Decimal(body["amount"])),
            currency=str(body["currency"]),
            expires_at=int(body["expires_at"]),
            kid=kid,
            item_name=str(body.get("item_name", "")),
            session_name=str(body.get("session_name", "")),
        )
    except (binascii.Error, ValueError, KeyError, TypeError, InvalidOperation) as exc:
        raise TokenError("malformed", "payload does not decode") from exc
    if now >= claims.expires_at:
        raise TokenError("expired", f"expired at {claims.expires_at}")
    return claims


def sign_for_site(claims: TokenClaims) -> str:
    """Sign with the site's current signing key (settings)."""
    from django.conf import settings

    return sign_token(claims, keys=settings.FLASHSALE_TOKEN_KEYS, kid=settings.FLASHSALE_TOKEN_SIGNING_KEY_ID)


def verify_for_site(token: str, *, now: float | None = None) -> TokenClaims:
    """Verify against every key the site still lists."""
    from django.conf import settings

    if now is None:
        from flashsale.clock import now_ts

        now = now_ts()
    return verify_token(token, keys=settings.FLASHSALE_TOKEN_KEYS, now=now)
