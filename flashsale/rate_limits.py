"""Rate limits that say when to come back: the helper every limit uses, and the log-in and sign-up limits.

Counters live in the Redis cache through django-ratelimit (fixed windows, one atomic INCR per
count); a limited request gets 429 with ``Retry-After``, the seconds left in its window
(``flashsale.views.ratelimited``). Per-IP limits key on ``flashsale.client_ip.client_ip`` (the
client through trusted proxies), as the reserve and CAPTCHA limits do. Rates are settings in
django-ratelimit's syntax ("10/15m": 10 per 15 minutes); docs/security.md lists them.
"""

from __future__ import annotations

from django.conf import settings
from django_ratelimit.core import get_usage


def wait_seconds(request, *, group: str, key, rate: str, count: bool = True) -> int | None:
    """Seconds until ``key``'s window of ``rate`` ends if it is used up, else None.

    ``count`` adds this request to the window first (it is limited once it goes over the rate);
    without it the window is only read (limited once it is full), for limits that count failures.
    """
    usage = get_usage(request, group=group, key=key, rate=rate, increment=count)
    if usage is None:
        return None
    limited = usage["should_limit"] if count else usage["count"] >= usage["limit"]
    # time_left is -1 when the cache did not answer: django-ratelimit then fails closed.
    return max(1, usage["time_left"]) if limited else None


def _longest(*waits: int | None) -> int | None:
    known = [wait for wait in waits if wait]
    return max(known) if known else None


def _username_key(username: str):
    normalized = username.strip().casefold()
    return lambda _group, _request: normalized


def login_wait(request, username: str) -> int | None:
    """Seconds before another log-in may be tried: failures from this address or for this username."""
    return _longest(
        wait_seconds(request, group="login:ip", key="ip", rate=settings.FLASHSALE_LOGIN_RATE_IP, count=False),
        wait_seconds(
            request,
            group="login:username",
            key=_username_key(username),
            rate=settings.FLASHSALE_LOGIN_RATE_USERNAME,
            count=False,
        ),
    )


def count_failed_login(sender, credentials, request=None, **kwargs) -> None:
    """``user_login_failed`` receiver: every failed log-in (site or admin) counts for its address and username."""
    if request is None:
        return
    username = str(credentials.get("username", ""))
    wait_seconds(request, group="login:ip", key="ip", rate=settings.FLASHSALE_LOGIN_RATE_IP)
    wait_seconds(
        request, group="login:username", key=_username_key(username), rate=settings.FLASHSALE_LOGIN_RATE_USERNAME
    )


def signup_wait(request) -> int | None:
    """Count a sign-up attempt from this client address; seconds to wait when over the rate."""
    return wait_seconds(request, group="signup:ip", key="ip", rate=settings.FLASHSALE_SIGNUP_RATE_IP)
