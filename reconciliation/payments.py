"""The payment webhook's work: authenticate the gateway's event once, confirm the payment, persist it.

Confirming is ``reservations.holds.confirm_payment`` (atomic against the hold's expiry in Redis);
the Transaction row is then upserted so PostgreSQL says paid without waiting for the drainer.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import IntegrityError

from flashsale import clock
from flashsale.store import keys
from flashsale.store.client import sale_redis
from flashsale.store.replies import as_str, text
from reconciliation.gateway import Gateway, GatewayOrder, WebhookEvent, get_gateway
from reservations import holds, mails
from reservations.drain import persist_events
from reservations.models import Transaction
from reservations.states import PaymentResult, ReservationStatus

log = logging.getLogger(__name__)

TXN_ID_PATTERN = re.compile(r"^[0-9A-Za-z]{1,26}$")
PAID_OUTCOMES = {"paid", "paid_after_expiry", "already_paid", "already_paid_after_expiry"}
AFTER_EXPIRY_OUTCOMES = {"paid_after_expiry", "already_paid_after_expiry"}
REFUSED_OUTCOMES = {PaymentResult.AMOUNT_MISMATCH, PaymentResult.ALREADY_REFUSED}


class WebhookReplayed(Exception):
    """An event id we have already handled."""

    def __init__(self, event_id: str):
        super().__init__(f"event {event_id} was already delivered")
        self.event_id = event_id


class WebhookInProgress(WebhookReplayed):
    """Another delivery of this event is being handled right now: the gateway should retry later."""


# A claim outlives any honest handling time but not a crashed worker: its retry gets through.
PROCESSING_CLAIM_SECONDS = 60


@dataclass(frozen=True)
class WebhookResult:
    event_id: str
    type: str
    txn_id: str
    outcome: str  # confirm_payment's outcome, cancelled, released, left_to_expire, refunded, already_refunded, ignored
    changed: bool


@dataclass(frozen=True)
class PaymentStatus:
    """What the shopper's return page may say about a transaction."""

    state: str  # pending | paid | paid_after_expiry | amount_mismatch | cancelled | refunded | unknown
    user_id: int | None


def handle_webhook(*, body: bytes, headers, gateway: Gateway | None = None) -> WebhookResult:
    """Verify, de-duplicate and apply one webhook delivery.

    Raises ``WebhookRejected`` (signature, window, format), ``WebhookReplayed`` (event id handled)
    or ``WebhookInProgress`` (another delivery of it is being handled). The event id is claimed in
    Redis for a short while before the work, released if the work fails, and kept for the replay
    window once done, so a retry after a failure or a crash always gets through.
    """
    gateway = gateway or get_gateway()
    # The window compares the gateway's clock with our wall clock: the signed timestamp is real time,
    # whatever the domain clock says.
    event = gateway.verify_webhook(body=body, headers=headers, now=time.time())
    r = sale_redis()
    key = keys.webhook_event(event.event_id)
    ttl = settings.FLASHSALE_WEBHOOK_EVENT_TTL_SECONDS
    if not r.set(key, "processing", nx=True, ex=PROCESSING_CLAIM_SECONDS):
        if as_str(r.get(key)) == "processing":
            raise WebhookInProgress(event.event_id)
        raise WebhookReplayed(event.event_id)
    try:
        result = apply_event(event)
    except BaseException:
        r.delete(key)
        raise
    r.set(key, result.outcome, ex=ttl)
    return result


def apply_event(event: WebhookEvent) -> WebhookResult:
    order = event.order
    if order is None:
        # Another event type, or a payment of the provider's account that is not one of our transactions.
        log.info("webhook %s of type %s ignored", event.event_id, event.type)
        outcome, changed = "ignored", False
    elif event.type == "payment.succeeded":
        outcome, changed = record_payment(order)
    elif event.type == "payment.cancelled":
        outcome, changed = record_cancellation(order)
    elif event.type == "payment.failed":
        # The card was refused; the shopper may try another on the pay page until the hold expires.
        log.info(
            "payment %s of %s failed at the gateway: the hold stays until it expires", order.order_id, order.txn_id
        )
        outcome, changed = "left_to_expire", False
    elif event.type == "payment.refunded":
        outcome, changed = record_refund(order)
    else:
        log.info("webhook %s of type %s ignored", event.event_id, event.type)
        outcome, changed = "ignored", False
    return WebhookResult(
        event_id=event.event_id,
        type=event.type,
        txn_id=order.txn_id if order is not None else "",
        outcome=outcome,
        changed=changed,
    )


def _session_of(order: GatewayOrder) -> int | None:
    if order.session_id is not None:
        return order.session_id
    return Transaction.objects.filter(txn_id=order.txn_id).values_list("session_id", flat=True).first()


def _confirm(order: GatewayOrder, session_id: int, now: datetime) -> holds.PaymentOutcome:
    """The hold's side of the payment: its amount and currency against ours (``holds.confirm_payment``)."""
    return holds.confirm_payment(
        session_id, order.txn_id, gateway_order_id=order.order_id, amount=order.amount, currency=order.currency, now=now
    )


def record_payment(order: GatewayOrder) -> tuple[str, bool]:
    """Confirm the gateway's payment of ``order``; returns (outcome, changed). Never drops a payment."""
    session_id = _session_of(order)
    now = clock.now()
    if session_id is None:
        log.error("payment %s for unknown transaction %s: left for reconciliation", order.order_id, order.txn_id)
        _remember_status(order.txn_id, "unknown", order.user_id)
        return "unknown", False
    result = _confirm(order, session_id, now)
    if result.outcome == "unknown":
        # The event may name the wrong session: our own row knows the right one.
        row_session = Transaction.objects.filter(txn_id=order.txn_id).values_list("session_id", flat=True).first()
        if row_session is not None and row_session != session_id:
            result = _confirm(order, row_session, now)
    if result.outcome in PAID_OUTCOMES:
        persist_payment(result)
        if result.outcome == PaymentResult.PAID and result.changed:
            mails.after_commit("send_payment_mail", order.txn_id)  # the receipt, once the row says paid
        status = "paid_after_expiry" if result.outcome in AFTER_EXPIRY_OUTCOMES else "paid"
        _remember_status(order.txn_id, status, result.user_id)
        if status == "paid_after_expiry":
            log.warning(
                "payment %s of %s arrived after the hold expired: flagged for refund", order.order_id, order.txn_id
            )
        return result.outcome, result.changed
    if result.outcome in REFUSED_OUTCOMES:
        log.warning(
            "payment %s of %s charged %s %s, not our amount: refused, the units are back on sale, refund due",
            order.order_id,
            order.txn_id,
            order.amount,
            order.currency,
        )
        if result.changed:
            persist_payment(result)
        _remember_status(order.txn_id, PaymentResult.AMOUNT_MISMATCH, result.user_id)
        return result.outcome, result.changed
    # Not in Redis any more (the session was unloaded): record it on the row so reconciliation refunds it.
    updated = (
        Transaction.objects.filter(txn_id=order.txn_id)
        .exclude(status__in=[Transaction.Status.PAID, Transaction.Status.REFUNDED])
        .update(
            status=ReservationStatus.PAID_AFTER_EXPIRY,
            paid_after_expiry=True,
            paid_at=now,
            gateway_order_id=order.order_id,
            updated_at=now,
        )
    )
    log.error("payment %s of %s for a hold no longer in Redis (row updated: %s)", order.order_id, order.txn_id, updated)
    _remember_status(order.txn_id, "paid_after_expiry" if updated else "unknown", order.user_id)
    return "unknown", bool(updated)


def record_cancellation(order: GatewayOrder) -> tuple[str, bool]:
    """The shopper gave up at the gateway: give the hold back now rather than at its expiry."""
    session_id = _session_of(order)
    released = False
    if session_id is not None:
        released = holds.release_hold(session_id, order.txn_id, reason="cancelled", now=clock.now())
    if released or payment_status(order.txn_id).state == "pending":
        # A late cancel must not hide a payment the return page already shows.
        _remember_status(order.txn_id, "cancelled", order.user_id)
    return ("released" if released else "cancelled"), released


def record_refund(order: GatewayOrder) -> tuple[str, bool]:
    """The gateway says the payment was refunded in full (by our compensation or from its dashboard).

    A paid transaction becomes refunded; a late payment (expired, flagged) keeps its status, as the
    compensation that refunds it records. Nothing else moves: units are not put back on sale here.
    """
    now = clock.now()
    updated = Transaction.objects.filter(
        txn_id=order.txn_id, gateway_order_id=order.order_id, status=Transaction.Status.PAID
    ).update(status=Transaction.Status.REFUNDED, updated_at=now)
    log.info("refund of payment %s (%s) recorded: %s row(s) now refunded", order.order_id, order.txn_id, updated)
    if updated:
        _remember_status(order.txn_id, "refunded", order.user_id)
    return ("refunded" if updated else "already_refunded"), bool(updated)


def persist_payment(result: holds.PaymentOutcome) -> None:
    """Make the Transaction row say paid now, without waiting for the drainer's next pass.

    The txn hash is fed to the drainer's own idempotent upsert (status only moves forward), so
    a row the drainer has not created yet is created the same way, and a later drain is a no-op.
    """
    state = holds.transaction_state(result.session_id, result.txn_id)
    if not state:
        log.error("cannot persist payment of %s: no Redis state", result.txn_id)
        return
    try:
        persist_events(result.session_id, [("webhook", state)])
    except IntegrityError:
        # The drainer inserted the row between our read and our insert: now it is an update.
        persist_events(result.session_id, [("webhook", state)])


def _remember_status(txn_id: str, state: str, user_id: int | None) -> None:
    r = sale_redis()
    key = keys.payment_result(txn_id)
    r.hset(key, mapping={"state": state, "user": "" if user_id is None else str(user_id)})
    r.expire(key, settings.FLASHSALE_PAYMENT_RESULT_TTL_SECONDS)


def payment_status(txn_id: str) -> PaymentStatus:
    """What the webhook recorded for ``txn_id`` (Redis only: the return page is a shopper request)."""
    if not TXN_ID_PATTERN.match(txn_id or ""):
        return PaymentStatus(state="unknown", user_id=None)
    state, user = sale_redis().hmget(keys.payment_result(txn_id), ["state", "user"])
    if state is None:
        return PaymentStatus(state="pending", user_id=None)
    user_text = as_str(user)
    return PaymentStatus(state=text(state), user_id=int(user_text) if user_text else None)
