"""What the site remembers about a shopper between requests, in their (Redis-backed) Django session.

``ShopperSession`` wraps ``request.session`` (or any ``SessionBase``) and is the one place that
knows its fields: the logged-in user and their name, their location (to sort products by
distance), and per sale session their CAPTCHA pass and their waiting-room admission pass; and it
copies those into the reserve ticket beside the sale (``reservations.tickets``), which also holds
the current visit: the TransactionID minted each time the shopper opens the sale page (kept in the
ticket only, so a sale-page visit never writes the Django session). Every method that concerns one
sale takes its ``session_id`` first. Nothing here reads SQL; wrapping a lazy ``request.session``
reads nothing until asked.

A reservation uses a TransactionID derived from the visit per item (``item_txn_id``), so a double
submit replays the same reservation and the reserve request itself never writes the session.
"""

from __future__ import annotations

import functools
from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib import auth
from ulid import ULID

from flashsale.clock import as_timestamp
from reservations import tickets
from reservations.admission import admission_expires_at
from reservations.tickets import Ticket

LOCATION_FIELD = "fs_location"
# Set at log-in (``remember_username``): what the page header shows, without reading the User.
USERNAME_FIELD = "fs_username"
CAPTCHA_PASSES_FIELD = "fs_captcha_pass"
ADMISSION_PASSES_FIELD = "admission_passes"


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


def _latitude(value: Any) -> float:
    lat = float(value)
    if not -90 <= lat <= 90:
        raise InvalidLocation("latitude out of range")
    return lat


def _longitude(value: Any) -> float:
    lon = float(value)
    if not -180 <= lon <= 180:
        raise InvalidLocation("longitude out of range")
    return lon


@dataclass(frozen=True)
class Entry:
    """One visit of a sale page: its TransactionID and when it began (epoch seconds)."""

    txn_id: str
    entered_at: float


class ShopperSession:
    """One shopper's Django session, read and written through named methods (see the module doc)."""

    def __init__(self, store: MutableMapping[str, Any]):
        self.store = store

    @property
    def session_key(self) -> str | None:
        key = getattr(self.store, "session_key", None)
        return str(key) if key else None

    @property
    def user_id(self) -> int | None:
        """The logged-in user's id straight from the session: no cache or database read."""
        value = self.store.get(auth.SESSION_KEY)
        return int(value) if value is not None else None

    def _per_sale(self, field: str) -> dict[str, Any]:
        value = self.store.get(field)
        return value if isinstance(value, dict) else {}

    def _set_per_sale(self, field: str, session_id: int, value: Any) -> None:
        # Reassigning (not mutating in place) marks the session modified so it is saved.
        self.store[field] = {**self._per_sale(field), str(session_id): value}

    # --- location ------------------------------------------------------------------------------

    def location(self) -> Location:
        data = self.store.get(LOCATION_FIELD)
        if not data:
            return default_location()
        return Location(data["lat"], data["lon"], data.get("name", ""), data.get("source", "device"))

    def remember_location(self, *, latitude: Any, longitude: Any, name: str, source: str) -> Location:
        """Validate and keep a location; raises InvalidLocation for values that are not coordinates."""
        try:
            location = Location(_latitude(latitude), _longitude(longitude), name[:100], source)
        except (TypeError, ValueError) as exc:
            raise InvalidLocation(str(exc)) from exc
        self.store[LOCATION_FIELD] = {
            "lat": location.latitude,
            "lon": location.longitude,
            "name": location.name,
            "source": source,
        }
        return location

    @property
    def username(self) -> str:
        return str(self.store.get(USERNAME_FIELD) or "")

    # --- visits --------------------------------------------------------------------------------

    def current_visit(self, session_id: int, *, now: float) -> Entry:
        """The visit the reserve ticket holds (a retry replays its reservations), or a new one."""
        key = self.session_key
        ticket = tickets.read_ticket(session_id, key) if key else None
        return Entry(ticket.visit_txn, ticket.entered_at) if ticket is not None else new_visit(now=now)

    # --- the CAPTCHA pass ----------------------------------------------------------------------

    def captcha_pass_until(self, session_id: int) -> float | None:
        value = self._per_sale(CAPTCHA_PASSES_FIELD).get(str(session_id))
        return float(value) if value is not None else None

    def has_captcha_pass(self, session_id: int, *, now: float) -> bool:
        expires = self.captcha_pass_until(session_id)
        return expires is not None and as_timestamp(now) < expires

    def grant_captcha_pass(self, session_id: int, *, now: float, seconds: int | None = None) -> float:
        """Record a solved CAPTCHA for ``session_id``; returns the pass's expiry (epoch seconds).

        Call the store's ``save()`` yourself when it is not attached to a request.
        """
        lifetime = settings.FLASHSALE_CAPTCHA_PASS_SECONDS if seconds is None else seconds
        expires = as_timestamp(now) + lifetime
        self._set_per_sale(CAPTCHA_PASSES_FIELD, session_id, expires)
        return expires

    def keep_captcha_pass_until(self, session_id: int, until: float) -> None:
        """After an admission the shopper is not asked again in this session until ``until``."""
        if until > (self.captcha_pass_until(session_id) or 0.0):
            self._set_per_sale(CAPTCHA_PASSES_FIELD, session_id, until)

    # --- the admission pass --------------------------------------------------------------------

    def admission_pass(self, session_id: int) -> str | None:
        found = self._per_sale(ADMISSION_PASSES_FIELD).get(str(session_id))
        return found if isinstance(found, str) else None

    def store_admission_pass(self, session_id: int, admission_pass: str) -> None:
        if self.admission_pass(session_id) != admission_pass:
            self._set_per_sale(ADMISSION_PASSES_FIELD, session_id, admission_pass)

    def admitted_until(self, session_id: int, *, now: float) -> float | None:
        """When this shopper's admission pass for ``session_id`` lapses; None without a valid one."""
        return admission_expires_at(self.admission_pass(session_id), self.user_id, session_id, now=now)

    def is_admitted(self, session_id: int, *, now: float) -> bool:
        return self.admitted_until(session_id, now=now) is not None

    # --- the reserve ticket --------------------------------------------------------------------

    def ticket(self, session_id: int, *, now: float, visit: Entry) -> Ticket:
        """The reserve ticket of this (logged-in) session for one sale, for ``visit``."""
        user_id = self.user_id
        if user_id is None:
            raise ValueError("only a logged-in shopper has a reserve ticket")
        location = self.location()
        return Ticket(
            user_id=user_id,
            captcha_until=self.captcha_pass_until(session_id) or 0.0,
            admitted_until=self.admitted_until(session_id, now=now) or 0.0,
            visit_txn=visit.txn_id,
            entered_at=visit.entered_at,
            latitude=location.latitude,
            longitude=location.longitude,
            place=location.name,
            place_source=location.source,
            username=self.username,
        )

    def keep_ticket_current(self, session_id: int, *, now: float) -> Ticket | None:
        """Rewrite the ticket after a pass was granted, keeping its visit (the sale page reads the ticket)."""
        return self.refresh_ticket(session_id, now=now, visit=self.current_visit(session_id, now=now))

    def refresh_ticket(self, session_id: int, *, now: float, visit: Entry | None = None) -> Ticket | None:
        """Rewrite the ticket after the session changed (a pass, a location); returns it.

        ``visit`` defaults to a new one. None for an anonymous shopper; a session without a key yet
        gets no ticket stored.
        """
        if self.user_id is None:
            return None
        ticket = self.ticket(session_id, now=now, visit=visit or new_visit(now=now))
        if self.session_key:
            tickets.store_ticket(session_id, self.session_key, ticket)
        return ticket


def remember_username(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    """At log-in (``user_logged_in``): keep the name the sale page's header shows in the session."""
    if user is not None and getattr(request, "session", None) is not None:
        request.session[USERNAME_FIELD] = user.get_username()


def new_visit(*, now: float) -> Entry:
    """Mint a fresh TransactionID (a new visit of the sale page)."""
    return Entry(str(ULID()), now)


def location_of(ticket: Ticket) -> Location:
    """The shopper's location as their ticket carries it."""
    return Location(ticket.latitude, ticket.longitude, ticket.place, ticket.place_source)


# Crockford's base32, the ULID alphabet.
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def item_txn_id(entry: Entry, item_id: int) -> str:
    """The TransactionID of a reservation of ``item_id`` made from this sale-page visit.

    The visit's ULID timestamp (so ids still sort by when the shopper arrived) and the low 55 bits
    of its random part (characters 16-26: ULIDs minted within one millisecond by one process differ
    there, as python-ulid counts up), then the item id in five Crockford base32 digits: unique per
    visit and item and stable across retries. ``reservations/lua/reserve.lua`` derives the same id
    inside Redis from the visit written in the shopper's ticket and ``item_txn_suffix``, which the
    caller sends (cheaply: no hashing and no formatting there).
    """
    return entry.txn_id[:10] + entry.txn_id[15:26] + item_txn_suffix(item_id)


@functools.lru_cache(maxsize=4096)
def item_txn_suffix(item_id: int) -> str:
    """The item's part of a TransactionID: ``item_id`` modulo 32**5 in five Crockford base32 digits."""
    number = item_id % 32**5
    return "".join(CROCKFORD[(number >> shift) & 31] for shift in range(20, -1, -5))
