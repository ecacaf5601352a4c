"""What the site remembers about a shopper between requests, in their (Redis-backed) session.

Their location (to sort products by distance) and their current TransactionID per sale session,
minted each time they open the sale page. A reservation uses a TransactionID derived from it per
item (``item_txn_id``), so a double submit replays the same reservation and the reserve request
itself never has to write the session.
"""

from __future__ import annotations

import hashlib
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
    """Mint a fresh TransactionID (a new visit of the sale page).

    The reserve request reads the visit from the shopper's ticket, not from the session: a caller
    that renews the visit also rewrites the ticket (``reservations.tickets.refresh_ticket``).
    """
    entry = Entry(str(ULID()), now)
    entries = dict(store.get(TXN_KEY, {}))
    entries[str(session_id)] = {"id": entry.txn_id, "at": entry.entered_at}
    store[TXN_KEY] = entries
    return entry


# Crockford's base32, the ULID alphabet.
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def item_txn_id(entry: Entry, item_id: int) -> str:
    """The TransactionID of a reservation of ``item_id`` made from this sale-page visit.

    It keeps the visit's ULID timestamp (so ids still sort by when the shopper arrived) and
    replaces the random part by 80 bits of SHA-1 over the visit's id and the item, so it is unique
    per item and stable across retries. ``reservations/lua/reserve.lua`` derives the same id
    inside Redis (Lua there has SHA-1, not BLAKE2), from the visit written in the shopper's ticket.
    """
    digest = hashlib.sha1(f"{entry.txn_id}:{item_id}".encode(), usedforsecurity=False).hexdigest()
    bits = int(digest[:20], 16)
    random_part = "".join(CROCKFORD[(bits >> shift) & 31] for shift in range(75, -1, -5))
    return entry.txn_id[:10] + random_part
