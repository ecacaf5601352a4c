"""Provider API keys: issued once, stored only as a SHA-256 digest, checked in constant time.

Keys are 256-bit random tokens, so a plain (unsalted, fast) digest is enough: there is nothing
to brute-force that a slow hash would protect.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from catalog.models import Provider

KEY_PREFIX = "fsk_"
_HASH_SCHEME = "sha256"


def hash_key(key: str) -> str:
    digest = hashlib.sha256(key.encode()).hexdigest()
    return f"{_HASH_SCHEME}${digest}"


def key_matches(provider: Provider, key: str) -> bool:
    """True when ``key`` is the provider's current key; a provider without a key matches nothing."""
    if not provider.api_key_hash or not key:
        return False
    return hmac.compare_digest(provider.api_key_hash.encode(), hash_key(key).encode())


def issue_key(provider: Provider) -> str:
    """Give the provider a fresh key and return it; the previous key stops working at once."""
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    provider.api_key_hash = hash_key(key)
    provider.save(update_fields=["api_key_hash", "updated_at"])
    return key
