"""What a loaded session's items look like (names, prices, places...), kept per process.

The display data changes only when ``plans.loading`` rewrites the item hashes, and it rewrites the
session hash, with a new ``loaded_at``, after them. So each process keeps the decoded data per
session tagged with the ``loaded_at`` it read *before* the items: a reload shows up as a different
``loaded_at`` on the next request. The age bound is a backstop for a reload stamped with the same
instant (a frozen clock): an entry is never older than ``DISPLAY_MAX_AGE_SECONDS``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from flashsale.store import keys
from flashsale.store.client import sale_redis
from flashsale.store.replies import as_int, as_str, decode_map, float_or_none

DISPLAY_MAX_AGE_SECONDS = 60.0
# Loaded sessions a process keeps display data for (the whole cache is dropped beyond it).
DISPLAY_MAX_SESSIONS = 64


@dataclass(frozen=True)
class ItemDisplay:
    """An item as the sale page shows it, whatever the stock: what only a reload changes."""

    item_id: int
    name: str
    description: str
    image_url: str
    place: str
    latitude: float | None
    longitude: float | None
    sale_price: Decimal
    list_price: Decimal | None
    currency: str
    per_user_limit: int

    @property
    def discount_percent(self) -> int | None:
        if not self.list_price or self.list_price <= self.sale_price:
            return None
        return int((1 - self.sale_price / self.list_price) * 100)

    @classmethod
    def from_hash(cls, item_id: int, data: dict[str, str]) -> ItemDisplay:
        """From the item hash ``plans.loading`` writes (``keys.item``)."""
        return cls(
            item_id=item_id,
            name=data.get("name", ""),
            description=data.get("description", ""),
            image_url=data.get("image_url", ""),
            place=data.get("place", ""),
            latitude=float_or_none(data.get("latitude")),
            longitude=float_or_none(data.get("longitude")),
            sale_price=Decimal(data.get("sale_price") or "0"),
            list_price=Decimal(data["list_price"]) if data.get("list_price") else None,
            currency=data.get("currency", ""),
            per_user_limit=as_int(data.get("per_user_limit"), 1),
        )


@dataclass(frozen=True)
class SessionDisplay:
    """Every item's display data of one loaded session, as one process last read it."""

    version: str  # the session's loaded_at when it was read
    fetched_at: float  # time.monotonic()
    item_ids: tuple[int, ...]  # display order; only the items that have display data
    items: dict[int, ItemDisplay]
    cities: list[tuple[str, float, float]]
    session_name: str = ""

    def is_current(self, version: str) -> bool:
        return self.version == version and time.monotonic() - self.fetched_at <= DISPLAY_MAX_AGE_SECONDS


_display_cache: dict[int, SessionDisplay] = {}


def cached_display(session_id: int) -> SessionDisplay | None:
    return _display_cache.get(session_id)


def drop_display(session_id: int) -> None:
    _display_cache.pop(session_id, None)


def forget_display_data() -> None:
    """Drop this process's copy of every session's display data (after Redis was emptied)."""
    _display_cache.clear()


def names_of(session_id: int, item_id: int) -> tuple[str, str]:
    """(product name, sale name) from this process's copy of the display data, without a Redis command.

    ("", "") when this process has not shown the sale yet; names do not change while a session is
    loaded, so a copy of any age will do.
    """
    shown = _display_cache.get(session_id)
    if shown is None:
        return "", ""
    item = shown.items.get(item_id)
    return (item.name if item is not None else ""), shown.session_name


def loaded_display(session_id: int) -> SessionDisplay | None:
    """This process's copy, or the display data read now (jobs, not shopper requests); None if not loaded."""
    cached = _display_cache.get(session_id)
    if cached is not None:
        return cached
    r = sale_redis()
    version = as_str(r.hget(keys.session(session_id), "loaded_at"))
    return None if version is None else fetch_display(r, session_id, version)


def session_display(session_id: int, version: str) -> SessionDisplay:
    """The display data of a loaded session whose ``loaded_at`` is ``version``: this process's copy if current."""
    cached = _display_cache.get(session_id)
    if cached is not None and cached.is_current(version):
        return cached
    return fetch_display(sale_redis(), session_id, version)


def fetch_display(r: Any, session_id: int, version: str) -> SessionDisplay:
    """Read and decode every item's display data (two round trips) and keep it."""
    members = [as_int(m) for m in r.zrange(keys.items(session_id), 0, -1)]
    pipe = r.pipeline(transaction=False)
    pipe.hget(keys.session(session_id), "name")
    for item_id in members:
        pipe.hgetall(keys.item(session_id, item_id))
    session_name, *replies = pipe.execute()
    items: dict[int, ItemDisplay] = {}
    cities: dict[str, tuple[float, float]] = {}
    for item_id, raw in zip(members, replies, strict=True):
        data = decode_map(raw)
        if not data:
            continue
        item = items[item_id] = ItemDisplay.from_hash(item_id, data)
        if item.place and item.latitude is not None and item.longitude is not None:
            cities.setdefault(item.place, (item.latitude, item.longitude))
    display = SessionDisplay(
        version=version,
        fetched_at=time.monotonic(),
        item_ids=tuple(items),
        items=items,
        cities=sorted((name, lat, lon) for name, (lat, lon) in cities.items()),
        session_name=as_str(session_name) or "",
    )
    if len(_display_cache) >= DISPLAY_MAX_SESSIONS:
        _display_cache.clear()
    _display_cache[session_id] = display
    return display
