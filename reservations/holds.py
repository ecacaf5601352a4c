"""The hold path: reserve units, release a hold, confirm its payment — each one atomic Lua script.

Scripts live beside this module (``lua/reserve.lua``, ``release.lua``, ``pay.lua``), each with its
contract in a header comment; keys come from ``flashsale.store.keys`` only. Time is always passed
in by the caller (``flashsale.clock``), never read from Redis, so tests drive it.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings

from flashsale.clock import as_timestamp
from flashsale.store import keys
from flashsale.store.client import is_cluster, sale_redis
from flashsale.store.replies import as_int, decode_fields, decode_map, decode_reply, lua_number, text
from flashsale.store.scripts import lua_script
from reservations import refusals, tickets, txns
from reservations.rate_limits import NO_RATE_LIMITS, RateLimits, rate_args
from reservations.rate_limits import RateLimit as RateLimit  # re-exported: callers build requests here
from reservations.rate_limits import reserve_rate_limits as reserve_rate_limits
from reservations.shopper import item_txn_suffix
from reservations.states import PaymentResult, ReservationStatus
from reservations.tickets import Ticket

LUA_DIR = Path(__file__).resolve().parent / "lua"
RESERVE = lua_script(LUA_DIR / "reserve.lua")
RELEASE = lua_script(LUA_DIR / "release.lua")
PAY = lua_script(LUA_DIR / "pay.lua")


# --- reserving ---------------------------------------------------------------------------------


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
    status: str = ReservationStatus.RESERVED
    replayed: bool = False
    session_ends_at: float | None = None


@dataclass(frozen=True)
class TicketHolder:
    """The shopper named by their browser session's reserve ticket (``reservations.tickets``).

    The script takes the user, passes, visit and location from the ticket: one round trip, no
    session read. ``require_admission``: the waiting room is on, so the ticket must carry a pass.
    """

    session_key: str
    require_admission: bool


@dataclass(frozen=True)
class KnownShopper:
    """The caller names the shopper and the TransactionID (tools, tests, the session fallback).

    ``ticket``: (session key, ticket) to store in the same script call, so the shopper's next
    click takes the one-round-trip path (the session fallback does this).
    """

    user_id: int
    txn_id: str
    entered_at: float | None = None
    latitude: float | None = None
    longitude: float | None = None
    ticket: tuple[str, Ticket] | None = None


@dataclass(frozen=True)
class ReserveRequest:
    """One reservation to decide: which item, how many, when, for whom, under which limits."""

    session_id: int
    item_id: int
    quantity: int
    now: float
    shopper: TicketHolder | KnownShopper
    client_ip: str | None = None
    rate_limits: RateLimits = NO_RATE_LIMITS
    ttl_seconds: int | None = None


# The reserve script's answers, by result code (see the header of lua/reserve.lua).
@dataclass(frozen=True)
class _Reserved:
    """A new hold: the quantity and the expiry are the request's (ARGV 3 and 5), not sent back."""

    units_json: str
    amount: Decimal
    currency: str
    session_ends_at: float
    txn_id: str
    user_id: int


@dataclass(frozen=True)
class _Replayed:
    """A TransactionID seen before: the stored hold, whatever this request asked."""

    units_json: str
    quantity: int
    amount: Decimal
    currency: str
    expires_at: float
    status: str
    txn_id: str
    user_id: int


@dataclass(frozen=True)
class _SoldOut:
    remaining: int


@dataclass(frozen=True)
class _Limit:
    held: int
    limit: int


@dataclass(frozen=True)
class _At:
    """``not_open`` (the opening) or ``closed`` (the end)."""

    at: float


@dataclass(frozen=True)
class _RateLimited:
    retry_after: float


@dataclass(frozen=True)
class _Code:
    """A bare result code: no_session, no_item, conflict, no_ticket, no_pass, not_admitted."""


_RESERVE_REPLIES: dict[str, type] = {
    "reserved": _Reserved,
    "replayed": _Replayed,
    "sold_out": _SoldOut,
    "limit": _Limit,
    "not_open": _At,
    "closed": _At,
    "rate_limited": _RateLimited,
    **dict.fromkeys(("no_session", "no_item", "conflict", "no_ticket", "no_pass", "not_admitted"), _Code),
}
_TICKET_REFUSALS = frozenset({"no_ticket", "no_pass", "not_admitted"})


def reservation_ttl_seconds() -> int:
    return int(settings.FLASHSALE_RESERVATION_TTL_SECONDS)


def _reserve_args(request: ReserveRequest) -> tuple[list[str], list[str]]:
    """The reserve script's KEYS and ARGV for ``request`` (order: the header of lua/reserve.lua)."""
    sid, now = request.session_id, request.now
    user_window, user_args = rate_args(now, request.rate_limits.user)
    ip_window, ip_args = rate_args(now, request.rate_limits.ip if request.client_ip else None)
    # The user's window lives in their user hash ("rate" = "<window>:<attempts>"): it is named here.
    user_args.append(str(user_window))
    shopper = request.shopper
    if isinstance(shopper, TicketHolder):
        mode, ticket = "ticket", tickets.ticket_key(sid, shopper.session_key)
        mode_args = ["1" if shopper.require_admission else "0", item_txn_suffix(request.item_id)]
    else:
        mode = "direct"
        ticket = keys.ticket(sid, "-") if shopper.ticket is None else tickets.ticket_key(sid, shopper.ticket[0])
        optional = (shopper.entered_at, shopper.latitude, shopper.longitude)
        mode_args = [
            shopper.txn_id,
            str(shopper.user_id),
            *("" if value is None else lua_number(value) for value in optional),
            *_stored_ticket_args(shopper),
        ]
    script_keys = [
        *_item_keys(sid, request.item_id),
        ticket,
        keys.rate_window(sid, "ip", request.client_ip or "-", ip_window),
    ]
    args = [
        mode,
        str(request.item_id),
        str(request.quantity),
        lua_number(now),
        _expiry(request),
        settings.FLASHSALE_TOKEN_SIGNING_KEY_ID,
        *user_args,
        *ip_args,
        *_reserve_prefixes(sid),
        *mode_args,
    ]
    return script_keys, args


def _expiry(request: ReserveRequest) -> str:
    """ARGV 5: the expiry as the txn hash keeps it (milliseconds), formatted here, not in the script."""
    ttl = reservation_ttl_seconds() if request.ttl_seconds is None else request.ttl_seconds
    return f"{request.now + int(ttl):.3f}"


@functools.lru_cache(maxsize=4096)
def _item_keys(session_id: int, item_id: int) -> tuple[str, ...]:
    """KEYS 1..6 of the reserve script: the same for every click on the item, so built once."""
    return (
        keys.session(session_id),
        keys.item(session_id, item_id),
        keys.stock(session_id, item_id),
        keys.counts(session_id, item_id),
        keys.holds(session_id),
        keys.stream(session_id),
    )


_reserve_prefixes = functools.lru_cache(maxsize=1024)(keys.reserve_prefixes)


def _stored_ticket_args(shopper: KnownShopper) -> list[str]:
    """ARGV 20.. of the direct mode: the ticket's lifetime and fields, as ``tickets.store_tickets`` writes them."""
    if shopper.ticket is None:
        return [""]
    fields = tickets.ticket_fields(shopper.ticket[1])
    return [str(tickets.lifetime_seconds()), *(part for pair in fields.items() for part in pair)]


def reserve(request: ReserveRequest, *, client: Any = None) -> Reservation:
    """Reserve ``request.quantity`` units in one EVALSHA; raise a ``ReservationRejected`` if refused.

    Idempotent on the TransactionID: a retry returns the same Reservation (``replayed=True``).
    The rate limits are counted by the same script, so limiting costs no extra round trip.
    Raises ``TicketNotAccepted`` when a ``TicketHolder``'s ticket cannot decide alone.
    """
    if request.quantity < 1:
        raise ValueError("quantity must be at least 1")
    script_keys, args = _reserve_args(request)
    raw = RESERVE(keys=script_keys, args=args, client=client)
    code = text(raw[0])
    reply: object = decode_reply(raw, _RESERVE_REPLIES)
    if isinstance(reply, _Reserved):
        return Reservation(
            session_id=request.session_id,
            item_id=request.item_id,
            txn_id=reply.txn_id,
            user_id=reply.user_id,
            units=tuple(json.loads(reply.units_json)),
            quantity=request.quantity,
            amount=reply.amount,
            currency=reply.currency,
            expires_at=float(args[4]),  # ARGV 5, as the txn hash keeps it
            session_ends_at=reply.session_ends_at,
        )
    if isinstance(reply, _Replayed):
        return Reservation(
            session_id=request.session_id,
            item_id=request.item_id,
            txn_id=reply.txn_id,
            user_id=reply.user_id,
            units=tuple(json.loads(reply.units_json)),
            quantity=reply.quantity,
            amount=reply.amount,
            currency=reply.currency,
            expires_at=reply.expires_at,
            status=reply.status,
            replayed=True,
        )
    raise _refusal(code, reply, request)


def _refusal(code: str, reply: object, request: ReserveRequest) -> Exception:
    ids = {"session_id": request.session_id, "item_id": request.item_id}
    if isinstance(reply, _SoldOut):
        return refusals.SoldOut(**ids, remaining=reply.remaining, requested=request.quantity)
    if isinstance(reply, _Limit):
        return refusals.LimitReached(**ids, held=reply.held, limit=reply.limit, requested=request.quantity)
    if isinstance(reply, _At):
        if code == "not_open":
            return refusals.NotOpenYet(**ids, starts_at=reply.at)
        return refusals.SessionClosed(**ids, ends_at=reply.at)
    if isinstance(reply, _RateLimited):
        return refusals.RateLimited(**ids, retry_after=reply.retry_after)
    if code == "conflict":
        return refusals.TransactionConflict("This transaction id already names another reservation.", **ids)
    if code in _TICKET_REFUSALS:
        return refusals.TicketNotAccepted(code)
    return refusals.UnknownSaleItem("No such item on sale in this session.", **ids)


def reserve_units(
    session_id: int,
    item_id: int,
    *,
    user_id: int,
    quantity: int,
    txn_id: str,
    now: datetime | float,
    client: Any = None,
) -> Reservation:
    """Reserve for a named shopper and TransactionID, without rate limits (tools and tests).

    ``reserve`` with a ``KnownShopper``; build a ``ReserveRequest`` for anything more.
    """
    request = ReserveRequest(
        session_id=session_id,
        item_id=item_id,
        quantity=quantity,
        now=as_timestamp(now),
        shopper=KnownShopper(user_id=user_id, txn_id=txn_id),
    )
    return reserve(request, client=client)


# --- releasing and paying ----------------------------------------------------------------------


def _txn_keys(session_id: int, txn_id: str, *, item_id: int, user_id: int) -> list[str]:
    return [
        keys.txn(session_id, txn_id),
        keys.stock(session_id, item_id),
        keys.counts(session_id, item_id),
        keys.user(session_id, user_id),
        keys.holds(session_id),
        keys.stream(session_id),
        keys.session(session_id),
    ]


def _txn_owner(r: Any, session_id: int, txn_id: str) -> tuple[int, int] | None:
    item, user = r.hmget(keys.txn(session_id, txn_id), ["item", "user"])
    if item is None or user is None:
        return None
    return as_int(item), as_int(user)


@dataclass(frozen=True)
class _ReleaseReply:
    """``release.lua``: released | noop | not_due | unknown, and a detail (reason, status, expiry)."""

    outcome: str
    detail: str


def _released(raw: object) -> bool:
    return isinstance(raw, list) and decode_fields(_ReleaseReply, raw).outcome == "released"


def release_hold(session_id: int, txn_id: str, *, reason: str = "cancelled", now: datetime | float) -> bool:
    """Give a hold's units back exactly once; True if this call released it.

    ``reason`` is ``cancelled`` (the shopper gave up) or ``expired`` (only once due).
    """
    if reason not in {ReservationStatus.CANCELLED, ReservationStatus.EXPIRED}:
        raise ValueError("reason must be 'cancelled' or 'expired'")
    r = sale_redis()
    owner = _txn_owner(r, session_id, txn_id)
    if owner is None:
        r.zrem(keys.holds(session_id), txn_id)
        return False
    item_id, user_id = owner
    raw = RELEASE(
        keys=_txn_keys(session_id, txn_id, item_id=item_id, user_id=user_id),
        args=[txn_id, reason, lua_number(as_timestamp(now)), "1" if reason == ReservationStatus.EXPIRED else "0"],
        client=r,
    )
    return _released(raw)


def expire_holds(session_id: int, *, now: datetime | float, batch_size: int = 500) -> int:
    """Release every hold of the session whose expiry has passed; returns how many were released."""
    r = sale_redis()
    now_ts = as_timestamp(now)
    released = 0
    while True:
        due = [text(t) for t in r.zrangebyscore(keys.holds(session_id), "-inf", now_ts, start=0, num=batch_size)]
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
                RELEASE(
                    keys=_txn_keys(session_id, txn_id, item_id=as_int(item), user_id=as_int(user)),
                    args=[txn_id, ReservationStatus.EXPIRED, lua_number(now_ts), "1"],
                    client=target,
                )
            )
        if target is not r:
            replies = target.execute()
        released += sum(1 for reply in replies if _released(reply))
        if len(due) < batch_size:
            return released


@dataclass(frozen=True)
class PaymentOutcome:
    """What confirming a payment did. ``changed`` is False for a replay or a refusal (``PaymentResult``)."""

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


@dataclass(frozen=True)
class _PayReply:
    """``pay.lua``: the outcome (``PaymentResult``) and the txn's status after it."""

    outcome: str
    status: str


def confirm_payment(
    session_id: int,
    txn_id: str,
    *,
    gateway_order_id: str,
    amount: Decimal | str,
    now: datetime | float,
    currency: str = "",
) -> PaymentOutcome:
    """Record the gateway's payment for a hold, atomically against its expiry. Safe to repeat.

    Another amount or ``currency`` than the hold's refuses it (``amount_mismatch``); without a
    currency only the amount is compared.
    """
    r = sale_redis()
    owner = _txn_owner(r, session_id, txn_id)
    if owner is None:
        return PaymentOutcome(
            outcome=PaymentResult.UNKNOWN, session_id=session_id, txn_id=txn_id, status="", changed=False
        )
    item_id, user_id = owner
    reply = decode_fields(
        _PayReply,
        PAY(
            keys=_txn_keys(session_id, txn_id, item_id=item_id, user_id=user_id),
            args=[txn_id, lua_number(as_timestamp(now)), str(gateway_order_id), str(Decimal(str(amount))), currency],
            client=r,
        ),
    )
    txn = transaction_state(session_id, txn_id)
    return PaymentOutcome(
        outcome=reply.outcome,
        session_id=session_id,
        txn_id=txn_id,
        status=txn.get("status", reply.status),
        # A payment of another amount changes the reservation too: it is refused from then on.
        changed=reply.outcome in {PaymentResult.PAID, PaymentResult.PAID_AFTER_EXPIRY, PaymentResult.AMOUNT_MISMATCH},
        refund_due=txn.get("refund_due") == "1",
        user_id=user_id,
        item_id=item_id,
        quantity=as_int(txn.get("quantity")),
        amount=Decimal(txn["amount"]) if txn.get("amount") else None,
        currency=txn.get("currency", ""),
    )


def transaction_state(session_id: int, txn_id: str) -> dict[str, str]:
    """The txn hash, its packed ``placed`` field spread out and ``txn`` named (``reservations.txns``;
    empty when unknown)."""
    stored = decode_map(sale_redis().hgetall(keys.txn(session_id, txn_id)))
    return {"txn": txn_id, **txns.spread(stored)} if stored else {}
