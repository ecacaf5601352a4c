"""The reserve request's rate limits: fixed windows per user and per client IP, counted by reserve.lua.

The user's window is the ``rate`` field of their user hash, the IP's a key with a TTL
(``flashsale.store.keys``); both are aligned (``now // seconds``), so ``Retry-After`` is what is
left of the current one.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import NamedTuple

from django.conf import settings


@dataclass(frozen=True)
class RateLimit:
    """At most ``limit`` reserve attempts per ``window`` seconds (django-ratelimit's "10/m" syntax)."""

    limit: int
    window: int

    @classmethod
    @functools.cache
    def parse(cls, rate: str | None) -> RateLimit | None:
        if not rate:
            return None
        count, _, period = rate.partition("/")
        number = "".join(ch for ch in period if ch.isdigit()) or "1"
        unit = {"s": 1, "m": 60, "h": 3600, "d": 86400}[period.lstrip("0123456789")[:1].lower()]
        return cls(limit=int(count), window=int(number) * unit)

    def window_at(self, now: float) -> int:
        """The number of the fixed window ``now`` falls in."""
        return int(now // self.window)


class RateLimits(NamedTuple):
    """The reserve request's limits: per user and per client IP (None = no limit)."""

    user: RateLimit | None = None
    ip: RateLimit | None = None


NO_RATE_LIMITS = RateLimits()


def reserve_rate_limits() -> RateLimits:
    """The site's limits from settings (``FLASHSALE_RESERVE_RATE_USER`` / ``_IP``)."""
    return RateLimits(
        user=RateLimit.parse(settings.FLASHSALE_RESERVE_RATE_USER),
        ip=RateLimit.parse(settings.FLASHSALE_RESERVE_RATE_IP),
    )


def rate_args(now: float, rate: RateLimit | None) -> tuple[int, list[str]]:
    """The current window number of ``rate`` and the script's limit and window arguments ("" = no limit)."""
    if rate is None:
        return 0, ["", "1"]
    return rate.window_at(now), [str(rate.limit), str(rate.window)]
