"""Polling with a deadline: how the end-to-end suites await an event in another process or thread."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

DEADLINE_SECONDS = 15.0

T = TypeVar("T")


def wait_until(
    predicate: Callable[[], T], *, what: str, timeout: float = DEADLINE_SECONDS, interval: float = 0.05
) -> T:
    """Poll ``predicate`` until it returns something truthy and return that; fail with ``what`` at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g}s waiting for {what}")
        time.sleep(interval)
