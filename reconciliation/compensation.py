"""Compensations for discrepancies: refunds through the gateway and units given back to stock.

Each is recorded (``Compensation``: who, when, what) and happens at most once: the row is
inserted before the action inside one database transaction, and unique constraints per
discrepancy+kind and per transaction+kind+order turn a second press (or a re-run's discrepancy
for the same money) into "already done". Refunds are also idempotent at the gateway.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction

from flashsale import clock
from plans.adjusting import adjust_stock
from plans.exceptions import AdjustmentRefused
from plans.models import Adjustment, SaleItem
from reconciliation.gateway import Gateway, GatewayError, get_gateway
from reconciliation.models import Compensation, Discrepancy, ReconciliationRun
from reservations.models import Transaction

log = logging.getLogger(__name__)

Kind = Discrepancy.Kind
REFUND, INVENTORY = Compensation.Kind.REFUND, Compensation.Kind.INVENTORY


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
    done: bool  # False: it had already been done
    compensation: Compensation


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
    """Apply every compensation the discrepancy calls for; safe to call again (already-done steps are skipped).

    Raises ``CompensationFailed`` if a step fails; steps already done stay done.
    """
    gateway = gateway or get_gateway()
    results = [
        _step(discrepancy, kind, user=user, automatic=automatic, gateway=gateway) for kind in plan_for(discrepancy)
    ]
    Discrepancy.objects.filter(pk=discrepancy.pk).update(
        resolution=Discrepancy.Resolution.COMPENSATED,
        resolved_at=clock.now(),
        resolved_by=user,
        note="; ".join(f"{r.kind}: {'done' if r.done else 'already done'}" for r in results)[:300],
    )
    discrepancy.refresh_from_db()
    return results


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
    log.info("compensation %s for %s (%s) done", kind, discrepancy.txn_id, discrepancy.get_kind_display())
    return StepResult(kind=kind, done=True, compensation=compensation)


def _refund(discrepancy: Discrepancy, compensation: Compensation, *, gateway: Gateway) -> None:
    if not discrepancy.gateway_order_id:
        raise CompensationFailed("No gateway order to refund.", discrepancy_id=discrepancy.pk, kind=REFUND)
    try:
        order = gateway.refund(discrepancy.gateway_order_id)
    except GatewayError as exc:
        raise CompensationFailed(
            f"The gateway refused the refund: {exc.message}", discrepancy_id=discrepancy.pk, kind=REFUND
        ) from exc
    compensation.amount = order.amount
    compensation.currency = order.currency
    compensation.detail = f"Order {order.order_id} is {order.status} at the gateway."
    if discrepancy.kind != Kind.PAID_TWICE:
        # The whole transaction's money went back: our record says so too.
        Transaction.objects.filter(txn_id=discrepancy.txn_id, status=Transaction.Status.PAID).update(
            status=Transaction.Status.REFUNDED, updated_at=clock.now()
        )


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
        Transaction.objects.filter(txn_id=discrepancy.txn_id, status=Transaction.Status.PAID).update(
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
            compensate(discrepancy, automatic=True, gateway=gateway)
            done += 1
        except CompensationFailed as exc:
            log.error("automatic compensation of %s failed: %s", discrepancy.txn_id, exc.message)
    return done
