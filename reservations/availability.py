"""The shopper side's reads: the sale page, the stock poll, the home page's sessions, a shopper's holds.

All from Redis, never SQL. Item display data comes from this process's copy
(``reservations.display``); stock, the session's window and the shopper's counts are read per request.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from flashsale.store import keys
from flashsale.store.client import is_cluster, sale_redis
from flashsale.store.replies import as_int, as_str, decode_fields, decode_map, float_or_none, text
from flashsale.store.scripts import lua_script
from plans.states import SessionState
from reservations import display
from reservations.display import ItemDisplay
from reservations.holds import Reservation
from reservations.refusals import TicketNotAccepted
from reservations.states import SalePhase

LUA_DIR = Path(__file__).resolve().parent / "lua"
SALE_READ = lua_script(LUA_DIR / "sale_read.lua")
STOCK_LEVELS = lua_script(LUA_DIR / "stock_levels.lua")
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


@dataclass(frozen=True)
class ItemView:
    """An item on the sale page: its display data, the units left, the shopper's count, the distance."""

    display: ItemDisplay
    remaining: int
    held_by_user: int
    distance_km: float | None

    @property
    def item_id(self) -> int:
        return self.display.item_id

    @property
    def per_user_limit(self) -> int:
        return self.display.per_user_limit

    @property
    def user_can_take(self) -> int:
        return max(0, min(self.per_user_limit - self.held_by_user, self.remaining))


@dataclass(frozen=True)
class SalePage:
    session: SessionInfo
    items: list[ItemView]
    cities: list[tuple[str, float, float]] = field(default_factory=list)


def _split(joined: object) -> list[str]:
    value = text(joined)
    return value.split(",") if value else []


def sale_page(session_id: int, *, latitude: float, longitude: float, user_id: int | None) -> SalePage | None:
    """The session's items nearest first from (latitude, longitude); None if it is not loaded.

    One round trip: the session, one read script for the geo search and every item's remaining
    units, and the user's counts. The items' display data comes from this process's copy; when
    there is none or the session was reloaded since, two more round trips read it again.
    """
    r = sale_redis()
    cached = display.cached_display(session_id)
    stock_keys = cached.stock_keys if cached is not None else ()
    read_keys, read_args = [keys.geo(session_id), *stock_keys], [longitude, latitude, WHOLE_EARTH_KM]
    pipe = r.pipeline(transaction=False)
    pipe.hgetall(keys.session(session_id))
    # redis-py's cluster pipeline refuses scripts: on a cluster the read is its own round trip.
    if not is_cluster():
        SALE_READ.queue(pipe, keys=read_keys, args=read_args)
    if user_id is not None:
        pipe.hgetall(keys.user(session_id, user_id))
    replies = pipe.execute()
    if is_cluster():
        replies.insert(1, SALE_READ(keys=read_keys, args=read_args, client=r))
    raw_session, (raw_ids, raw_distances, raw_lengths), *raw_user = replies
    session_data = decode_map(raw_session)
    info = SessionInfo.from_hash(session_id, session_data)
    if info is None:
        display.drop_display(session_id)
        return None
    lengths = [int(n) for n in _split(raw_lengths)]
    version = session_data.get("loaded_at", "")
    if cached is None or not cached.is_current(version):
        cached, lengths = display.fetch_display(r, session_id, version)
    remaining = dict(zip(cached.item_ids, lengths, strict=True))
    held = {as_int(k): as_int(v) for k, v in raw_user[0].items()} if raw_user else {}
    items_by_id = cached.items
    items: list[ItemView] = []
    for member, distance in zip(_split(raw_ids), _split(raw_distances), strict=True):
        item_id = int(member)
        item = items_by_id.get(item_id)
        if item is not None:
            items.append(ItemView(item, remaining[item_id], held.get(item_id, 0), float(distance)))
    if len(items) < len(items_by_id):
        # Items without a location still show, after the located ones.
        located = {view.item_id for view in items}
        items += [
            ItemView(items_by_id[item_id], remaining[item_id], held.get(item_id, 0), None)
            for item_id in cached.item_ids
            if item_id not in located
        ]
    return SalePage(session=info, items=items, cities=list(cached.cities))


@dataclass(frozen=True)
class StockLevelsReply:
    """``stock_levels.lua``'s answer for a loaded session (see its header)."""

    starts_at: float
    ends_at: float
    state: str
    levels: list[Any]  # item id, remaining, item id, remaining...
    held: list[Any]  # item id, units, ...


def stock_levels(session_id: int, *, user_id: int | None) -> dict[str, Any] | None:
    """Remaining units per item (and the user's own counts) for the page's polling; None if not loaded.

    One round trip (``lua/stock_levels.lua``); ``user_id`` None reads no counts.
    """
    return _stock_levels(session_id, ticket_key=keys.ticket(session_id, "-"), user="-" if user_id is None else user_id)


def stock_levels_with_ticket(session_id: int, *, session_key: str | None) -> dict[str, Any] | None:
    """``stock_levels`` for the shopper named by the browser session's reserve ticket: no session read.

    Raises TicketNotAccepted("no_ticket") when there is no session key or that session has no
    ticket for this sale (not logged in, never visited its page, or the ticket expired); the
    caller then reads the session for the user.
    """
    if not session_key:
        raise TicketNotAccepted("no_ticket")
    from reservations.tickets import ticket_key

    return _stock_levels(session_id, ticket_key=ticket_key(session_id, session_key), user="")


def _stock_levels(session_id: int, *, ticket_key: str, user: int | str) -> dict[str, Any] | None:
    raw = STOCK_LEVELS(
        keys=[keys.session(session_id), keys.items(session_id), ticket_key],
        args=[keys.stock(session_id, ""), keys.user(session_id, ""), str(user)],
    )
    code = text(raw[0])
    if code == "no_session":
        return None
    if code == "no_ticket":
        raise TicketNotAccepted(code)
    reply = decode_fields(StockLevelsReply, raw[1:])
    held = {as_int(k): as_int(v) for k, v in zip(reply.held[::2], reply.held[1::2], strict=True)}
    return {
        "session": session_id,
        "starts_at": reply.starts_at,
        "ends_at": reply.ends_at,
        "state": reply.state,
        "items": {
            text(item_id): {"remaining": int(remaining), "yours": held.get(as_int(item_id), 0)}
            for item_id, remaining in zip(reply.levels[::2], reply.levels[1::2], strict=True)
        },
    }


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
    txn_ids = sorted(text(t) for t in r.smembers(keys.user_txns(session_id, user_id)))
    if not txn_ids:
        return []
    pipe = r.pipeline(transaction=False)
    pipe.hget(keys.session(session_id), "name")
    for txn_id in txn_ids:
        pipe.hgetall(keys.txn(session_id, txn_id))
    session_name, *raws = pipe.execute()
    txns = [(txn_id, decode_map(raw)) for txn_id, raw in zip(txn_ids, raws, strict=True) if raw]
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
