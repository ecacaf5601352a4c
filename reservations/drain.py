"""Persisting the reservation stream to PostgreSQL: at least once, idempotently, in batches.

The hot path only appends events to the session's stream. A consumer group reads them; each batch
is upserted by TransactionID in one database transaction, and acknowledged (then deleted from the
stream) only after the commit. A drainer killed between commit and acknowledgement leaves the batch
pending: the next run re-reads it and the upsert makes the second write a no-op.
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from decimal import Decimal

from django.conf import settings
from django.db import DataError, IntegrityError, connection, transaction

from flashsale.store import keys
from flashsale.store.client import sale_redis
from flashsale.store.replies import as_str, decode_map, text
from reservations.models import Transaction
from reservations.tokens import TokenClaims, TokenError, sign_token

log = logging.getLogger(__name__)

GROUP = "drainer"
CONSUMER = "drainer"
LOCK_MS = 30_000

# Status only moves forward: reserved -> paid | expired | cancelled; paid -> refunded.
FORWARD: dict[str, set[str]] = {
    Transaction.Status.RESERVED: {Transaction.Status.PAID, Transaction.Status.EXPIRED, Transaction.Status.CANCELLED},
    Transaction.Status.PAID: {Transaction.Status.REFUNDED},
}
UPDATED_FIELDS = ["status", "paid_at", "paid_after_expiry", "gateway_order_id", "updated_at"]

Event = tuple[str, dict[str, str]]


class DrainInterrupted(Exception):
    """Raised by a ``before_ack`` hook in tests to stop a drain between commit and acknowledgement."""


def _dt(value: str | None) -> datetime | None:
    return datetime.fromtimestamp(float(value), tz=UTC) if value else None


def _coordinate(value: str | None) -> Decimal | None:
    return Decimal(value).quantize(Decimal("0.000001")) if value else None


def _status_of(fields: dict[str, str]) -> str:
    status = fields.get("status", "reserved")
    # A late payment keeps the status its hold ended with; the flag records the payment.
    if status == "paid_after_expiry":
        return fields.get("released_as") or Transaction.Status.EXPIRED
    return status


def _token_for(fields: dict[str, str], session_id: int) -> str:
    """Re-create the token the shopper was sent: signing is deterministic for the same key."""
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
        )
        return sign_token(claims, keys=settings.FLASHSALE_TOKEN_KEYS, kid=kid)
    except (KeyError, ValueError, TokenError):
        return ""


def _required_dt(value: str) -> datetime:
    return datetime.fromtimestamp(float(value), tz=UTC)


def _new_row(session_id: int, fields: dict[str, str]) -> Transaction:
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
        token=_token_for(fields, session_id),
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
    if fields.get("status") == "paid_after_expiry" and not row.paid_after_expiry:
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
    with transaction.atomic():
        existing = {t.txn_id: t for t in Transaction.objects.select_for_update().filter(txn_id__in=list(latest))}
        created: list[Transaction] = []
        changed: list[Transaction] = []
        for txn_id, history in latest.items():
            found = existing.get(txn_id)
            is_new = found is None
            row = _new_row(session_id, history[0]) if found is None else found
            touched = [_apply(row, fields) for fields in history]
            if is_new:
                created.append(row)
            elif any(touched):
                changed.append(row)
        Transaction.objects.bulk_create(created)
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
        events.append((text(entry_id), fields))
    return events


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
    batch_size: int = 500,
    consumer: str = CONSUMER,
    before_ack: Callable[[list[str]], None] | None = None,
) -> int:
    """Persist the session's pending and new stream events; returns how many events were handled.

    ``before_ack`` runs after each batch's commit and before its acknowledgement (tests use it to
    simulate a crash there).
    """
    r = sale_redis()
    stream = keys.stream(session_id)
    if not _ensure_group(r, stream):
        return 0
    lock_key, lock_value = keys.drain_lock(session_id), secrets.token_hex(8)
    if not r.set(lock_key, lock_value, nx=True, px=LOCK_MS):
        return 0  # another drainer is on this session right now
    handled = 0
    try:
        # First what this consumer read before and never acknowledged (a crash), then entries a
        # dead consumer left idle, then new entries.
        while batch := _read(r, stream, consumer, "0", batch_size):
            handled += _handle(r, session_id, stream, batch, before_ack)
            if len(batch) < batch_size:
                break
        claimed = r.xautoclaim(
            stream, GROUP, consumer, min_idle_time=settings.FLASHSALE_DRAIN_CLAIM_IDLE_MS, count=batch_size
        )
        if claimed and claimed[1]:
            handled += _handle(r, session_id, stream, _decode(claimed[1]), before_ack)
        while batch := _read(r, stream, consumer, ">", batch_size):
            handled += _handle(r, session_id, stream, batch, before_ack)
    finally:
        if as_str(r.get(lock_key)) == lock_value:
            r.delete(lock_key)
    return handled


def _hydrate(r, session_id: int, events: list[Event]) -> list[Event]:
    """Fill in the reservation events: the reserve script appends only the TransactionID (keeping
    the hot path short); the transaction's hash in Redis holds the rest."""
    pointers = [index for index, (_, fields) in enumerate(events) if fields.get("txn") and "user" not in fields]
    if not pointers:
        return events
    pipe = r.pipeline(transaction=False)
    for index in pointers:
        pipe.hgetall(keys.txn(session_id, events[index][1]["txn"]))
    hydrated = list(events)
    for index, raw in zip(pointers, pipe.execute(), strict=True):
        entry_id, fields = events[index]
        # The hash may already say paid or expired: the upsert moves the row forward to it.
        hydrated[index] = (entry_id, {**decode_map(raw), **fields})
    return hydrated


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
    pipe = r.pipeline(transaction=True)
    pipe.xack(stream, GROUP, *ids)
    # Acknowledged events live on in PostgreSQL; deleting them keeps the stream small.
    pipe.xdel(stream, *ids)
    pipe.execute()
    return len(batch)


def drain_loaded_sessions(*, batch_size: int | None = None) -> dict[int, int]:
    """Drain every session in the index; session id -> events handled."""
    from reservations.availability import loaded_session_ids

    size = batch_size or settings.FLASHSALE_DRAIN_BATCH_SIZE
    return {sid: drain_session(sid, batch_size=size) for sid in loaded_session_ids()}
