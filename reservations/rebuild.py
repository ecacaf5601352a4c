"""Restoring a session's Redis state from PostgreSQL after Redis lost it (no AOF, FLUSHDB, new node).

PostgreSQL knows every drained Transaction. For each item: units on sale = allocated + operators'
adjustments; units taken = those of reserved and paid transactions (their exact unit ids); the
list gets back the rest. Holds, per-user counts and transaction hashes are re-created, then
``plans.loading`` publishes the display data and, last, the session hash, so shoppers never see
a half-restored session. What cannot be accounted for is reported, never guessed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Sum

from flashsale import clock
from plans.loading import is_loaded, load_session_into_redis, unit_id, unload_session
from plans.models import Adjustment, SaleSession
from reservations import stock
from reservations.audit import REPAIR_REASON_PREFIX
from reservations.models import Transaction

TAKEN = {Transaction.Status.RESERVED, Transaction.Status.PAID}


class RebuildRefused(Exception):
    def __init__(self, message: str, *, session_id: int):
        super().__init__(message)
        self.message = message
        self.session_id = session_id


@dataclass
class ItemRebuild:
    item_id: int
    allocated: int
    adjusted: int
    held: int
    paid: int
    remaining: int


@dataclass
class RebuildReport:
    session_id: int
    items: list[ItemRebuild] = field(default_factory=list)
    transactions: int = 0
    holds: int = 0
    problems: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [f"session {self.session_id}: {self.transactions} transactions restored, {self.holds} holds"]
        for item in self.items:
            out.append(
                f"  item {item.item_id}: allocated {item.allocated} adjusted {item.adjusted:+d} -> "
                f"remaining {item.remaining}, held {item.held}, paid {item.paid}"
            )
        out += [f"  ! {problem}" for problem in self.problems]
        out.append(
            "  note: reservations made after the last drain never reached PostgreSQL; their units are "
            "back on sale and a payment for one of them is reported as unknown. Rejection counters restart at 0."
        )
        return out


def rebuild_session(session_id: int, *, force: bool = False, now: datetime | None = None) -> RebuildReport:
    """Re-create the session in Redis from PostgreSQL; refuses if it is still there unless ``force``."""
    now = now or clock.now()
    session = SaleSession.objects.get(pk=session_id)
    if is_loaded(session_id):
        if not force:
            raise RebuildRefused(
                "The session is still in Redis; rebuilding would discard live state (use --force).",
                session_id=session_id,
            )
        unload_session(session_id)
    if session.ends_at <= now:
        raise RebuildRefused("The session is over; there is nothing to restore for shoppers.", session_id=session_id)

    report = RebuildReport(session_id=session_id)
    # Audit repairs put the list back to the plan; they are recorded but do not change it.
    planned = Adjustment.objects.filter(item__session=session).exclude(reason__startswith=REPAIR_REASON_PREFIX)
    adjustments = dict(planned.values_list("item").annotate(total=Sum("delta")))
    added = dict(planned.filter(delta__gt=0).values_list("item").annotate(total=Sum("delta")))
    transactions = list(Transaction.objects.filter(session=session).order_by("reserved_at"))
    by_item: dict[int, list[Transaction]] = {}
    for txn in transactions:
        by_item.setdefault(txn.item_id, []).append(txn)

    item_states: list[stock.RestoredItem] = []
    for item in session.items.order_by("display_order", "id"):
        adjusted = adjustments.get(item.pk, 0)
        issued = item.quantity + added.get(item.pk, 0)
        taken_units: set[str] = set()
        held = paid = returned = late = 0
        for txn in by_item.get(item.pk, []):
            if txn.paid_after_expiry:
                late += 1
            if txn.status not in TAKEN:
                returned += txn.quantity
                continue
            if txn.status == Transaction.Status.RESERVED:
                held += txn.quantity
            else:
                paid += txn.quantity
            for unit in txn.units:
                if unit in taken_units:
                    report.problems.append(f"item {item.pk}: unit {unit} is in two transactions (second: {txn.txn_id})")
                taken_units.add(unit)
            if len(txn.units) != txn.quantity:
                report.problems.append(
                    f"item {item.pk}: transaction {txn.txn_id} lists {len(txn.units)} units for quantity {txn.quantity}"
                )
        remaining = item.quantity + adjusted - held - paid
        free = [u for u in (unit_id(item.pk, n) for n in range(1, issued + 1)) if u not in taken_units]
        if remaining < 0:
            report.problems.append(
                f"item {item.pk}: {held + paid} units held or paid but only {item.quantity + adjusted} on sale "
                f"({-remaining} oversold); nothing put back on sale"
            )
            remaining = 0
        if remaining > len(free):
            report.problems.append(
                f"item {item.pk}: {remaining} units should be on sale but only {len(free)} unit ids are free"
            )
            remaining = len(free)
        item_states.append(
            stock.RestoredItem(
                item_id=item.pk,
                units=free[:remaining],
                issued=issued,
                counts={
                    "allocated": item.quantity,
                    "adjusted": adjusted,
                    "held": held,
                    "paid": paid,
                    "returned": returned,
                    "paid_after_expiry": late,
                },
            )
        )
        report.items.append(ItemRebuild(item.pk, item.quantity, adjusted, held, paid, remaining))
        report.holds += sum(1 for t in by_item.get(item.pk, []) if t.status == Transaction.Status.RESERVED)

    known_items = {state.item_id for state in item_states}
    for txn in transactions:
        if txn.item_id not in known_items:
            report.problems.append(f"transaction {txn.txn_id} names item {txn.item_id}, no longer in the session")
    stock.write_restored_state(
        session_id,
        items=item_states,
        transactions=[stock.restored_txn(txn) for txn in transactions if txn.item_id in known_items],
    )
    report.transactions = sum(1 for txn in transactions if txn.item_id in known_items)
    # Display data, the window and, last, the session hash: the session reappears complete.
    load_session_into_redis(session, now=now)
    return report
