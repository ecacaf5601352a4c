"""Reconcile one day: our transactions against the gateway's orders, matched by TransactionID.

Bounded memory at any volume: the gateway's listing is streamed page by page into a staging
table (``GatewayOrderSnapshot``), then both sides are read back sorted by TransactionID with
server-side cursors and merged like a sorted-merge join. Only the transactions of one id are
held at a time, plus a batch of leftovers looked up across days.
"""

from __future__ import annotations

import logging
import time as time_module
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from itertools import groupby
from typing import NamedTuple

from django.conf import settings
from django.db import connection, transaction
from django.db.models.functions import Collate

from flashsale import clock
from flashsale.progress import NO_PROGRESS, Progress
from reconciliation.gateway import Gateway, GatewayOrder, get_gateway
from reconciliation.models import Discrepancy, GatewayOrderSnapshot, ReconciliationRun
from reservations.models import Transaction

log = logging.getLogger(__name__)

Kind = Discrepancy.Kind
PAID, REFUNDED = "paid", "refunded"


class OurTxn(NamedTuple):
    txn_id: str
    status: str
    quantity: int
    amount: Decimal
    currency: str
    paid_after_expiry: bool
    gateway_order_id: str
    session_id: int
    item_id: int


OUR_FIELDS = list(OurTxn._fields)


class TheirOrder(NamedTuple):
    order_id: str
    txn_id: str
    status: str
    quantity: int
    amount: Decimal
    currency: str


THEIR_FIELDS = list(TheirOrder._fields)


@dataclass(frozen=True)
class Finding:
    kind: str
    txn_id: str
    gateway_order_id: str
    our_status: str
    our_value: str
    their_value: str
    amount: Decimal
    currency: str
    session_id: int | None = None
    item_id: int | None = None
    quantity: int = 0


@dataclass
class Tally:
    our_count: int = 0
    our_paid_count: int = 0
    our_paid_amount: Decimal = Decimal("0")
    their_count: int = 0
    their_paid_count: int = 0
    their_paid_amount: Decimal = Decimal("0")
    matched_count: int = 0
    matched_amount: Decimal = Decimal("0")
    mismatched_amount: Decimal = Decimal("0")
    discrepancy_count: int = 0
    currencies: set[str] = field(default_factory=set)


def day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time.min, tzinfo=UTC)
    return start, start + timedelta(days=1)


def _describe_ours(ours: OurTxn | None) -> str:
    if ours is None:
        return "absent"
    flag = ", paid after expiry" if ours.paid_after_expiry else ""
    return f"{ours.status}{flag}: {ours.quantity} unit(s), {ours.amount} {ours.currency}"


def _describe_theirs(order: TheirOrder | None, orders: Iterable[TheirOrder] = ()) -> str:
    if order is None:
        listed = [f"{o.order_id} {o.status}" for o in orders]
        return "no paid order" + (f" ({', '.join(listed)})" if listed else "")
    return f"{order.status}: {order.quantity} unit(s), {order.amount} {order.currency} ({order.order_id})"


def compare(ours: OurTxn | None, theirs: list[TheirOrder]) -> list[Finding]:
    """The discrepancies between our record of one transaction and the gateway's orders for it."""
    paid = [order for order in theirs if order.status == PAID]
    txn_id = ours.txn_id if ours is not None else theirs[0].txn_id
    ours_flagged = ours is not None and ours.paid_after_expiry and ours.status != REFUNDED
    ours_paid = ours is not None and ours.status == PAID and not ours.paid_after_expiry
    primary = None
    if paid:
        linked = [order for order in paid if ours is not None and order.order_id == ours.gateway_order_id]
        primary = linked[0] if linked else paid[0]
    where = {} if ours is None else {"session_id": ours.session_id, "item_id": ours.item_id, "quantity": ours.quantity}

    def finding(kind: str, order: TheirOrder | None, amount: Decimal, currency: str) -> Finding:
        return Finding(
            kind=kind,
            txn_id=txn_id,
            gateway_order_id=order.order_id if order else (ours.gateway_order_id if ours else ""),
            our_status=ours.status if ours is not None else "",
            our_value=_describe_ours(ours),
            their_value=_describe_theirs(order, theirs),
            amount=amount,
            currency=currency,
            **where,
        )

    findings = [finding(Kind.PAID_TWICE, extra, extra.amount, extra.currency) for extra in paid if extra is not primary]
    if primary is not None:
        amount_differs = ours is not None and (primary.amount != ours.amount or primary.currency != ours.currency)
        if ours_flagged:
            findings.append(finding(Kind.PAID_AFTER_EXPIRY, primary, primary.amount, primary.currency))
        elif amount_differs:
            # Our side refuses to confirm a wrong amount, so this covers paid and unpaid rows alike.
            findings.append(finding(Kind.AMOUNT_MISMATCH, primary, primary.amount, primary.currency))
        elif not ours_paid:
            findings.append(finding(Kind.MISSING_HERE, primary, primary.amount, primary.currency))
        if ours_paid and ours is not None and primary.quantity != ours.quantity:
            findings.append(finding(Kind.UNIT_MISMATCH, primary, primary.amount, primary.currency))
    elif ours_paid and ours is not None:
        findings.append(finding(Kind.MISSING_AT_GATEWAY, None, ours.amount, ours.currency))
    return findings


class Reconciler:
    """One run: stage the gateway's listing, merge both sides, record findings and totals."""

    def __init__(self, run: ReconciliationRun, gateway: Gateway, *, batch_size: int, progress: Progress = NO_PROGRESS):
        self.run = run
        self.progress = progress
        self.gateway = gateway
        self.batch_size = batch_size
        self.tally = Tally()
        self.pending_findings: list[Finding] = []
        self.orphans: list[list[TheirOrder]] = []

    def stage_gateway_orders(self, orders: Iterable[GatewayOrder]) -> None:
        """Stream the listing into the staging table: COPY on PostgreSQL, batched inserts elsewhere."""
        rows = (self._tally_theirs(order) for order in orders)
        if connection.vendor == "postgresql":
            table = GatewayOrderSnapshot._meta.db_table
            columns = "run_id, order_id, txn_id, status, quantity, amount, currency"
            with connection.cursor() as cursor, cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for order in rows:
                    copy.write_row(
                        (
                            self.run.pk,
                            order.order_id,
                            order.txn_id,
                            order.status,
                            order.quantity,
                            order.amount,
                            order.currency,
                        )
                    )
            return
        batch: list[GatewayOrderSnapshot] = []
        for order in rows:
            batch.append(
                GatewayOrderSnapshot(
                    run=self.run,
                    order_id=order.order_id,
                    txn_id=order.txn_id,
                    status=order.status,
                    quantity=order.quantity,
                    amount=order.amount,
                    currency=order.currency,
                )
            )
            if len(batch) >= self.batch_size:
                GatewayOrderSnapshot.objects.bulk_create(batch)
                batch = []
        if batch:
            GatewayOrderSnapshot.objects.bulk_create(batch)

    def _tally_theirs(self, order: GatewayOrder) -> GatewayOrder:
        self.progress.advance()
        self.tally.their_count += 1
        if order.status == PAID:
            self.tally.their_paid_count += 1
            self.tally.their_paid_amount += order.amount
            self.tally.currencies.add(order.currency)
        return order

    def _sorted(self, queryset, fields: list[str]):
        # Both sides must sort exactly like Python compares strings: byte order ("C" collation).
        key = Collate("txn_id", "C") if connection.vendor == "postgresql" else "txn_id"
        return queryset.order_by(key, *fields[:1]).values_list(*fields).iterator(chunk_size=self.batch_size)

    def ours(self) -> Iterator[OurTxn]:
        start, end = day_bounds(self.run.period)
        rows = Transaction.objects.reserved_between(start, end)
        for row in self._sorted(rows, OUR_FIELDS):
            yield OurTxn(*row)

    def theirs(self) -> Iterator[list[TheirOrder]]:
        rows = GatewayOrderSnapshot.objects.filter(run=self.run)
        orders = (TheirOrder(*row) for row in self._sorted(rows, THEIR_FIELDS))
        for _, group in groupby(orders, key=lambda order: order.txn_id):
            yield list(group)

    def merge(self) -> None:
        ours_iter, theirs_iter = self.ours(), self.theirs()
        ours, theirs = next(ours_iter, None), next(theirs_iter, None)
        while ours is not None or theirs is not None:
            if ours is not None and (theirs is None or ours.txn_id < theirs[0].txn_id):
                self.count_ours(ours)
                self.check(ours, [])
                ours = next(ours_iter, None)
            elif theirs is not None and (ours is None or theirs[0].txn_id < ours.txn_id):
                self.orphans.append(theirs)
                if len(self.orphans) >= self.batch_size:
                    self.resolve_orphans()
                theirs = next(theirs_iter, None)
            elif ours is not None and theirs is not None:  # the same TransactionID on both sides
                self.count_ours(ours)
                self.check(ours, theirs)
                ours, theirs = next(ours_iter, None), next(theirs_iter, None)
        self.resolve_orphans()
        self.flush()

    def count_ours(self, ours: OurTxn) -> None:
        self.progress.advance()
        self.tally.our_count += 1
        if ours.status == PAID:
            self.tally.our_paid_count += 1
            self.tally.our_paid_amount += ours.amount
            self.tally.currencies.add(ours.currency)

    def check(self, ours: OurTxn | None, theirs: list[TheirOrder]) -> None:
        if ours is not None and not theirs and ours.status == PAID and ours.gateway_order_id:
            # The gateway may have filed the order under the next day (checkout after midnight).
            elsewhere = self.gateway.get_order(ours.gateway_order_id)
            if elsewhere is not None and elsewhere.txn_id == ours.txn_id:
                theirs = [TheirOrder(*(getattr(elsewhere, name) for name in THEIR_FIELDS))]
        findings = compare(ours, theirs)
        if findings:
            self.pending_findings.extend(findings)
            self.tally.mismatched_amount += sum((f.amount for f in findings), Decimal("0"))
            if len(self.pending_findings) >= self.batch_size:
                self.flush()
        elif ours is not None and ours.status == PAID and not ours.paid_after_expiry:
            self.tally.matched_count += 1
            self.tally.matched_amount += ours.amount

    def resolve_orphans(self) -> None:
        """Gateway orders with no transaction of this day: look them up on any day before judging."""
        if not self.orphans:
            return
        ids = [group[0].txn_id for group in self.orphans]
        found = {row[0]: OurTxn(*row) for row in Transaction.objects.filter(txn_id__in=ids).values_list(*OUR_FIELDS)}
        for group in self.orphans:
            self.check(found.get(group[0].txn_id), group)
        self.orphans = []

    def flush(self) -> None:
        if not self.pending_findings:
            return
        Discrepancy.objects.bulk_create(
            [Discrepancy(run=self.run, **finding.__dict__) for finding in self.pending_findings],
            ignore_conflicts=True,
        )
        self.tally.discrepancy_count += len(self.pending_findings)
        self.pending_findings = []


def _our_count(day: date, progress: Progress) -> int | None:
    if progress is NO_PROGRESS:  # a COUNT only when someone watches
        return None
    start, end = day_bounds(day)
    return Transaction.objects.reserved_between(start, end).count()


def previous_run_of(day: date) -> ReconciliationRun | None:
    return ReconciliationRun.objects.filter(period=day).order_by("-started_at", "-pk").first()


def reconcile_day(
    day: date,
    *,
    trigger: str = ReconciliationRun.Trigger.SCHEDULE,
    user=None,
    gateway: Gateway | None = None,
    batch_size: int | None = None,
    auto_compensate: bool = True,
    progress: Progress = NO_PROGRESS,
) -> ReconciliationRun:
    """Reconcile ``day`` (UTC) and return the run; a failure is recorded on the run, not raised.

    A day reconciled again gets a new run linked to the latest earlier one: nothing is replaced.
    Discrepancies of the kinds in ``FLASHSALE_AUTO_COMPENSATE`` are compensated at the end.
    """
    gateway = gateway or get_gateway()
    batch_size = batch_size or settings.FLASHSALE_RECONCILE_BATCH_SIZE
    started = clock.now()
    run = ReconciliationRun.objects.create(
        period=day,
        trigger=trigger,
        triggered_by=user,
        previous_run=previous_run_of(day),
        gateway=gateway.name,
        started_at=started,
    )
    reconciler = Reconciler(run, gateway, batch_size=batch_size, progress=progress)
    _compare(run, reconciler, gateway, day)
    _record_tally(run, reconciler.tally, started=started)
    log.info(
        "reconciled %s: %s ours, %s theirs, %s matched, %s discrepancies (%s)",
        day,
        reconciler.tally.our_count,
        reconciler.tally.their_count,
        reconciler.tally.matched_count,
        reconciler.tally.discrepancy_count,
        run.status,
    )
    if auto_compensate and run.status == ReconciliationRun.Status.DISCREPANCIES:
        from reconciliation.compensation import compensate_automatically

        compensate_automatically(run, gateway=gateway)
    return run


def _compare(run: ReconciliationRun, reconciler: Reconciler, gateway: Gateway, day: date) -> None:
    """Stage the gateway's orders, merge them with ours; the outcome (or the failure) goes on ``run``."""
    progress = reconciler.progress
    began = time_module.perf_counter()
    try:
        # The gateway's listing says nothing of its length up front: a count and a rate, no ETA.
        progress.start(f"{day}: gateway orders", None, unit="orders")
        with transaction.atomic():
            reconciler.stage_gateway_orders(gateway.iter_orders(day))
        progress.finish()
        staged_at = time_module.perf_counter()
        progress.start(f"{day}: our transactions", _our_count(day, progress), unit="transactions")
        with transaction.atomic():
            reconciler.merge()
        progress.finish()
        log.info(
            "%s: gateway listing staged in %.2fs, merged in %.2fs",
            day,
            staged_at - began,
            time_module.perf_counter() - staged_at,
        )
    except Exception as exc:
        log.exception("reconciliation of %s failed", day)
        run.status = ReconciliationRun.Status.FAILED
        run.error = f"{type(exc).__name__}: {exc}"[:2000]
    else:
        has_discrepancies = reconciler.tally.discrepancy_count
        run.status = ReconciliationRun.Status.DISCREPANCIES if has_discrepancies else ReconciliationRun.Status.CLEAN
    finally:
        GatewayOrderSnapshot.objects.filter(run=run).delete()


TALLY_FIELDS = (
    "our_count",
    "our_paid_count",
    "our_paid_amount",
    "their_count",
    "their_paid_count",
    "their_paid_amount",
    "matched_count",
    "matched_amount",
    "mismatched_amount",
    "discrepancy_count",
)


def _record_tally(run: ReconciliationRun, tally: Tally, *, started: datetime) -> None:
    for name in TALLY_FIELDS:
        setattr(run, name, getattr(tally, name))
    run.currency = tally.currencies.pop() if len(tally.currencies) == 1 else ("MIX" if tally.currencies else "")
    run.finished_at = clock.now()
    run.duration_seconds = (run.finished_at - started).total_seconds()
    run.save()


def daily_figures(*, days: int = 30, until: date | None = None) -> list[dict]:
    """Matched and mismatched amounts per day (the latest finished run of each day), oldest first."""
    until = until or clock.now().date()
    since = until - timedelta(days=days - 1)
    latest: dict[date, ReconciliationRun] = {}
    runs = (
        ReconciliationRun.objects.filter(period__gte=since, period__lte=until)
        .exclude(status__in=[ReconciliationRun.Status.RUNNING, ReconciliationRun.Status.FAILED])
        .order_by("period", "started_at", "pk")
        .only("period", "matched_amount", "mismatched_amount")
    )
    for run in runs:
        latest[run.period] = run
    figures = []
    for offset in range(days):
        day = since + timedelta(days=offset)
        found = latest.get(day)
        figures.append(
            {
                "day": day,
                "matched": found.matched_amount if found else Decimal("0"),
                "mismatched": found.mismatched_amount if found else Decimal("0"),
                "run": found,
            }
        )
    return figures
