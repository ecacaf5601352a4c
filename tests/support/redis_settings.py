"""Pointing this test process at another Redis (one started by the test, or a restarted one)."""

from __future__ import annotations

import copy


def point_settings_at_redis(settings, url: str) -> None:
    """Make this process's cache, sessions and sale data use the Redis at ``url``."""
    caches = copy.deepcopy(settings.CACHES)
    caches["default"]["LOCATION"] = url
    settings.CACHES = caches  # Django's setting_changed handler drops the old cache connections
    settings.FLASHSALE_SALE_REDIS_URL = url
