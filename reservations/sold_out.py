"""Items this process knows are sold out: Reserve clicks on them are refused from memory.

After a sell-out nearly every click is refused. Once a process learns that an item has no unit left
(a reserve answer, or its stock snapshot), it refuses further clicks on it for
``FLASHSALE_SOLD_OUT_MEMO_SECONDS`` (default 1 s) without a Redis command or a session read, or
until a newer snapshot shows units again. Memory can only refuse, never reserve, so it cannot
oversell; units that come back (expired holds, adjustments) are on sale again within that time.
"""

from __future__ import annotations

from collections.abc import Mapping

from django.conf import settings
from prometheus_client import Counter

# Items a process remembers (all are forgotten beyond it; the next clicks ask Redis again).
MAX_ITEMS = 10_000

_until: dict[tuple[int, int], float] = {}

# These refusals never reach Redis, so the per-item counters there (flashsale_sale_refusals_total)
# do not see them; each process counts its own (docs/operations.md).
REFUSED_FROM_MEMORY = Counter(
    "flashsale_sale_refusals_from_memory",
    "Reserve clicks refused from a process's sold-out memory, without asking Redis.",
    ["session", "item"],
)


def memo_seconds() -> float:
    return float(settings.FLASHSALE_SOLD_OUT_MEMO_SECONDS)


def remember(session_id: int, item_id: int, *, now: float) -> None:
    """The item had no unit left at ``now``."""
    seconds = memo_seconds()
    if seconds <= 0:
        return
    if len(_until) >= MAX_ITEMS:
        _until.clear()
    _until[(session_id, item_id)] = now + seconds


def is_sold_out(session_id: int, item_id: int, *, now: float) -> bool:
    """Whether this process learnt, less than ``memo_seconds()`` ago, that the item is sold out."""
    until = _until.get((session_id, item_id))
    if until is None:
        return False
    if now < until:
        return True
    del _until[(session_id, item_id)]
    return False


def refuses(session_id: int, item_id: int, *, now: float) -> bool:
    """Whether to refuse a click on the item from memory (it is then counted for /metrics)."""
    if not is_sold_out(session_id, item_id, now=now):
        return False
    count_refusal(session_id, item_id)
    return True


# The counter's children by item: ``labels()`` takes a lock and formats the labels on every call.
_counted: dict[tuple[int, int], Counter] = {}


def count_refusal(session_id: int, item_id: int) -> None:
    """One click refused from memory (by the view, or by ``reservations.early_answers``)."""
    child = _counted.get((session_id, item_id))
    if child is None:
        if len(_counted) >= MAX_ITEMS:
            _counted.clear()
        child = _counted[(session_id, item_id)] = REFUSED_FROM_MEMORY.labels(str(session_id), str(item_id))
    child.inc()


def learn(session_id: int, remaining: Mapping[int, int], *, now: float) -> None:
    """From a fresh stock snapshot: remember the items at 0, forget those that have units again."""
    for item_id, units in remaining.items():
        if units <= 0:
            remember(session_id, item_id, now=now)
        else:
            _until.pop((session_id, item_id), None)


def forget_all() -> None:
    """Forget everything (tests, and after Redis was emptied)."""
    _until.clear()
