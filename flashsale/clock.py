"""The one source of "now" for domain code, so tests can drive time instead of sleeping.

Lua scripts never call Redis TIME: callers pass ``now()`` in, which keeps the scripts
deterministic and lets a test move the clock past an expiry.
"""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

_frozen: datetime | None = None


def now() -> datetime:
    return _frozen if _frozen is not None else timezone.now()


def now_ts() -> float:
    return now().timestamp()


def as_timestamp(value: datetime | float) -> float:
    """Epoch seconds of a datetime, or the number itself: callers pass either."""
    return value.timestamp() if isinstance(value, datetime) else float(value)


def freeze(at: datetime | None) -> None:
    """Pin the clock (tests only); ``None`` lets it run again."""
    global _frozen
    _frozen = at
