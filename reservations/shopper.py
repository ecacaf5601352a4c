"""What the site remembers about a shopper between requests, in their (Redis-backed) session.

Their location (to sort products by distance) and their current TransactionID per sale session,
minted when they open the sale page and renewed after each successful reservation.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import dataclass

from django.conf import settings
from ulid import ULID

LOCATION_KEY = "fs_location"
TXN_KEY = "fs_txn"


@dataclass(frozen=True)
class Location:
    latitude: float
    longitude: float
    name: str
    source: str  # default | city | device


class InvalidLocation(ValueError):
    pass


def default_location() -> Location:
    try:
        lat, lon, name = settings.FLASHSALE_DEFAULT_LOCATION.split(",", 2)
        return Location(_latitude(lat), _longitude(lon), name.strip(), "default")
    except (ValueError, InvalidLocation):
        return Location(48.8566, 2.3522, "Paris", "default")


def _latitude(value) -> float:
    lat = float(value)
    if not -90 <= lat <= 90:
        raise InvalidLocation("latitude out of range")
    return lat


def _longitude(value) -> float:
    lon = float(value)
    if not -180 <= lon <= 180:
        raise InvalidLocation("longitude out of range")
    return lon


def current_location(store: MutableMapping) -> Location:
    data = store.get(LOCATION_KEY)
    if not data:
        return default_location()
    return Location(data["lat"], data["lon"], data.get("name", ""), data.get("source", "device"))


def remember_location(store: MutableMapping, *, latitude, longitude, name: str, source: str) -> Location:
    """Validate and keep a location; raises InvalidLocation for values that are not coordinates."""
    try:
        location = Location(_latitude(latitude), _longitude(longitude), name[:100], source)
    except (TypeError, ValueError) as exc:
        raise InvalidLocation(str(exc)) from exc
    store[LOCATION_KEY] = {"lat": location.latitude, "lon": location.longitude, "name": location.name, "source": source}
    return location


@dataclass(frozen=True)
class Entry:
    txn_id: str
    entered_at: float


def current_entry(store: MutableMapping, session_id: int, *, now: float) -> Entry:
    """The shopper's TransactionID for this sale session, minted on first use."""
    data = store.get(TXN_KEY, {}).get(str(session_id))
    if data:
        return Entry(data["id"], data["at"])
    return renew_entry(store, session_id, now=now)


def renew_entry(store: MutableMapping, session_id: int, *, now: float) -> Entry:
    """Mint a fresh TransactionID (after a reservation used the previous one)."""
    entry = Entry(str(ULID()), now)
    entries = dict(store.get(TXN_KEY, {}))
    entries[str(session_id)] = {"id": entry.txn_id, "at": entry.entered_at}
    store[TXN_KEY] = entries
    return entry
