"""Restoring a session's Redis state from PostgreSQL after Redis lost it (no AOF, FLUSHDB, new node).

PostgreSQL knows every drained Transaction. For each item: units on sale = allocated + operators'
adjustments; units taken = those of reserved and paid transactions (their exact unit ids); the
list gets back the rest. Holds, per-user counts and transaction hashes are re-created, then
``plans.loading`` publishes the display data and, last, the session hash, so shoppers never see
a half-restored session. What cannot be accounted for is reported, never guessed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Sum

from flashsale import clock
from flashsale.progress import NO_PROGRESS, Progress
from flashsale.store import keys
from flashsale.store.client import sale_redis
from flashsale.store.replies import lua_number
from plans.loading import UNITS_PER_COMMAND, is_loaded, load_session_into_redis, unit_id, unload_session
from plans.models import Adjustment, SaleItem, SaleSession
from reservations.audit import REPAIR_REASON_PREFIX
from reservations.models import Transaction
from reservations.states import ACTIVE_STATUSES, PAID_AFTER_EXPIRY, REFUND_DUE_STATUSES, ReservationStatus

REJECTION_COUNTERS = ("rejected_sold_out", "rejected_limit", "rejected_rate_limited", "rejected_closed")


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


def rebuild_session(
    session_id: int, *, force: bool = False, now: datetime | None = None, progress: Progress = NO_PROGRESS
) -> RebuildReport:
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
    transactions = list(Transaction.objects.in_session(session.pk).order_by("reserved_at"))
    by_item: dict[int, list[Transaction]] = {}
    for txn in transactions:
        by_item.setdefault(txn.item_id, []).append(txn)

    items = list(session.items.order_by("display_order", "id"))
    progress.start(f"session {session_id}: items", len(items), unit="items")
    restored = []
    for item in items:
        restored.append(
            _restore_item(
                item,
                by_item.get(item.pk, []),
                adjusted=adjustments.get(item.pk, 0),
                added=added.get(item.pk, 0),
                report=report,
            )
        )
        progress.advance()
    progress.finish()
    known_items = {state.item_id for state in restored}
    for txn in transactions:
        if txn.item_id not in known_items:
            report.problems.append(f"transaction {txn.txn_id} names item {txn.item_id}, no longer in the session")
    kept = [txn for txn in transactions if txn.item_id in known_items]
    write_restored_state(session_id, items=restored, transactions=[restored_txn(txn) for txn in kept])
    report.transactions = len(kept)
    # Display data, the window and, last, the session hash: the session reappears complete.
    load_session_into_redis(session, now=now, progress=progress)
    return report


def _restore_item(
    item: SaleItem, txns: list[Transaction], *, adjusted: int, added: int, report: RebuildReport
) -> RestoredItem:
    """One item's list, counts and free unit ids from its transactions; problems go to ``report``."""
    issued = item.quantity + added
    taken_units: set[str] = set()
    held = paid = returned = late = 0
    for txn in txns:
        late += int(txn.paid_after_expiry)
        if txn.status not in ACTIVE_STATUSES:
            returned += txn.quantity
            continue
        if txn.status == ReservationStatus.RESERVED:
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
    report.items.append(ItemRebuild(item.pk, item.quantity, adjusted, held, paid, remaining))
    report.holds += sum(1 for t in txns if t.status == ReservationStatus.RESERVED)
    counts = {"allocated": item.quantity, "adjusted": adjusted, "held": held, "paid": paid, "returned": returned}
    return RestoredItem(
        item_id=item.pk, units=free[:remaining], issued=issued, counts=counts | {"paid_after_expiry": late}
    )


# --- the restore writes ------------------------------------------------------------------------


@dataclass(frozen=True)
class RestoredItem:
    item_id: int
    units: list[str]
    issued: int
    counts: dict[str, int]


def restored_txn(txn: Transaction) -> dict[str, str]:
    """The txn hash of a persisted Transaction, as the reserve and pay scripts write it."""
    status = txn.status
    data = {
        "txn": txn.txn_id,
        "user": str(txn.user_id),
        "item": str(txn.item_id),
        "units": json.dumps(list(txn.units)),
        "quantity": str(txn.quantity),
        "amount": str(txn.amount),
        "currency": txn.currency,
        "status": status,
        "reserved_at": lua_number(txn.reserved_at.timestamp()),
        "expires_at": f"{txn.expires_at.timestamp():.3f}",
        "entered_at": lua_number(txn.entered_at.timestamp()) if txn.entered_at else "",
        "latitude": str(txn.latitude) if txn.latitude is not None else "",
        "longitude": str(txn.longitude) if txn.longitude is not None else "",
        "kid": txn.token.split(".")[1] if txn.token.count(".") == 2 else "",
    }
    if txn.paid_at:
        data["paid_at"] = lua_number(txn.paid_at.timestamp())
    if txn.gateway_order_id:
        data["gateway_order_id"] = txn.gateway_order_id
    if status in REFUND_DUE_STATUSES:
        # How the hold ended is not kept in PostgreSQL; a late payment's hold had expired.
        data["released_as"] = ReservationStatus.EXPIRED if status == PAID_AFTER_EXPIRY else status
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
        for start in range(0, len(item.units), UNITS_PER_COMMAND):
            pipe.rpush(keys.stock(session_id, item.item_id), *item.units[start : start + UNITS_PER_COMMAND])
        counts = dict.fromkeys(REJECTION_COUNTERS, 0) | item.counts
        pipe.hset(keys.counts(session_id, item.item_id), mapping=counts)
        # Marks the item's stock as present, so loading does not push a fresh full list.
        pipe.hset(keys.loaded(session_id), str(item.item_id), item.issued)
    for data in transactions:
        user_id, item_id, txn_id = int(data["user"]), int(data["item"]), data["txn"]
        pipe.hset(keys.txn(session_id, txn_id), mapping=data)
        pipe.hset(keys.user(session_id, user_id), keys.user_txn_field(txn_id), str(item_id))
        if data["status"] in ACTIVE_STATUSES:
            pipe.hincrby(keys.user(session_id, user_id), str(item_id), int(data["quantity"]))
        if data["status"] == ReservationStatus.RESERVED:
            pipe.zadd(keys.holds(session_id), {txn_id: float(data["expires_at"])})
    pipe.execute()
