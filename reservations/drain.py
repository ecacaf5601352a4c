"""Persisting the reservation stream to PostgreSQL: at least once, idempotently, in batches.

The hot path only appends events to the session's stream. A consumer group reads them; each batch
is upserted by TransactionID in one database transaction, and acknowledged (then deleted from the
stream) only after the commit. A drainer killed between commit and acknowledgement leaves the batch
pending: the next run re-reads it and the upsert makes the second write a no-op.

One drainer at a time persists a session: it holds the session's ``drain_lock`` (redis-py's
``Lock``: released atomically, renewed by a thread while the drain runs). Each process reads
under a consumer name of its own; a killed drainer's lock runs out after
``FLASHSALE_DRAIN_LOCK_SECONDS`` and the next drainer claims its pending events.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import secrets
import socket
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.db import DataError, IntegrityError, connection, transaction
from redis.exceptions import LockError

from flashsale.store import keys
from flashsale.store.client import sale_redis
from flashsale.store.replies import decode_map, text
from flashsale.store.scripts import lua_script
from reservations import mails
from reservations.display import SessionDisplay, loaded_display
from reservations.models import Transaction
from reservations.states import NEXT_STATUSES, ReservationStatus
from reservations.tokens import TokenClaims, TokenError, sign_token
from reservations.txns import spread

log = logging.getLogger(__name__)

TIMELINE_COUNT = lua_script(Path(__file__).resolve().parent / "lua" / "timeline_count.lua")

GROUP = "drainer"

# Status only moves forward (``reservations.states.NEXT_STATUSES``): a late event never undoes a later one.
FORWARD = NEXT_STATUSES
UPDATED_FIELDS = ["status", "paid_at", "paid_after_expiry", "gateway_order_id", "updated_at"]

Event = tuple[str, dict[str, str]]


class DrainInterrupted(Exception):
    """Raised by a ``before_ack`` hook in tests to stop a drain between commit and acknowledgement."""


def _dt(value: str | None) -> datetime | None:
    return datetime.fromtimestamp(float(value), tz=UTC) if value else None


def _coordinate(value: str | None) -> Decimal | None:
    return Decimal(value).quantize(Decimal("0.000001")) if value else None


def _status_of(fields: dict[str, str]) -> str:
    return fields.get("status", ReservationStatus.RESERVED)


def _token_for(fields: dict[str, str], session_id: int, names: _Names) -> str:
    """The token the shopper was sent, signed again (signing is deterministic for the same key and claims).

    The names come from the display data as the drainer reads it; a reserve request answered by a
    process that had not shown the sale yet sent a token without them (both verify alike).
    """
    kid = fields.get("kid", "")
    if kid not in settings.FLASHSALE_TOKEN_KEYS:
        return ""
    try:
        claims = TokenClaims(
            txn_id=fields["txn"],
            user_id=int(fields["user"]),
            session_id=session_id,
            item_id=int(fields["item"]),
            units=int(fields["quantity"]),
            amount=fields["amount"],
            currency=fields["currency"],
            expires_at=int(float(fields["expires_at"])),
            item_name=names.item(int(fields["item"])),
            session_name=names.session,
        )
        return sign_token(claims, keys=settings.FLASHSALE_TOKEN_KEYS, kid=kid)
    except (KeyError, ValueError, TokenError):
        return ""


def _required_dt(value: str) -> datetime:
    return datetime.fromtimestamp(float(value), tz=UTC)


class _Names:
    """The sale's and its products' names for the tokens of one batch, read once and only if needed."""

    def __init__(self, session_id: int):
        self.session_id = session_id

    @functools.cached_property
    def shown(self) -> SessionDisplay | None:
        return loaded_display(self.session_id)

    @property
    def session(self) -> str:
        return self.shown.session_name if self.shown is not None else ""

    def item(self, item_id: int) -> str:
        item = self.shown.items.get(item_id) if self.shown is not None else None
        return item.name if item is not None else ""


def _new_row(session_id: int, fields: dict[str, str], names: _Names) -> Transaction:
    reserved_at = _required_dt(fields["reserved_at"])
    return Transaction(
        txn_id=fields["txn"],
        user_id=int(fields["user"]),
        session_id=session_id,
        item_id=int(fields["item"]),
        units=_units(fields.get("units")),
        quantity=int(fields["quantity"]),
        amount=Decimal(fields["amount"]),
        currency=fields.get("currency", ""),
        latitude=_coordinate(fields.get("latitude")),
        longitude=_coordinate(fields.get("longitude")),
        status=Transaction.Status.RESERVED,
        token=_token_for(fields, session_id, names),
        entered_at=_dt(fields.get("entered_at")),
        reserved_at=reserved_at,
        # The 303 to the gateway is the response of the reserve request itself.
        redirected_at=reserved_at,
        expires_at=_required_dt(fields["expires_at"]),
    )


def _units(raw: str | None) -> list[str]:
    return list(json.loads(raw)) if raw else []


def _apply(row: Transaction, fields: dict[str, str]) -> bool:
    """Move ``row`` forward to what the event says; True if anything changed."""
    changed = False
    status = _status_of(fields)
    if status in FORWARD.get(row.status, set()):
        row.status = status
        changed = True
    if fields.get("paid_at") and row.paid_at is None:
        row.paid_at = _dt(fields["paid_at"])
        changed = True
    if fields.get("gateway_order_id") and not row.gateway_order_id:
        row.gateway_order_id = fields["gateway_order_id"]
        changed = True
    if fields.get("status") == ReservationStatus.PAID_AFTER_EXPIRY and not row.paid_after_expiry:
        row.paid_after_expiry = True
        changed = True
    return changed


def persist_events(session_id: int, events: Iterable[Event]) -> int:
    """Upsert the transactions the events describe, in one database transaction; returns rows touched."""
    latest: dict[str, list[dict[str, str]]] = {}
    for _, fields in events:
        if fields.get("txn"):
            latest.setdefault(fields["txn"], []).append(fields)
    if not latest:
        return 0
    names = _Names(session_id)
    with transaction.atomic():
        existing = {t.txn_id: t for t in Transaction.objects.select_for_update().filter(txn_id__in=list(latest))}
        created: list[Transaction] = []
        changed: list[Transaction] = []
        for txn_id, history in latest.items():
            found = existing.get(txn_id)
            is_new = found is None
            row = _new_row(session_id, history[0], names) if found is None else found
            touched = [_apply(row, fields) for fields in history]
            if is_new:
                created.append(row)
            elif any(touched):
                changed.append(row)
        Transaction.objects.bulk_create(created)
        held = [row.txn_id for row in created if row.status == ReservationStatus.RESERVED]
        if held:
            # The pay link and deadline, by mail, once this batch is committed (never on the reserve request).
            mails.after_commit("send_reservation_mails", held)
        if changed:
            now = datetime.now(tz=UTC)
            for row in changed:
                row.updated_at = now
            Transaction.objects.bulk_update(changed, UPDATED_FIELDS)
        # Foreign keys are checked at commit by default; checking here makes a bad record fail
        # inside this block, also when it runs nested in an outer transaction.
        connection.check_constraints()
    return len(created) + len(changed)


def _persist_one_by_one(session_id: int, events: list[Event]) -> None:
    """Fallback when a batch fails: keep the good events, log and skip the poisoned ones."""
    for event in events:
        try:
            persist_events(session_id, [event])
        except (IntegrityError, DataError, KeyError, ValueError, ArithmeticError) as exc:
            # Acknowledged anyway: a record that can never be written must not block the stream.
            log.error("session %s: stream event %s cannot be persisted, skipped: %s", session_id, event[0], exc)


def _decode(entries) -> list[Event]:
    events = []
    for entry_id, raw in entries or []:
        # A pending entry deleted from the stream comes back with no fields.
        fields = decode_map(raw or {})
        events.append((text(entry_id), reservation_event(fields)))
    return events


def reservation_event(fields: dict[str, str]) -> dict[str, str]:
    """A stream entry in one form: the reserve script writes ``reserved`` = the TransactionID (two
    arguments instead of four on the hot path); earlier releases wrote ``type`` and ``txn``."""
    if "reserved" in fields and "type" not in fields:
        return {"type": "reserved", "txn": fields["reserved"]}
    return fields


_consumer: tuple[int, str] | None = None


def consumer_name() -> str:
    """This process's consumer in the stream's group: host, pid and a random part (a reused pid is a new name).

    Computed again after a fork (Celery's prefork workers), so no two processes share a name.
    """
    global _consumer
    pid = os.getpid()
    if _consumer is None or _consumer[0] != pid:
        _consumer = (pid, f"{socket.gethostname()}-{pid}-{secrets.token_hex(3)}")
    return _consumer[1]


class SessionLock:
    """The session's drain lock while this process holds it; ``lost`` once it could not be renewed."""

    def __init__(self, lock):
        self._lock = lock
        self._stop = threading.Event()
        self.lost = False

    def keep_renewed(self, every: float) -> None:
        while not self._stop.wait(every):
            try:
                # Back to the full TTL; atomic (a Lua script checks the token is still ours).
                self._lock.reacquire()
            except LockError:
                self.lost = True
                log.warning("drain lock %s was lost (expired before it was renewed)", self._lock.name)
                return
            except Exception as exc:  # Redis unreachable: try again next time; the TTL is the safety net
                log.warning("drain lock %s not renewed: %s", self._lock.name, exc)


@contextmanager
def session_lock(r, session_id: int) -> Iterator[SessionLock | None]:
    """Hold the session's drain lock for the block (None: another drainer holds it).

    The lock lives ``FLASHSALE_DRAIN_LOCK_SECONDS`` and a thread renews it every third of that
    while the block runs, so a long batch keeps it and a killed process loses it within the TTL.
    """
    ttl = settings.FLASHSALE_DRAIN_LOCK_SECONDS
    lock = r.lock(keys.drain_lock(session_id), timeout=ttl, blocking=False, thread_local=False)
    if not lock.acquire(blocking=False):
        yield None
        return
    held = SessionLock(lock)
    renewer = threading.Thread(target=held.keep_renewed, args=(ttl / 3,), name=f"drain-lock-{session_id}", daemon=True)
    renewer.start()
    try:
        yield held
    finally:
        held._stop.set()
        renewer.join()
        try:
            lock.release()
        except LockError:
            pass  # it ran out meanwhile (and may be someone else's now): nothing of ours to release


def _read(r, stream: str, consumer: str, start: str, count: int) -> list[Event]:
    reply = r.xreadgroup(GROUP, consumer, {stream: start}, count=count)
    return _decode(reply[0][1]) if reply else []


def _ensure_group(r, stream: str) -> bool:
    if not r.exists(stream):
        return False
    try:
        r.xgroup_create(stream, GROUP, id="0")
    except Exception as exc:  # BUSYGROUP: it already exists
        if "BUSYGROUP" not in str(exc):
            raise
    return True


def drain_session(
    session_id: int,
    *,
    batch_size: int | None = None,
    consumer: str | None = None,
    before_ack: Callable[[list[str]], None] | None = None,
) -> int:
    """Persist the session's pending and new stream events; returns how many events were handled.

    ``batch_size`` defaults to ``FLASHSALE_DRAIN_BATCH_SIZE``, ``consumer`` to this process's
    name. ``before_ack`` runs after each batch's commit and before its acknowledgement (tests use
    it to simulate a crash there).
    """
    size = batch_size or settings.FLASHSALE_DRAIN_BATCH_SIZE
    consumer = consumer or consumer_name()
    r = sale_redis()
    stream = keys.stream(session_id)
    if not _ensure_group(r, stream):
        return 0
    with session_lock(r, session_id) as held:
        if held is None:
            return 0  # another drainer is on this session right now
        handled = 0
        # First what this consumer read before and never acknowledged (a crash), then entries
        # other consumers left (their drainer died: it no longer holds the lock), then new ones.
        while not held.lost and (batch := _read(r, stream, consumer, "0", size)):
            handled += _handle(r, session_id, stream, batch, before_ack)
            if len(batch) < size:
                break
        handled += _claim_abandoned(r, session_id, stream, consumer, size, before_ack, held)
        while not held.lost and (batch := _read(r, stream, consumer, ">", size)):
            handled += _handle(r, session_id, stream, batch, before_ack)
        _forget_idle_consumers(r, stream, consumer)
    return handled


def _claim_abandoned(r, session_id: int, stream: str, consumer: str, size: int, before_ack, held) -> int:
    """Take over and persist the entries other consumers read and never acknowledged.

    They are claimed once idle for ``FLASHSALE_DRAIN_CLAIM_IDLE_MS`` (at most the lock's TTL):
    a consumer that still held the lock would have kept its entries younger than that.
    """
    handled, cursor = 0, "0-0"
    while not held.lost:
        reply = r.xautoclaim(
            stream, GROUP, consumer, min_idle_time=settings.FLASHSALE_DRAIN_CLAIM_IDLE_MS, start_id=cursor, count=size
        )
        cursor, entries = text(reply[0]), reply[1]
        if entries:
            handled += _handle(r, session_id, stream, _decode(entries), before_ack)
        if cursor == "0-0" or not entries:
            return handled
    return handled


def _forget_idle_consumers(r, stream: str, consumer: str) -> None:
    """Delete the group's other consumers that hold nothing (every drainer that ever ran left one).

    Only consumers with no pending entry: deleting one with pending entries would lose them.
    """
    for info in r.xinfo_consumers(stream, GROUP):
        name = text(info["name"])
        if (
            name != consumer
            and int(info["pending"]) == 0
            and int(info["idle"]) > settings.FLASHSALE_DRAIN_CLAIM_IDLE_MS
        ):
            r.xgroup_delconsumer(stream, GROUP, name)


def _hydrate(r, session_id: int, events: list[Event]) -> list[Event]:
    """Fill in the reservation events: the reserve script appends only the TransactionID (keeping
    the hot path short); the transaction's hash in Redis holds the rest. Every event's packed
    ``placed`` field (the hash's, copied by release and pay) is spread out (``reservations.txns``)."""
    pointers = [index for index, (_, fields) in enumerate(events) if fields.get("txn") and "user" not in fields]
    hydrated = list(events)
    if pointers:
        pipe = r.pipeline(transaction=False)
        for index in pointers:
            pipe.hgetall(keys.txn(session_id, events[index][1]["txn"]))
        for index, raw in zip(pointers, pipe.execute(), strict=True):
            entry_id, fields = events[index]
            # The hash may already say paid or expired: the upsert moves the row forward to it.
            hydrated[index] = (entry_id, {**decode_map(raw), **fields})
    return [(entry_id, spread(fields)) for entry_id, fields in hydrated]


def _handle(r, session_id: int, stream: str, batch: list[Event], before_ack) -> int:
    live = _hydrate(r, session_id, [event for event in batch if event[1]])
    try:
        persist_events(session_id, live)
    except (IntegrityError, DataError, KeyError, ValueError, ArithmeticError) as exc:
        log.warning("session %s: batch of %d events failed (%s); persisting one by one", session_id, len(live), exc)
        _persist_one_by_one(session_id, live)
    ids = [entry_id for entry_id, _ in batch]
    if before_ack is not None:
        before_ack(ids)
    _count_in_timeline(r, session_id, live)
    pipe = r.pipeline(transaction=True)
    pipe.xack(stream, GROUP, *ids)
    # Acknowledged events live on in PostgreSQL; deleting them keeps the stream small.
    pipe.xdel(stream, *ids)
    pipe.execute()
    return len(batch)


def _count_in_timeline(r, session_id: int, events: list[Event]) -> int:
    """Reservations per minute for the live page's timeline, counted here rather than on the hot path.

    Each reservation is counted once, however often its event is delivered (``timeline_count.lua``
    marks its hash in the same step). Returns how many were counted now.
    """
    pairs = [
        part
        for _, fields in events
        if fields.get("type") == "reserved" and fields.get("txn") and fields.get("reserved_at")
        for part in (fields["txn"], str(int(float(fields["reserved_at"])) // 60))
    ]
    if not pairs:
        return 0
    return int(TIMELINE_COUNT(keys=[keys.timeline(session_id)], args=[keys.txn(session_id, ""), *pairs], client=r))


def drain_loaded_sessions(*, batch_size: int | None = None) -> dict[int, int]:
    """Drain every session in the index; session id -> events handled."""
    from reservations.availability import loaded_session_ids

    return {sid: drain_session(sid, batch_size=batch_size) for sid in loaded_session_ids()}


@dataclass(frozen=True)
class DrainLag:
    """Events of a session's stream not yet persisted, and how long the oldest has waited (seconds).

    Persisted events are acknowledged and deleted, so whatever is still in the stream is pending.
    The age is taken from the entry's id (Redis's own clock at XADD) against Redis's clock now.
    """

    pending: int
    oldest_age: float


def redis_now(r) -> float:
    seconds, micros = r.time()
    return seconds + micros / 1_000_000


def drain_lag(session_id: int, *, now: float, client=None) -> DrainLag:
    r = client or sale_redis()
    stream = keys.stream(session_id)
    pipe = r.pipeline(transaction=False)
    pipe.xlen(stream)
    pipe.xrange(stream, count=1)
    length, first = pipe.execute()
    if not first:
        return DrainLag(pending=int(length), oldest_age=0.0)
    appended_ms = int(text(first[0][0]).split("-", 1)[0])
    return DrainLag(pending=int(length), oldest_age=max(0.0, now - appended_ms / 1000))


def oldest_pending_age() -> float:
    """The drain lag of the whole site: the oldest unpersisted event of any loaded session (0 if none)."""
    from reservations.availability import loaded_session_ids

    r = sale_redis()
    now = redis_now(r)
    return max((drain_lag(sid, now=now, client=r).oldest_age for sid in loaded_session_ids()), default=0.0)
