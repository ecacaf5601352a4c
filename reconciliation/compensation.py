"""Compensations for discrepancies: refunds through the gateway and units given back to stock.

Each is recorded (``Compensation``: who, when, what) and happens at most once: the row is
inserted before the action inside one database transaction, and unique constraints per
discrepancy+kind and per transaction+kind+order turn a second press (or a re-run's discrepancy
for the same money) into "already done". Refunds are also idempotent at the gateway, so a refund
the gateway did not take is kept (state ``retrying``) and asked again by beat
(``retry_due_refunds``) until it is done, or marked ``needs_operator`` after
``FLASHSALE_REFUND_MAX_ATTEMPTS`` or a refusal that asking again cannot change.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction

from flashsale import clock
from plans.adjusting import adjust_stock
from plans.exceptions import AdjustmentRefused
from plans.models import Adjustment, SaleItem
from reconciliation.gateway import Gateway, GatewayError, get_gateway
from reconciliation.models import Compensation, Discrepancy, ReconciliationRun
from reservations import mails
from reservations.models import Transaction

log = logging.getLogger(__name__)

Kind = Discrepancy.Kind
REFUND, INVENTORY = Compensation.Kind.REFUND, Compensation.Kind.INVENTORY
State = Compensation.State
# The longest wait between two tries of a failed refund.
MAX_REFUND_RETRY_DELAY = timedelta(hours=1)


class CompensationFailed(Exception):
    """A step could not be done (the gateway refused, the item is gone); nothing was recorded for it."""

    def __init__(self, message: str, *, discrepancy_id: int, kind: str):
        super().__init__(message)
        self.message = message
        self.discrepancy_id = discrepancy_id
        self.kind = kind


@dataclass(frozen=True)
class StepResult:
    kind: str
    done: bool  # True: done by this call; False: done before, or not done yet (see compensation.state)
    compensation: Compensation

    @property
    def pending(self) -> bool:
        """The step is recorded but not done: a refund retrying or waiting for an operator."""
        return self.compensation.state != State.DONE


def plan_for(discrepancy: Discrepancy) -> list[str]:
    """The compensations a discrepancy calls for, in order."""
    ours_paid = discrepancy.our_status == Transaction.Status.PAID
    if discrepancy.kind == Kind.MISSING_AT_GATEWAY:
        # We hold units as sold that nobody paid for: give them back.
        return [INVENTORY]
    if discrepancy.kind in (Kind.AMOUNT_MISMATCH, Kind.UNIT_MISMATCH) and ours_paid:
        return [REFUND, INVENTORY]
    # Paid at the gateway for a hold we do not keep (expired, missing, extra charge): give the money back.
    return [REFUND]


def compensate(
    discrepancy: Discrepancy, *, user=None, automatic: bool = False, gateway: Gateway | None = None
) -> list[StepResult]:
    """Apply every compensation the discrepancy calls for; safe to call again (already-done steps are skipped,
    a failed refund is asked again).

    The discrepancy is resolved once every step is done. A refund the gateway does not take stops
    the plan there: it is recorded as retrying (or needing an operator) and the later steps wait.
    Raises ``CompensationFailed`` if a step cannot be attempted at all; steps already done stay done.
    """
    gateway = gateway or get_gateway()
    results = []
    for kind in plan_for(discrepancy):
        result = _step(discrepancy, kind, user=user, automatic=automatic, gateway=gateway)
        results.append(result)
        if result.pending:
            break
    note = "; ".join(_describe(r) for r in results)[:300]
    if any(r.pending for r in results):
        Discrepancy.objects.filter(pk=discrepancy.pk).update(note=note)
    else:
        Discrepancy.objects.filter(pk=discrepancy.pk).update(
            resolution=Discrepancy.Resolution.COMPENSATED, resolved_at=clock.now(), resolved_by=user, note=note
        )
    discrepancy.refresh_from_db()
    return results


def _describe(result: StepResult) -> str:
    compensation = result.compensation
    if compensation.state == State.RETRYING:
        return f"{result.kind}: failed {compensation.attempts}x, retrying ({compensation.last_error})"
    if compensation.state == State.NEEDS_OPERATOR:
        return f"{result.kind}: needs an operator after {compensation.attempts} attempt(s) ({compensation.last_error})"
    return f"{result.kind}: {'done' if result.done else 'already done'}"


def _existing(discrepancy: Discrepancy, kind: str) -> Compensation | None:
    return (
        Compensation.objects.filter(discrepancy=discrepancy, kind=kind).first()
        or Compensation.objects.filter(
            txn_id=discrepancy.txn_id, kind=kind, gateway_order_id=_target(discrepancy, kind)
        ).first()
    )


def _target(discrepancy: Discrepancy, kind: str) -> str:
    return discrepancy.gateway_order_id if kind == REFUND else ""


def _step(discrepancy: Discrepancy, kind: str, *, user, automatic: bool, gateway: Gateway) -> StepResult:
    existing = _existing(discrepancy, kind)
    if existing is not None and existing.state != State.DONE:
        return _try_refund_again(discrepancy, existing, gateway=gateway)
    if existing is not None:
        return StepResult(kind=kind, done=False, compensation=existing)
    try:
        with transaction.atomic():
            compensation = Compensation.objects.create(
                discrepancy=discrepancy,
                kind=kind,
                txn_id=discrepancy.txn_id,
                gateway_order_id=_target(discrepancy, kind),
                currency=discrepancy.currency,
                automatic=automatic,
                created_by=user,
                created_at=clock.now(),
            )
            if kind == REFUND:
                _refund(discrepancy, compensation, gateway=gateway)
            else:
                _return_units(discrepancy, compensation, user=user)
            compensation.save()
    except IntegrityError:
        # Someone else did it between our check and our insert.
        existing = _existing(discrepancy, kind)
        if existing is None:
            raise
        return StepResult(kind=kind, done=False, compensation=existing)
    if compensation.state != State.DONE:
        return StepResult(kind=kind, done=False, compensation=compensation)
    log.info("compensation %s for %s (%s) done", kind, discrepancy.txn_id, discrepancy.get_kind_display())
    return StepResult(kind=kind, done=True, compensation=compensation)


def _try_refund_again(discrepancy: Discrepancy, existing: Compensation, *, gateway: Gateway) -> StepResult:
    """Ask the gateway again for a refund that failed before (beat's retry, or an operator's press)."""
    with transaction.atomic():
        # The row lock keeps beat and an operator from asking at the same time.
        compensation = Compensation.objects.select_for_update().get(pk=existing.pk)
        if compensation.state == State.DONE:
            return StepResult(kind=compensation.kind, done=False, compensation=compensation)
        compensation.attempts += 1
        _refund(discrepancy, compensation, gateway=gateway)
        compensation.save()
    if compensation.state == State.DONE:
        log.info("refund for %s done at attempt %d", discrepancy.txn_id, compensation.attempts)
    return StepResult(kind=compensation.kind, done=compensation.state == State.DONE, compensation=compensation)


def _refund(discrepancy: Discrepancy, compensation: Compensation, *, gateway: Gateway) -> None:
    """Ask the gateway for the refund; a failure is recorded on ``compensation`` (retrying or needs an operator)."""
    if not discrepancy.gateway_order_id:
        raise CompensationFailed("No gateway order to refund.", discrepancy_id=discrepancy.pk, kind=REFUND)
    try:
        order = gateway.refund(discrepancy.gateway_order_id)
    except GatewayError as exc:
        _refund_failed(compensation, exc, now=clock.now())
        return
    compensation.state = State.DONE
    compensation.next_attempt_at = None
    compensation.amount = order.amount
    compensation.currency = order.currency
    compensation.detail = f"Order {order.order_id} is {order.status} at the gateway."
    if discrepancy.kind != Kind.PAID_TWICE:
        # The whole transaction's money went back: our record says so too (paid, refused or paid late).
        refunded = (
            Transaction.objects.refundable()
            .filter(txn_id=discrepancy.txn_id)
            .update(status=Transaction.Status.REFUNDED, updated_at=clock.now())
        )
        if refunded:
            mails.after_commit("send_refund_mail", discrepancy.txn_id, str(order.amount), order.currency)


def _refund_failed(compensation: Compensation, exc: GatewayError, *, now: datetime) -> None:
    compensation.last_error = exc.message[:300]
    if exc.transient and compensation.attempts < settings.FLASHSALE_REFUND_MAX_ATTEMPTS:
        delay = timedelta(seconds=settings.FLASHSALE_REFUND_RETRY_SECONDS * 2 ** (compensation.attempts - 1))
        compensation.state = State.RETRYING
        compensation.next_attempt_at = now + min(delay, MAX_REFUND_RETRY_DELAY)
        log.warning(
            "refund of %s failed (attempt %d): %s; trying again at %s",
            compensation.txn_id,
            compensation.attempts,
            exc.message,
            compensation.next_attempt_at,
        )
        return
    compensation.state = State.NEEDS_OPERATOR
    compensation.next_attempt_at = None
    log.error(
        "refund of %s failed (attempt %d): %s; left to an operator", compensation.txn_id, compensation.attempts, exc
    )


def retry_due_refunds(*, gateway: Gateway | None = None) -> list[StepResult]:
    """Ask again for every failed refund whose next attempt is due (beat, every minute); idempotent."""
    due = (
        Compensation.objects.filter(kind=REFUND, state=State.RETRYING, next_attempt_at__lte=clock.now())
        .select_related("discrepancy", "created_by")
        .order_by("next_attempt_at")
    )
    results: list[StepResult] = []
    gateway = gateway or get_gateway()
    for compensation in due:
        # Through compensate(): once the refund is done the plan's next steps run and the
        # discrepancy is resolved.
        steps = compensate(
            compensation.discrepancy, user=compensation.created_by, automatic=compensation.automatic, gateway=gateway
        )
        results.extend(step for step in steps if step.compensation.pk == compensation.pk)
    return results


def _return_units(discrepancy: Discrepancy, compensation: Compensation, *, user) -> None:
    units = discrepancy.quantity
    item = (
        SaleItem.objects.filter(pk=discrepancy.item_id).select_related("session").first()
        if discrepancy.item_id is not None
        else None
    )
    if item is None or units < 1:
        raise CompensationFailed("No sale item or units to give back.", discrepancy_id=discrepancy.pk, kind=INVENTORY)
    reason = f"Reconciliation: {discrepancy.get_kind_display().lower()} for {discrepancy.txn_id}"[:300]
    try:
        result = adjust_stock(item, delta=units, reason=reason, user=user)
        compensation.detail = f"{result.applied} unit(s) back on sale in session {item.session_id}."
    except AdjustmentRefused:
        # The session is closed: nothing to put back on sale, but the units are accounted for.
        Adjustment.objects.create(item=item, delta=units, reason=reason, created_by=user)
        compensation.detail = f"{units} unit(s) recorded against closed session {item.session_id}."
    compensation.units = units
    if discrepancy.kind == Kind.MISSING_AT_GATEWAY:
        Transaction.objects.paid().filter(txn_id=discrepancy.txn_id).update(
            status=Transaction.Status.CANCELLED, updated_at=clock.now()
        )


def auto_kinds() -> set[str]:
    configured = set(settings.FLASHSALE_AUTO_COMPENSATE)
    unknown = configured - set(Kind.values)
    if unknown:
        log.warning("FLASHSALE_AUTO_COMPENSATE names unknown kinds %s (known: %s)", sorted(unknown), Kind.values)
    return configured & set(Kind.values)


def compensate_automatically(run: ReconciliationRun, *, gateway: Gateway | None = None) -> int:
    """Compensate the run's open discrepancies of the configured kinds; returns how many were compensated."""
    kinds = auto_kinds()
    if not kinds:
        return 0
    done = 0
    for discrepancy in run.discrepancies.filter(kind__in=kinds, resolution=Discrepancy.Resolution.OPEN):
        try:
            results = compensate(discrepancy, automatic=True, gateway=gateway)
            done += not any(r.pending for r in results)
        except CompensationFailed as exc:
            log.error("automatic compensation of %s failed: %s", discrepancy.txn_id, exc.message)
    return done
