"""Repairing drift the stock audit found: put each item's list right from PostgreSQL's totals.

The list should hold ``allocated + adjustments - held - paid - returning`` units (totals from
PostgreSQL, holds and payments from Redis). The difference is invariant under reservations,
releases and payments running meanwhile (each moves units between the list and held/paid), so it
is applied without stopping the sale. Every change is recorded as an Adjustment whose reason
starts with ``REPAIR_REASON_PREFIX`` (excluded from ``adjusted``, see ``flashsale.store.keys``).
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from flashsale.store import keys
from flashsale.store.client import sale_redis
from flashsale.store.replies import as_int, text
from plans.loading import unit_id
from plans.models import Adjustment
from reservations.audit import REPAIR_REASON_PREFIX, AuditReport, audit_session, planned_totals

log = logging.getLogger(__name__)

REPAIR_LOCK_SECONDS = 120


class AuditRepairBusy(Exception):
    """Another repair of the same session is running."""

    def __init__(self, session_id: int):
        super().__init__(f"A repair of session {session_id} is already running.")
        self.session_id = session_id


@dataclass(frozen=True)
class ItemRepair:
    item_id: int
    list_before: int
    list_target: int
    pushed: int
    trimmed: int
    totals_reset: bool
    oversold: int
    adjustment_id: int | None

    @property
    def delta(self) -> int:
        return self.pushed - self.trimmed


@dataclass(frozen=True)
class RepairResult:
    session_id: int
    items: tuple[ItemRepair, ...]
    report: AuditReport

    @property
    def changed(self) -> bool:
        return any(item.delta or item.totals_reset for item in self.items)


def repair_session(session_id: int, *, user: Any = None, now: float | None = None) -> RepairResult:
    """Put every item's stock list right from PostgreSQL's totals; record each change as an Adjustment.

    Missing units are pushed with new unit numbers; surplus units are trimmed, duplicated or
    never-issued unit ids first, then from the head (where a stray LPUSH lands and where the next
    reservation would pop). Units already sold beyond the plan cannot be taken back: that is
    reported as ``oversold``. Then the session is audited again.
    """
    r = sale_redis()
    lock = keys.audit_lock(session_id)
    if not r.set(lock, "1", nx=True, ex=REPAIR_LOCK_SECONDS):
        raise AuditRepairBusy(session_id)
    try:
        repairs = []
        for item_id, totals in sorted(planned_totals(session_id).items()):
            repaired = _repair_item(r, session_id, item_id, totals, user=user)
            if repaired is not None:
                repairs.append(repaired)
    finally:
        r.delete(lock)
    report = audit_session(session_id, now=now)
    for repaired in repairs:
        log.warning(
            "audit repair of session %s item %s: list %s -> target %s, pushed %s, trimmed %s%s",
            session_id,
            repaired.item_id,
            repaired.list_before,
            repaired.list_target,
            repaired.pushed,
            repaired.trimmed,
            f", {repaired.oversold} unit(s) oversold" if repaired.oversold else "",
        )
    return RepairResult(session_id=session_id, items=tuple(repairs), report=report)


def _surplus_units(item_id: int, units: list[str], limit: int, *, issued: int) -> list[str]:
    """Up to ``limit`` unit ids that should not be in the list: extra copies, then ids never issued."""
    surplus: list[str] = []
    counts = Counter(units)
    for unit, count in counts.items():
        surplus += [unit] * (count - 1)
    prefix = f"{item_id}:"
    for unit in counts:
        number = unit[len(prefix) :] if unit.startswith(prefix) else ""
        # Another item's id, garbage, or a number beyond the last one loading or adjusting issued.
        if not number.isdigit() or int(number) > issued:
            surplus.append(unit)
    return surplus[:limit]


@dataclass(frozen=True)
class _ItemState:
    """One atomic read (MULTI) of an item's list and counters, and what the list should hold."""

    item_id: int
    length: int
    units: list[str]
    issued: int
    counts: dict[str, int]
    planned: tuple[int, int]  # allocated, adjusted (PostgreSQL)

    @property
    def sold(self) -> int:
        return self.counts.get("held", 0) + self.counts.get("paid", 0) + self.counts.get("returning", 0)

    @property
    def wanted(self) -> int:
        return self.planned[0] + self.planned[1] - self.sold

    @property
    def target(self) -> int:
        return max(0, self.wanted)

    @property
    def delta(self) -> int:
        return self.target - self.length

    @property
    def totals_reset(self) -> bool:
        return (self.counts.get("allocated", 0), self.counts.get("adjusted", 0)) != self.planned


def _read_item(r: Any, session_id: int, item_id: int, planned: tuple[int, int]) -> _ItemState | None:
    pipe = r.pipeline(transaction=True)
    pipe.llen(keys.stock(session_id, item_id))
    pipe.hgetall(keys.counts(session_id, item_id))
    pipe.lrange(keys.stock(session_id, item_id), 0, -1)
    pipe.hget(keys.loaded(session_id), str(item_id))
    length, raw_counts, raw_units, issued = pipe.execute()
    if not raw_counts:
        return None
    return _ItemState(
        item_id=item_id,
        length=int(length),
        units=[text(u) for u in raw_units],
        issued=as_int(issued),
        counts={text(k): as_int(v) for k, v in raw_counts.items()},
        planned=planned,
    )


def _repair_item(r: Any, session_id: int, item_id: int, totals: tuple[int, int], *, user: Any) -> ItemRepair | None:
    state = _read_item(r, session_id, item_id, totals)
    if state is None or (state.delta == 0 and not state.totals_reset):
        return None
    with transaction.atomic():
        adjustment = None
        if state.delta:
            adjustment = Adjustment.objects.create(
                item_id=item_id,
                delta=state.delta,
                reason=f"{REPAIR_REASON_PREFIX}list held {state.length}, should hold {state.target} "
                f"(allocated {totals[0]} + adjusted {totals[1]} - held/paid/returning {state.sold})",
                created_by=user,
            )
        pushed, trimmed = _apply(r, session_id, state)
        applied = pushed - trimmed
        if adjustment is not None and applied != state.delta:
            # Reservations emptied part of the list meanwhile: record what was really done.
            if applied:
                Adjustment.objects.filter(pk=adjustment.pk).update(delta=applied)
            else:
                Adjustment.objects.filter(pk=adjustment.pk).delete()
                adjustment = None
    return ItemRepair(
        item_id=item_id,
        list_before=state.length,
        list_target=state.target,
        pushed=pushed,
        trimmed=trimmed,
        totals_reset=state.totals_reset,
        oversold=max(0, -state.wanted),
        adjustment_id=adjustment.pk if adjustment else None,
    )


def _apply(r: Any, session_id: int, state: _ItemState) -> tuple[int, int]:
    """Reset the totals, trim the surplus or push fresh units, in one MULTI; returns (pushed, trimmed)."""
    item_id, delta = state.item_id, state.delta
    stock_key = keys.stock(session_id, item_id)
    new_units: list[str] = []
    if delta > 0:
        # Reserve fresh unit numbers first (the loaded hash holds the last one issued).
        last = r.hincrby(keys.loaded(session_id), str(item_id), delta)
        new_units = [unit_id(item_id, n) for n in range(last - delta + 1, last + 1)]
    surplus = _surplus_units(item_id, state.units, -delta, issued=state.issued) if delta < 0 else []
    from_head = -delta - len(surplus) if delta < 0 else 0
    pipe = r.pipeline(transaction=True)
    if state.totals_reset:
        pipe.hset(
            keys.counts(session_id, item_id), mapping={"allocated": state.planned[0], "adjusted": state.planned[1]}
        )
    for unit in surplus:
        pipe.lrem(stock_key, 1, unit)
    if from_head > 0:
        pipe.lpop(stock_key, from_head)
    if new_units:
        pipe.rpush(stock_key, *new_units)
    # Last, so the replies above keep their positions: the stock poll's snapshots see a new version.
    pipe.hincrby(keys.session(session_id), "stock_version", 1)
    replies = pipe.execute()
    replies = replies[1:] if state.totals_reset else replies
    trimmed = sum(int(reply) for reply in replies[: len(surplus)])
    if from_head > 0:
        trimmed += len(replies[len(surplus)] or [])
    return len(new_units), trimmed
