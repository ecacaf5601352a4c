"""The shopper side's reads: the sale page's order, a shopper's own counts, the home page's sessions,
a shopper's holds. All from Redis, never SQL.

What everybody sees of a session's stock comes from ``reservations.snapshot`` (one read a second per
process) and its items' display data from ``reservations.display``; this module answers the rest.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pygeohash

from flashsale.store import keys
from flashsale.store.client import sale_redis
from flashsale.store.replies import (
    as_int,
    as_str,
    decode_fields,
    decode_map,
    float_or_none,
    item_counts,
    lua_number,
    text,
    user_txn_ids,
)
from flashsale.store.scripts import lua_script
from plans.states import SessionState
from reservations import display
from reservations.holds import Reservation
from reservations.refusals import TicketNotAccepted
from reservations.states import SalePhase
from reservations.txns import spread

LUA_DIR = Path(__file__).resolve().parent / "lua"
NEAREST = lua_script(LUA_DIR / "nearest.lua")
OWN_COUNTS = lua_script(LUA_DIR / "own_counts.lua")
# GEOSEARCH needs a radius: half the Earth's circumference covers every item wherever it is.
WHOLE_EARTH_KM = 20_040


@dataclass(frozen=True)
class SessionInfo:
    session_id: int
    name: str
    starts_at: float
    ends_at: float
    state: str

    def phase(self, now: float) -> SalePhase:
        """upcoming | live | ended (cancelled sessions read as ended)."""
        if self.state == SessionState.CANCELLED or now >= self.ends_at:
            return SalePhase.ENDED
        return SalePhase.LIVE if now >= self.starts_at else SalePhase.UPCOMING

    @classmethod
    def from_hash(cls, session_id: int, data: dict[str, str]) -> SessionInfo | None:
        """From the decoded session hash (``keys.session``); None when the session is not loaded."""
        if "starts_at" not in data:
            return None
        return cls(
            session_id=session_id,
            name=data.get("name", f"Session {session_id}"),
            starts_at=float(data["starts_at"]),
            ends_at=float(data["ends_at"]),
            state=data.get("state", ""),
        )


def _split(joined: object) -> list[str]:
    value = text(joined)
    return value.split(",") if value else []


# --- the sale page's order: nearest first from the shopper's location cell --------------------------

# Geohash precision 6: cells of about 1.2 km x 0.6 km, so a distance measured from the cell's centre
# is within about half a kilometre of the one from the shopper's own position.
CELL_PRECISION = 6
# (session, load stamp, cell) orders a process keeps (all are dropped beyond it).
MAX_ORDERS = 5_000


@dataclass(frozen=True)
class Cell:
    """Where distances are measured from: a geohash cell's centre, or a picked city's own position."""

    key: str
    latitude: float
    longitude: float


def location_cell(latitude: float, longitude: float, *, city: str | None = None) -> Cell:
    """The cell of a position (a city picked from the list is its own cell: its exact position)."""
    if city:
        return Cell(f"city:{city}", latitude, longitude)
    cell = pygeohash.encode(latitude, longitude, precision=CELL_PRECISION)
    centre = pygeohash.decode(cell)
    return Cell(cell, centre.latitude, centre.longitude)


_orders: dict[tuple[int, str, str], tuple[tuple[int, float | None], ...]] = {}


def nearest_first(session_id: int, cached: display.SessionDisplay, cell: Cell) -> tuple[tuple[int, float | None], ...]:
    """(item id, km from the cell) nearest first, items without a location last; cached per load and cell."""
    key = (session_id, cached.version, cell.key)
    order = _orders.get(key)
    if order is None:
        raw = NEAREST(
            keys=[keys.geo(session_id)], args=[lua_number(cell.longitude), lua_number(cell.latitude), WHOLE_EARTH_KM]
        )
        ids, distances = _split(raw[0]), _split(raw[1])
        located = [(int(member), float(km)) for member, km in zip(ids, distances, strict=True)]
        seen = {item_id for item_id, _ in located}
        rest: list[tuple[int, float | None]] = [(item_id, None) for item_id in cached.item_ids if item_id not in seen]
        order = tuple(pair for pair in located if pair[0] in cached.items) + tuple(rest)
        if len(_orders) >= MAX_ORDERS:
            _orders.clear()
        _orders[key] = order
    return order


def forget_orders() -> None:
    _orders.clear()


@dataclass(frozen=True)
class OwnCounts:
    """A shopper's units held or paid per item in one session, with the session's stock version."""

    session_id: int
    version: int
    units: dict[int, int]


@dataclass(frozen=True)
class _OwnCountsReply:
    version: int
    pairs: list[Any]  # item id, units, item id, units...


def own_counts(session_id: int, *, user_id: int) -> OwnCounts | None:
    """The user's own counts (one round trip, ``lua/own_counts.lua``); None if the session is not loaded."""
    return _own_counts(session_id, ticket_key=keys.ticket(session_id, "-"), user=str(user_id))


def own_counts_with_ticket(session_id: int, *, session_key: str | None) -> OwnCounts | None:
    """``own_counts`` for the shopper named by the browser session's reserve ticket: no session read.

    Raises TicketNotAccepted("no_ticket") when there is no session key or that session has no
    ticket for this sale (not logged in, never visited its page, or the ticket expired); the
    caller then reads the session for the user.
    """
    if not session_key:
        raise TicketNotAccepted("no_ticket")
    from reservations.tickets import ticket_key

    return _own_counts(session_id, ticket_key=ticket_key(session_id, session_key), user="")


def _own_counts(session_id: int, *, ticket_key: str, user: str) -> OwnCounts | None:
    raw = OWN_COUNTS(keys=[keys.session(session_id), ticket_key], args=[keys.user(session_id, ""), user])
    code = text(raw[0])
    if code == "no_session":
        return None
    if code == "no_ticket":
        raise TicketNotAccepted(code)
    reply = decode_fields(_OwnCountsReply, raw[1:])
    units = item_counts(reply.pairs)
    return OwnCounts(session_id=session_id, version=reply.version, units=units)


def city_location(session_id: int, city: str) -> tuple[float, float] | None:
    """Where ``city`` is, from the session's own items (the city picker lists exactly those)."""
    r = sale_redis()
    members = r.zrange(keys.items(session_id), 0, -1)
    pipe = r.pipeline(transaction=False)
    for member in members:
        pipe.hmget(keys.item(session_id, as_int(member)), ["place", "latitude", "longitude"])
    for place, lat, lon in pipe.execute():
        latitude, longitude = float_or_none(lat), float_or_none(lon)
        if as_str(place) == city and latitude is not None and longitude is not None:
            return latitude, longitude
    return None


def session_info(session_id: int) -> SessionInfo | None:
    return SessionInfo.from_hash(session_id, decode_map(sale_redis().hgetall(keys.session(session_id))))


def sessions_between(start: float, end: float) -> list[SessionInfo]:
    """Loaded sessions whose window overlaps [start, end), by start time (the home page)."""
    r = sale_redis()
    ids = [as_int(m) for m in r.zrangebyscore(keys.sessions_index(), "-inf", end)]
    # One hash per session; in a cluster they live on different shards, so no shared pipeline.
    found = []
    for session_id in ids:
        info = session_info(session_id)
        if info is not None and info.ends_at > start:
            found.append(info)
    return found


def loaded_session_ids() -> list[int]:
    return [as_int(m) for m in sale_redis().zrange(keys.sessions_index(), 0, -1)]


@dataclass(frozen=True)
class HeldReservation:
    """A reservation as Redis knows it (fresher than PostgreSQL until the drainer runs)."""

    txn_id: str
    session_id: int
    session_name: str
    item_id: int
    item_name: str
    user_id: int
    units: tuple[str, ...]
    quantity: int
    amount: Decimal
    currency: str
    status: str
    reserved_at: float
    expires_at: float

    def as_reservation(self) -> Reservation:
        return Reservation(
            txn_id=self.txn_id,
            session_id=self.session_id,
            item_id=self.item_id,
            user_id=self.user_id,
            units=self.units,
            quantity=self.quantity,
            amount=self.amount,
            currency=self.currency,
            expires_at=self.expires_at,
            status=self.status,
        )


def user_reservations(user_id: int, session_ids: Iterable[int] | None = None) -> list[HeldReservation]:
    """The user's reservations in every loaded session (or in ``session_ids``)."""
    found: list[HeldReservation] = []
    for session_id in loaded_session_ids() if session_ids is None else session_ids:
        found += _user_reservations_in(sale_redis(), user_id, session_id)
    return found


def _user_reservations_in(r: Any, user_id: int, session_id: int) -> list[HeldReservation]:
    pipe = r.pipeline(transaction=False)
    pipe.hgetall(keys.user(session_id, user_id))
    pipe.smembers(keys.user_txns(session_id, user_id))
    txn_ids = user_txn_ids(*pipe.execute())
    if not txn_ids:
        return []
    pipe = r.pipeline(transaction=False)
    pipe.hget(keys.session(session_id), "name")
    for txn_id in txn_ids:
        pipe.hgetall(keys.txn(session_id, txn_id))
    session_name, *raws = pipe.execute()
    txns = [(txn_id, spread(decode_map(raw))) for txn_id, raw in zip(txn_ids, raws, strict=True) if raw]
    pipe = r.pipeline(transaction=False)
    for _, data in txns:
        pipe.hget(keys.item(session_id, as_int(data.get("item"))), "name")
    names = pipe.execute()
    return [
        HeldReservation(
            txn_id=txn_id,
            session_id=session_id,
            session_name=text(session_name),
            item_id=as_int(data.get("item")),
            item_name=text(name),
            user_id=user_id,
            units=tuple(json.loads(data.get("units") or "[]")),
            quantity=as_int(data.get("quantity")),
            amount=Decimal(data.get("amount") or "0"),
            currency=data.get("currency", ""),
            status=data.get("status", ""),
            reserved_at=float(data.get("reserved_at") or 0),
            expires_at=float(data.get("expires_at") or 0),
        )
        for (txn_id, data), name in zip(txns, names, strict=True)
    ]
