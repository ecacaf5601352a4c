"""Values built from the settings once per process, and built again when a setting changes.

Hot paths read them on every request; tests change settings with ``override_settings``, which
sends ``setting_changed``, so a value built before the change is dropped then::

    @from_settings
    def _checkout_gateway() -> Gateway:
        return get_gateway()
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TypeVar

from django.core.signals import setting_changed

T = TypeVar("T")


def from_settings(build: Callable[[], T]) -> Callable[[], T]:
    """``build()`` called once and remembered until a setting changes."""
    remembered = functools.cache(build)

    def forget(**_kwargs: object) -> None:
        remembered.cache_clear()

    setting_changed.connect(forget, weak=False, dispatch_uid=f"{build.__module__}.{build.__qualname__}")
    return remembered
