"""Every Redis operation of the shopper side: reserving, releasing, paying, and the sale-page reads.

Writes go through the Lua scripts beside this module (``lua/*.lua``), loaded once and called by
EVALSHA (redis-py's ``Script`` reloads them on NOSCRIPT). Keys come from ``plans.keys`` only.
Time is always passed in by the caller (``flashsale.clock``), never read from Redis.
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from redis.commands.core import Script

from flashsale.clock import as_timestamp
from plans import keys
from plans.redis import as_int, as_str, is_cluster, sale_redis
from reservations import tickets
from reservations.tickets import Ticket

LUA_DIR = Path(__file__).resolve().parent / "lua"
# GEOSEARCH needs a radius: half the Earth's circumference covers every item wherever it is.
WHOLE_EARTH_KM = 20_040

_scripts: dict[str, Script] = {}


def _script(name: str) -> Script:
    script = _scripts.get(name)
    if script is None:
        # Bytes, so no client is needed to compute the SHA; every call passes the current client.
        script = Script(None, (LUA_DIR / f"{name}.lua").read_bytes())
        _scripts[name] = script
    return script


def _run(name: str, *, keys_: list[str], args: list, client=None) -> list:
    return _script(name)(keys=keys_, args=args, client=client or sale_redis())


def _num(value: float) -> str:
    return repr(float(value))


def _decode_map(raw: dict) -> dict[str, str]:
    return {as_str(k): as_str(v) for k, v in raw.items()}


# --- results and domain errors -----------------------------------------------------------------


@dataclass(frozen=True)
class Reservation:
    """A hold on ``units`` of an item, awaiting payment until ``expires_at`` (epoch seconds)."""

    txn_id: str
    session_id: int
    item_id: int
    user_id: int
    units: tuple[str, ...]
    quantity: int
    amount: Decimal
    currency: str
    expires_at: float
    status: str = "reserved"
    replayed: bool = False
    session_ends_at: float | None = None


class ReservationRejected(Exception):
    """Base of the reasons the reserve script refuses; ``code`` is the script's result code."""

    code = "rejected"

    def __init__(self, message: str, *, session_id: int, item_id: int):
        super().__init__(message)
        self.message = message
        self.session_id = session_id
        self.item_id = item_id


class SoldOut(ReservationRejected):
    code = "sold_out"

    def __init__(self, *, session_id: int, item_id: int, remaining: int, requested: int):
        super().__init__(
            f"Only {remaining} unit(s) left, {requested} requested.", session_id=session_id, item_id=item_id
        )
        self.remaining = remaining
        self.requested = requested


class LimitReached(ReservationRejected):
    code = "limit"

    def __init__(self, *, session_id: int, item_id: int, held: int, limit: int, requested: int):
        super().__init__(f"You already have {held} of at most {limit}.", session_id=session_id, item_id=item_id)
        self.held = held
        self.limit = limit
        self.requested = requested


class NotOpenYet(ReservationRejected):
    code = "not_open"

    def __init__(self, *, session_id: int, item_id: int, starts_at: float):
        super().__init__("The sale has not started yet.", session_id=session_id, item_id=item_id)
        self.starts_at = starts_at


class SessionClosed(ReservationRejected):
    code = "closed"

    def __init__(self, *, session_id: int, item_id: int, ends_at: float):
        super().__init__("The sale has ended.", session_id=session_id, item_id=item_id)
        self.ends_at = ends_at


class UnknownSaleItem(ReservationRejected):
    """The session is not loaded in Redis, or the item is not part of it."""

    code = "unknown"


class RateLimited(ReservationRejected):
    """Too many reserve attempts from this user or IP in the current window."""

    code = "rate_limited"

    def __init__(self, *, session_id: int, item_id: int, retry_after: float):
        super().__init__("Too many attempts; try again shortly.", session_id=session_id, item_id=item_id)
        self.retry_after = retry_after


@dataclass(frozen=True)
class RateLimit:
    """At most ``limit`` reserve attempts per ``window`` seconds (django-ratelimit's "10/m" syntax)."""

    limit: int
    window: int

    @classmethod
    @functools.cache
    def parse(cls, rate: str | None) -> RateLimit | None:
        if not rate:
            return None
        count, _, period = rate.partition("/")
        number = "".join(ch for ch in period if ch.isdigit()) or "1"
        unit = {"s": 1, "m": 60, "h": 3600, "d": 86400}[period.lstrip("0123456789")[:1].lower()]
        return cls(limit=int(count), window=int(number) * unit)


def reserve_rate_limits() -> tuple[RateLimit | None, RateLimit | None]:
    return (
        RateLimit.parse(settings.FLASHSALE_RESERVE_RATE_USER),
        RateLimit.parse(settings.FLASHSALE_RESERVE_RATE_IP),
    )


def _rate_window(now: float, rate: RateLimit | None) -> tuple[int, list[str]]:
    """The current window number of ``rate`` and the script's limit and window arguments ("" = no limit)."""
    if rate is None:
        return 0, ["", "1"]
    return int(now // rate.window), [str(rate.limit), str(rate.window)]


class TransactionConflict(ReservationRejected):
    """The TransactionID already names a reservation of another item or user."""

    code = "conflict"


@dataclass(frozen=True)
class PaymentOutcome:
    """What confirming a payment did. ``changed`` is False for a replay or a refusal.

    ``outcome``: paid | paid_after_expiry (recorded, flagged for refund) | already_paid |
    already_paid_after_expiry | amount_mismatch (nothing recorded) | unknown (no such transaction).
    """

    outcome: str
    session_id: int
    txn_id: str
    status: str
    changed: bool
    refund_due: bool = False
    user_id: int | None = None
    item_id: int | None = None
    quantity: int = 0
    amount: Decimal | None = None
    currency: str = ""


# --- the hot path ------------------------------------------------------------------------------


def reservation_ttl_seconds() -> int:
    return int(settings.FLASHSALE_RESERVATION_TTL_SECONDS)


class TicketNotAccepted(Exception):
    """The reserve script could not decide from the shopper's ticket alone; read the session instead.

    ``reason``: ``no_ticket`` (none, or it expired), ``no_pass`` (no valid CAPTCHA pass in it),
    ``not_admitted`` (the waiting room's pass is missing or expired in it).
    """

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def _reserve_call(
    session_id: int,
    item_id: int,
    *,
    mode: str,
    quantity: int,
    now: float,
    ticket_key: str,
    client_ip: str | None,
    rate_limits: tuple[RateLimit | None, RateLimit | None],
    ttl_seconds: int | None,
    mode_args: list[str],
    client=None,
) -> Reservation:
    if quantity < 1:
        raise ValueError("quantity must be at least 1")
    ttl = reservation_ttl_seconds() if ttl_seconds is None else ttl_seconds
    user_rate, ip_rate = rate_limits
    user_window, user_window_args = _rate_window(now, user_rate)
    ip_window, ip_window_args = _rate_window(now, ip_rate if client_ip else None)
    reply = _run(
        "reserve",
        keys_=[
            keys.session(session_id),
            keys.item(session_id, item_id),
            keys.stock(session_id, item_id),
            keys.counts(session_id, item_id),
            keys.holds(session_id),
            keys.stream(session_id),
            keys.timeline(session_id),
            ticket_key,
            keys.rate_window(session_id, "ip", client_ip or "-", ip_window),
        ],
        args=[
            mode,
            str(item_id),
            str(quantity),
            _num(now),
            str(int(ttl)),
            settings.FLASHSALE_TOKEN_SIGNING_KEY_ID,
            str(session_id),
            *user_window_args,
            *ip_window_args,
            *keys.reserve_prefixes(session_id, user_window),
            *mode_args,
        ],
        client=client,
    )
    code = as_str(reply[0])
    ids = {"session_id": session_id, "item_id": item_id}
    if code == "reserved":
        return Reservation(
            txn_id=as_str(reply[9]),
            session_id=session_id,
            item_id=item_id,
            user_id=as_int(reply[10]),
            units=tuple(json.loads(as_str(reply[1]))),
            quantity=as_int(reply[2]),
            amount=Decimal(as_str(reply[3])),
            currency=as_str(reply[4]),
            expires_at=float(as_str(reply[5])),
            status=as_str(reply[6]),
            replayed=as_str(reply[7]) == "1",
            session_ends_at=_float_or_none(as_str(reply[8])),
        )
    if code == "sold_out":
        raise SoldOut(**ids, remaining=as_int(reply[1]), requested=quantity)
    if code == "limit":
        raise LimitReached(**ids, held=as_int(reply[1]), limit=as_int(reply[2]), requested=quantity)
    if code == "not_open":
        raise NotOpenYet(**ids, starts_at=float(as_str(reply[1])))
    if code == "closed":
        raise SessionClosed(**ids, ends_at=float(as_str(reply[1])))
    if code == "rate_limited":
        raise RateLimited(**ids, retry_after=float(as_str(reply[1])))
    if code == "conflict":
        raise TransactionConflict("This transaction id already names another reservation.", **ids)
    if code in {"no_ticket", "no_pass", "not_admitted"}:
        raise TicketNotAccepted(code)
    raise UnknownSaleItem("No such item on sale in this session.", **ids)


def reserve_units(
    session_id: int,
    item_id: int,
    *,
    user_id: int,
    quantity: int,
    txn_id: str,
    now: datetime | float,
    entered_at: float | None = None,
    latitude: float | None = None,
    longitude: float | None = None,
    ttl_seconds: int | None = None,
    client_ip: str | None = None,
    rate_limits: tuple[RateLimit | None, RateLimit | None] = (None, None),
    store_ticket: tuple[str, Ticket] | None = None,
    client=None,
) -> Reservation:
    """Reserve ``quantity`` units in one EVALSHA; raise a ReservationRejected subclass if refused.

    Idempotent on ``txn_id``: a retry returns the same Reservation (``replayed=True``).
    ``rate_limits`` (per user, per IP) are counted by the same script, so limiting costs no
    extra round trip; ``client_ip`` is required for the IP limit to apply. ``store_ticket``
    (session key, ticket) also writes that session's reserve ticket in the same call.
    """
    at = as_timestamp(now)
    if store_ticket is not None:
        session_key, ticket = store_ticket
        ticket_key = tickets.ticket_key(session_id, session_key)
        # Formatted as store_tickets writes them, so both ways of storing a ticket agree.
        fields = tickets.ticket_fields(ticket)
        ticket_args = [
            str(tickets.lifetime_seconds()),
            fields["visit"],
            fields["captcha_until"],
            fields["admitted_until"],
        ]
    else:
        ticket_key, ticket_args = keys.ticket(session_id, "-"), ["", "", "0", "0"]
    return _reserve_call(
        session_id,
        item_id,
        mode="direct",
        quantity=quantity,
        now=at,
        ticket_key=ticket_key,
        client_ip=client_ip,
        rate_limits=rate_limits,
        ttl_seconds=ttl_seconds,
        mode_args=[
            txn_id,
            str(user_id),
            "" if entered_at is None else _num(entered_at),
            "" if latitude is None else _num(latitude),
            "" if longitude is None else _num(longitude),
            *ticket_args,
        ],
        client=client,
    )


def reserve_with_ticket(
    session_id: int,
    item_id: int,
    *,
    session_key: str,
    quantity: int,
    now: float,
    require_admission: bool,
    client_ip: str | None = None,
    rate_limits: tuple[RateLimit | None, RateLimit | None] = (None, None),
    client=None,
) -> Reservation:
    """Reserve for the shopper whose session ``session_key`` has a ticket (``reservations.tickets``).

    The one-round-trip path of the reserve request: the script takes the user, passes,
    TransactionID and location from the ticket. Raises TicketNotAccepted when the ticket is
    missing or does not carry the passes; the caller then reads the session
    (``reserve_units`` with ``store_ticket``).
    """
    return _reserve_call(
        session_id,
        item_id,
        mode="ticket",
        quantity=quantity,
        now=now,
        ticket_key=tickets.ticket_key(session_id, session_key),
        client_ip=client_ip,
        rate_limits=rate_limits,
        ttl_seconds=None,
        mode_args=["1" if require_admission else "0"],
        client=client,
    )


def _txn_keys(session_id: int, txn_id: str, *, item_id: int, user_id: int) -> list[str]:
    return [
        keys.txn(session_id, txn_id),
        keys.stock(session_id, item_id),
        keys.counts(session_id, item_id),
        keys.user(session_id, user_id),
        keys.holds(session_id),
        keys.stream(session_id),
    ]


def _txn_owner(r, session_id: int, txn_id: str) -> tuple[int, int] | None:
    item, user = r.hmget(keys.txn(session_id, txn_id), ["item", "user"])
    if item is None or user is None:
        return None
    return as_int(item), as_int(user)


def release_hold(session_id: int, txn_id: str, *, reason: str = "cancelled", now: datetime | float) -> bool:
    """Give a hold's units back exactly once; True if this call released it.

    ``reason`` is ``cancelled`` (the shopper gave up) or ``expired`` (only once due).
    """
    if reason not in {"cancelled", "expired"}:
        raise ValueError("reason must be 'cancelled' or 'expired'")
    r = sale_redis()
    owner = _txn_owner(r, session_id, txn_id)
    if owner is None:
        r.zrem(keys.holds(session_id), txn_id)
        return False
    item_id, user_id = owner
    reply = _run(
        "release",
        keys_=_txn_keys(session_id, txn_id, item_id=item_id, user_id=user_id),
        args=[txn_id, reason, _num(as_timestamp(now)), "1" if reason == "expired" else "0"],
        client=r,
    )
    return as_str(reply[0]) == "released"


def expire_holds(session_id: int, *, now: datetime | float, batch_size: int = 500) -> int:
    """Release every hold of the session whose expiry has passed; returns how many were released."""
    r = sale_redis()
    now_ts = as_timestamp(now)
    released = 0
    while True:
        due = [as_str(t) for t in r.zrangebyscore(keys.holds(session_id), "-inf", now_ts, start=0, num=batch_size)]
        if not due:
            return released
        pipe = r.pipeline(transaction=False)
        for txn_id in due:
            pipe.hmget(keys.txn(session_id, txn_id), ["item", "user"])
        owners = pipe.execute()
        # redis-py's cluster pipeline refuses scripts: on a cluster each release is its own call.
        target = r if is_cluster() else r.pipeline(transaction=False)
        replies = []
        for txn_id, (item, user) in zip(due, owners, strict=True):
            if item is None or user is None:
                replies.append(target.zrem(keys.holds(session_id), txn_id))
                continue
            replies.append(
                _script("release")(
                    keys=_txn_keys(session_id, txn_id, item_id=as_int(item), user_id=as_int(user)),
                    args=[txn_id, "expired", _num(now_ts), "1"],
                    client=target,
                )
            )
        if target is not r:
            replies = target.execute()
        released += sum(1 for reply in replies if isinstance(reply, list) and as_str(reply[0]) == "released")
        if len(due) < batch_size:
            return released


def confirm_payment(
    session_id: int, txn_id: str, *, gateway_order_id: str, amount: Decimal | str, now: datetime | float
) -> PaymentOutcome:
    """Record the gateway's payment for a hold, atomically against its expiry. Safe to repeat."""
    r = sale_redis()
    owner = _txn_owner(r, session_id, txn_id)
    if owner is None:
        return PaymentOutcome(outcome="unknown", session_id=session_id, txn_id=txn_id, status="", changed=False)
    item_id, user_id = owner
    outcome, status = (
        as_str(x)
        for x in _run(
            "pay",
            keys_=_txn_keys(session_id, txn_id, item_id=item_id, user_id=user_id),
            args=[txn_id, _num(as_timestamp(now)), str(gateway_order_id), str(Decimal(str(amount)))],
            client=r,
        )
    )
    txn = _decode_map(r.hgetall(keys.txn(session_id, txn_id)))
    return PaymentOutcome(
        outcome=outcome,
        session_id=session_id,
        txn_id=txn_id,
        status=txn.get("status", status),
        changed=outcome in {"paid", "paid_after_expiry"},
        refund_due=txn.get("refund_due") == "1",
        user_id=user_id,
        item_id=item_id,
        quantity=as_int(txn.get("quantity")),
        amount=Decimal(txn["amount"]) if txn.get("amount") else None,
        currency=txn.get("currency", ""),
    )


def transaction_state(session_id: int, txn_id: str) -> dict[str, str]:
    """The txn hash as stored (empty when unknown)."""
    return _decode_map(sale_redis().hgetall(keys.txn(session_id, txn_id)))


# --- shopper page reads ------------------------------------------------------------------------


@dataclass(frozen=True)
class SessionInfo:
    session_id: int
    name: str
    starts_at: float
    ends_at: float
    state: str

    def phase(self, now: float) -> str:
        """upcoming | live | ended (cancelled sessions read as ended)."""
        if self.state == "cancelled" or now >= self.ends_at:
            return "ended"
        return "live" if now >= self.starts_at else "upcoming"


@dataclass(frozen=True)
class ItemView:
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
    remaining: int
    held_by_user: int
    distance_km: float | None

    @property
    def discount_percent(self) -> int | None:
        if not self.list_price or self.list_price <= self.sale_price:
            return None
        return int((1 - self.sale_price / self.list_price) * 100)

    @property
    def user_can_take(self) -> int:
        return max(0, min(self.per_user_limit - self.held_by_user, self.remaining))


@dataclass(frozen=True)
class SalePage:
    session: SessionInfo
    items: list[ItemView]
    cities: list[tuple[str, float, float]] = field(default_factory=list)


def _session_from(session_id: int, raw: dict) -> SessionInfo | None:
    data = _decode_map(raw)
    if "starts_at" not in data:
        return None
    return SessionInfo(
        session_id=session_id,
        name=data.get("name", f"Session {session_id}"),
        starts_at=float(data["starts_at"]),
        ends_at=float(data["ends_at"]),
        state=data.get("state", ""),
    )


def session_info(session_id: int) -> SessionInfo | None:
    return _session_from(session_id, sale_redis().hgetall(keys.session(session_id)))


def _float_or_none(text: str | None) -> float | None:
    try:
        return float(text) if text not in (None, "") else None
    except ValueError:
        return None


# The display data of a loaded session's items (names, prices, places...) changes only when
# ``plans.loading`` rewrites the item hashes, and it rewrites the session hash, with a new
# ``loaded_at``, after them. So each process keeps the decoded data per session tagged with the
# ``loaded_at`` it read *before* the items: a reload shows up as a different ``loaded_at`` on the
# next request. The age bound is a backstop for a reload stamped with the same instant (a
# frozen clock): an entry is never older than this many seconds.
_DISPLAY_MAX_AGE_SECONDS = 5.0
# Loaded sessions a process keeps display data for (the whole cache is dropped beyond it).
_DISPLAY_MAX_SESSIONS = 64


@dataclass(frozen=True)
class _SessionDisplay:
    """What the sale page shows of a loaded session's items that only a reload changes."""

    version: str
    fetched_at: float  # time.monotonic()
    item_ids: tuple[int, ...]  # display order; only the items that have display data
    stock_keys: tuple[str, ...]  # the items' stock lists, in ``item_ids`` order
    # item id -> ItemView's fields up to per_user_limit (remaining, held, distance come per request)
    static: dict[int, tuple]
    cities: list[tuple[str, float, float]]


_display_cache: dict[int, _SessionDisplay] = {}


def forget_display_data() -> None:
    """Drop this process's copy of every session's display data (after Redis was emptied)."""
    _display_cache.clear()


# A read, not a write: the geo search and every item's remaining units, answered as three
# comma-joined strings (ids, distances, lengths) because decoding 600 small replies in Python
# costs more than the whole search in Redis. KEYS: geo, then the stock lists; ARGV: lon, lat, radius.
# Every key carries the session's hash tag (one cluster slot).
_SALE_READ_LUA = """
local found = redis.call('GEOSEARCH', KEYS[1], 'FROMLONLAT', ARGV[1], ARGV[2], 'BYRADIUS', ARGV[3], 'km', 'ASC', 'WITHDIST')
local ids, distances, lengths = {}, {}, {}
for i, pair in ipairs(found) do
  ids[i] = pair[1]
  distances[i] = pair[2]
end
for i = 2, #KEYS do
  lengths[i - 1] = redis.call('LLEN', KEYS[i])
end
return {table.concat(ids, ','), table.concat(distances, ','), table.concat(lengths, ',')}
"""


def _split(joined) -> list[str]:
    text = as_str(joined)
    return text.split(",") if text else []


def _item_static(item_id: int, data: dict[str, str]) -> tuple:
    return (
        item_id,
        data.get("name", ""),
        data.get("description", ""),
        data.get("image_url", ""),
        data.get("place", ""),
        _float_or_none(data.get("latitude")),
        _float_or_none(data.get("longitude")),
        Decimal(data.get("sale_price") or "0"),
        Decimal(data["list_price"]) if data.get("list_price") else None,
        data.get("currency", ""),
        as_int(data.get("per_user_limit"), 1),
    )


def _fetch_display(r, session_id: int, version: str) -> tuple[_SessionDisplay, list[int]]:
    """Read and decode every item's display data (and, in the same round trip, its remaining units)."""
    members = [as_int(m) for m in r.zrange(keys.items(session_id), 0, -1)]
    pipe = r.pipeline(transaction=False)
    for item_id in members:
        pipe.hgetall(keys.item(session_id, item_id))
        pipe.llen(keys.stock(session_id, item_id))
    replies = pipe.execute()
    static: dict[int, tuple] = {}
    lengths: list[int] = []
    cities: dict[str, tuple[float, float]] = {}
    for index, item_id in enumerate(members):
        data = _decode_map(replies[2 * index])
        if not data:
            continue
        fields = _item_static(item_id, data)
        static[item_id] = fields
        lengths.append(as_int(replies[2 * index + 1]))
        place, lat, lon = fields[4], fields[5], fields[6]
        if place and lat is not None and lon is not None:
            cities.setdefault(place, (lat, lon))
    item_ids = tuple(static)
    display = _SessionDisplay(
        version=version,
        fetched_at=time.monotonic(),
        item_ids=item_ids,
        stock_keys=tuple(keys.stock(session_id, item_id) for item_id in item_ids),
        static=static,
        cities=sorted((name, lat, lon) for name, (lat, lon) in cities.items()),
    )
    if len(_display_cache) >= _DISPLAY_MAX_SESSIONS:
        _display_cache.clear()
    _display_cache[session_id] = display
    return display, lengths


def sale_page(session_id: int, *, latitude: float, longitude: float, user_id: int | None) -> SalePage | None:
    """The session's items nearest first from (latitude, longitude); None if it is not loaded.

    One round trip: the session, one read script for the geo search and every item's remaining
    units, and the user's counts. The items' display data comes from this process's copy (see
    ``_display_cache``); when there is none or the session was reloaded since, two more round
    trips read it again.
    """
    r = sale_redis()
    cached = _display_cache.get(session_id)
    stock_keys = cached.stock_keys if cached is not None else ()
    read = (_SALE_READ_LUA, 1 + len(stock_keys), keys.geo(session_id), *stock_keys, longitude, latitude, WHOLE_EARTH_KM)
    pipe = r.pipeline(transaction=False)
    pipe.hgetall(keys.session(session_id))
    # redis-py's cluster pipeline refuses scripts: on a cluster the read is its own round trip.
    if not is_cluster():
        pipe.eval(*read)
    if user_id is not None:
        pipe.hgetall(keys.user(session_id, user_id))
    replies = pipe.execute()
    if is_cluster():
        replies.insert(1, r.eval(*read))
    raw_session, (raw_ids, raw_distances, raw_lengths), *raw_user = replies
    nearest = zip(_split(raw_ids), _split(raw_distances), strict=True)
    lengths = [int(n) for n in _split(raw_lengths)]
    session_data = _decode_map(raw_session)
    info = _session_from(session_id, session_data)
    if info is None:
        _display_cache.pop(session_id, None)
        return None
    version = session_data.get("loaded_at", "")
    if cached is None or cached.version != version or time.monotonic() - cached.fetched_at > _DISPLAY_MAX_AGE_SECONDS:
        cached, lengths = _fetch_display(r, session_id, version)
    remaining = dict(zip(cached.item_ids, lengths, strict=True))
    held = {as_int(k): as_int(v) for k, v in raw_user[0].items()} if raw_user else {}
    static = cached.static
    items: list[ItemView] = []
    for member, distance in nearest:
        item_id = int(member)
        fields = static.get(item_id)
        if fields is not None:
            items.append(ItemView(*fields, remaining[item_id], held.get(item_id, 0), float(distance)))
    if len(items) < len(static):
        # Items without a location still show, after the located ones.
        located = {item.item_id for item in items}
        items += [
            ItemView(*static[item_id], remaining[item_id], held.get(item_id, 0), None)
            for item_id in cached.item_ids
            if item_id not in located
        ]
    return SalePage(session=info, items=items, cities=list(cached.cities))


def stock_levels(session_id: int, *, user_id: int | None) -> dict | None:
    """Remaining units per item (and the user's own counts) for the page's polling; None if not loaded.

    One round trip (``lua/stock_levels.lua``); ``user_id`` None reads no counts.
    """
    return _stock_levels(session_id, ticket_key=keys.ticket(session_id, "-"), user="-" if user_id is None else user_id)


def stock_levels_with_ticket(session_id: int, *, session_key: str | None) -> dict | None:
    """``stock_levels`` for the shopper named by the browser session's reserve ticket: no session read.

    Raises TicketNotAccepted("no_ticket") when there is no session key or that session has no
    ticket for this sale (not logged in, never visited its page, or the ticket expired); the
    caller then reads the session for the user.
    """
    if not session_key:
        raise TicketNotAccepted("no_ticket")
    return _stock_levels(session_id, ticket_key=tickets.ticket_key(session_id, session_key), user="")


def _stock_levels(session_id: int, *, ticket_key: str, user) -> dict | None:
    reply = _run(
        "stock_levels",
        keys_=[keys.session(session_id), keys.items(session_id), ticket_key],
        args=[keys.stock(session_id, ""), keys.user(session_id, ""), str(user)],  # type: ignore[arg-type]
    )
    code = as_str(reply[0])
    if code == "no_session":
        return None
    if code == "no_ticket":
        raise TicketNotAccepted(code)
    _, starts_at, ends_at, state, levels, raw_held = reply
    held = {as_int(k): as_int(v) for k, v in zip(raw_held[::2], raw_held[1::2], strict=True)}
    return {
        "session": session_id,
        "starts_at": float(as_str(starts_at)),
        "ends_at": float(as_str(ends_at)),
        "state": as_str(state),
        "items": {
            as_str(item_id): {"remaining": int(remaining), "yours": held.get(as_int(item_id), 0)}
            for item_id, remaining in zip(levels[::2], levels[1::2], strict=True)
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
        if as_str(place) == city and lat is not None and lon is not None:
            return float(as_str(lat)), float(as_str(lon))
    return None


def sessions_between(start: float, end: float) -> list[SessionInfo]:
    """Loaded sessions whose window overlaps [start, end), by start time (the home page)."""
    r = sale_redis()
    ids = [as_int(m) for m in r.zrangebyscore(keys.sessions_index(), "-inf", end)]
    if not ids:
        return []
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
    r = sale_redis()
    found: list[HeldReservation] = []
    for session_id in loaded_session_ids() if session_ids is None else session_ids:
        txn_ids = sorted(as_str(t) for t in r.smembers(keys.user_txns(session_id, user_id)))
        if not txn_ids:
            continue
        pipe = r.pipeline(transaction=False)
        pipe.hget(keys.session(session_id), "name")
        for txn_id in txn_ids:
            pipe.hgetall(keys.txn(session_id, txn_id))
        session_name, *raws = pipe.execute()
        txns = [(txn_id, _decode_map(raw)) for txn_id, raw in zip(txn_ids, raws, strict=True) if raw]
        pipe = r.pipeline(transaction=False)
        for _, data in txns:
            pipe.hget(keys.item(session_id, as_int(data.get("item"))), "name")
        names = pipe.execute()
        for (txn_id, data), name in zip(txns, names, strict=True):
            found.append(
                HeldReservation(
                    txn_id=txn_id,
                    session_id=session_id,
                    session_name=as_str(session_name) or "",
                    item_id=as_int(data.get("item")),
                    item_name=as_str(name) or "",
                    user_id=user_id,
                    units=tuple(json.loads(data.get("units") or "[]")),
                    quantity=as_int(data.get("quantity")),
                    amount=Decimal(data.get("amount") or "0"),
                    currency=data.get("currency", ""),
                    status=data.get("status", ""),
                    reserved_at=float(data.get("reserved_at") or 0),
                    expires_at=float(data.get("expires_at") or 0),
                )
            )
    return found


# --- restoring after Redis lost a session (rebuild_session) ------------------------------------


@dataclass(frozen=True)
class RestoredItem:
    item_id: int
    units: list[str]
    issued: int
    counts: dict[str, int]


def restored_txn(txn) -> dict[str, str]:
    """The txn hash of a persisted Transaction (``reservations.models.Transaction``)."""
    status = "paid_after_expiry" if txn.paid_after_expiry else txn.status
    data = {
        "txn": txn.txn_id,
        "user": str(txn.user_id),
        "session": str(txn.session_id),
        "item": str(txn.item_id),
        "units": json.dumps(list(txn.units)),
        "quantity": str(txn.quantity),
        "amount": str(txn.amount),
        "currency": txn.currency,
        "status": status,
        "reserved_at": _num(txn.reserved_at.timestamp()),
        "expires_at": f"{txn.expires_at.timestamp():.3f}",
        "entered_at": _num(txn.entered_at.timestamp()) if txn.entered_at else "",
        "latitude": str(txn.latitude) if txn.latitude is not None else "",
        "longitude": str(txn.longitude) if txn.longitude is not None else "",
        "kid": txn.token.split(".")[1] if txn.token.count(".") == 2 else "",
    }
    if txn.paid_at:
        data["paid_at"] = _num(txn.paid_at.timestamp())
    if txn.gateway_order_id:
        data["gateway_order_id"] = txn.gateway_order_id
    if txn.paid_after_expiry:
        data["released_as"] = txn.status
        data["refund_due"] = "1"
    return data


def write_restored_state(session_id: int, *, items: list[RestoredItem], transactions: list[dict[str, str]]) -> None:
    """Write stock lists, counts, holds, user counts and txn hashes in one MULTI (one slot).

    The session hash is not written here: until ``plans.loading`` writes it, the reserve script
    refuses the session, so nobody reserves from a half-restored state.
    """
    pipe = sale_redis().pipeline(transaction=True)
    for item in items:
        pipe.delete(keys.stock(session_id, item.item_id))
        for start in range(0, len(item.units), 5000):
            pipe.rpush(keys.stock(session_id, item.item_id), *item.units[start : start + 5000])
        counts = (
            dict.fromkeys(("rejected_sold_out", "rejected_limit", "rejected_rate_limited", "rejected_closed"), 0)
            | item.counts
        )
        pipe.hset(keys.counts(session_id, item.item_id), mapping=counts)
        # Marks the item's stock as present, so loading does not push a fresh full list.
        pipe.hset(keys.loaded(session_id), str(item.item_id), item.issued)
    for data in transactions:
        user_id, item_id, txn_id = int(data["user"]), int(data["item"]), data["txn"]
        pipe.hset(keys.txn(session_id, txn_id), mapping=data)
        pipe.sadd(keys.user_txns(session_id, user_id), txn_id)
        if data["status"] in {"reserved", "paid"}:
            pipe.hincrby(keys.user(session_id, user_id), str(item_id), int(data["quantity"]))
        if data["status"] == "reserved":
            pipe.zadd(keys.holds(session_id), {txn_id: float(data["expires_at"])})
    pipe.execute()
