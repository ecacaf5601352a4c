"""Continuous stock audit of loaded sessions: every unit accounted for, drift raised and repairable.

For every item the audit checks, on one atomic snapshot (MULTI) of its Redis figures::

    units in the stock list + held + paid + returning == allocated + adjusted

``returned`` is not in the sum: it counts units already pushed back into the list (expired or
cancelled holds), which the list length includes. ``returning`` is the returned-in-flight part:
units that have left ``held``/``paid`` on their way back but are not in the list yet. The release
and pay scripts move units back in the same atomic step, so it is 0 at every instant another
client can see; a future two-step return must count its units there until they are pushed.

It also checks the Redis totals against PostgreSQL (``allocated`` == SaleItem.quantity,
``adjusted`` == the sum of operators' Adjustments) and, per user, the user hash against their
active transactions (``reserved`` or ``paid``, from the Redis txn hashes, falling back to the
PostgreSQL Transaction rows for any txn hash no longer in Redis).

Drift is logged at error level with the numbers, the latest report is kept in Redis
(``keys.audit``) and the session listed in ``keys.audit_alerts`` for the admin banner.
``reservations.audit_repair.repair_session`` puts the list right from PostgreSQL's totals and
records an Adjustment.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

from django.conf import settings
from django.db.models import Sum
from redis.exceptions import WatchError

from flashsale import clock
from flashsale.store import keys
from flashsale.store.client import sale_redis
from flashsale.store.replies import as_int, as_str, item_counts, text, user_txn_ids
from plans.models import Adjustment, SaleItem
from reservations.models import Transaction
from reservations.states import ACTIVE_STATUSES

log = logging.getLogger(__name__)

REPAIR_REASON_PREFIX = "audit repair: "
SCAN_COUNT = 1000
# A user whose figures moved while being read is read again under WATCH this many times.
USER_RECHECKS = 5


@dataclass(frozen=True)
class ItemAudit:
    """One item's figures. ``drift`` > 0: more units than planned could still sell; < 0: units lost."""

    item_id: int
    in_list: int
    held: int
    paid: int
    returning: int
    returned: int
    allocated: int
    adjusted: int
    planned_allocated: int
    planned_adjusted: int

    @property
    def accounted(self) -> int:
        return self.in_list + self.held + self.paid + self.returning

    @property
    def expected(self) -> int:
        return self.allocated + self.adjusted

    @property
    def drift(self) -> int:
        return self.accounted - self.expected

    @property
    def totals_match_plan(self) -> bool:
        return (self.allocated, self.adjusted) == (self.planned_allocated, self.planned_adjusted)

    @property
    def ok(self) -> bool:
        return self.drift == 0 and self.totals_match_plan

    def describe(self) -> str:
        text = (
            f"item {self.item_id}: list {self.in_list} + held {self.held} + paid {self.paid} + returning "
            f"{self.returning} = {self.accounted}, allocated {self.allocated} + adjusted {self.adjusted} = "
            f"{self.expected} (drift {self.drift:+d})"
        )
        if not self.totals_match_plan:
            text += (
                f"; PostgreSQL plans allocated {self.planned_allocated} + adjusted {self.planned_adjusted}"
                f" but Redis has {self.allocated} + {self.adjusted}"
            )
        return text


@dataclass(frozen=True)
class UserMismatch:
    """The user hash says ``counted`` units of an item; their active transactions add up to ``active``."""

    user_id: int
    item_id: int
    counted: int
    active: int
    txn_ids: tuple[str, ...]

    def describe(self) -> str:
        return f"user {self.user_id} item {self.item_id}: user hash {self.counted}, active transactions {self.active}"

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> UserMismatch:
        """From the JSON a stored report holds (``AuditReport.as_dict``)."""
        return cls(
            user_id=int(data["user_id"]),
            item_id=int(data["item_id"]),
            counted=int(data["counted"]),
            active=int(data["active"]),
            txn_ids=tuple(data.get("txn_ids", ())),
        )


@dataclass(frozen=True)
class AuditReport:
    session_id: int
    checked_at: float
    items: tuple[ItemAudit, ...]
    users: tuple[UserMismatch, ...] = ()
    users_checked: int = 0
    missing_items: tuple[int, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return all(item.ok for item in self.items) and not self.users and not self.missing_items

    @property
    def drifting_items(self) -> tuple[ItemAudit, ...]:
        return tuple(item for item in self.items if not item.ok)

    def summary(self) -> str:
        if self.ok:
            return f"session {self.session_id}: {len(self.items)} items and {self.users_checked} users balanced"
        parts = [item.describe() for item in self.drifting_items]
        parts += [mismatch.describe() for mismatch in self.users]
        parts += [f"item {item_id}: planned but not in Redis" for item_id in self.missing_items]
        return f"session {self.session_id}: " + "; ".join(parts)

    def as_dict(self) -> dict:
        data = asdict(self)
        data["ok"] = self.ok
        data["summary"] = self.summary()
        for item, raw in zip(self.items, data["items"], strict=True):
            raw.update(drift=item.drift, accounted=item.accounted, expected=item.expected, ok=item.ok)
        return data

    @classmethod
    def from_dict(cls, data: dict) -> AuditReport:
        item_fields = ItemAudit.__dataclass_fields__
        return cls(
            session_id=data["session_id"],
            checked_at=data["checked_at"],
            items=tuple(ItemAudit(**{k: v for k, v in raw.items() if k in item_fields}) for raw in data["items"]),
            users=tuple(UserMismatch.from_dict(raw) for raw in data.get("users", [])),
            users_checked=data.get("users_checked", 0),
            missing_items=tuple(data.get("missing_items", [])),
        )


# --- reading -----------------------------------------------------------------------------------


def planned_totals(session_id: int) -> dict[int, tuple[int, int]]:
    """Item id -> (allocated, operators' adjustments) from PostgreSQL; audit repairs are not plans."""
    quantities = dict(SaleItem.objects.filter(session_id=session_id).values_list("pk", "quantity"))
    adjusted = dict(
        Adjustment.objects.filter(item__session_id=session_id)
        .exclude(reason__startswith=REPAIR_REASON_PREFIX)
        .values("item_id")
        .annotate(total=Sum("delta"))
        .values_list("item_id", "total")
    )
    return {item_id: (quantity, adjusted.get(item_id) or 0) for item_id, quantity in quantities.items()}


def _snapshot(r, session_id: int, item_ids: list[int]) -> dict[int, tuple[int, dict[str, int]]]:
    """Item id -> (list length, counts) read in one MULTI: a consistent instant for every item."""
    pipe = r.pipeline(transaction=True)
    for item_id in item_ids:
        pipe.llen(keys.stock(session_id, item_id))
        pipe.hgetall(keys.counts(session_id, item_id))
    replies = pipe.execute() if item_ids else []
    found = {}
    for index, item_id in enumerate(item_ids):
        length, raw = replies[2 * index], replies[2 * index + 1]
        if raw:
            found[item_id] = (int(length), {text(k): as_int(v) for k, v in raw.items()})
    return found


def _item_audit(item_id: int, length: int, counts: dict[str, int], planned: tuple[int, int]) -> ItemAudit:
    return ItemAudit(
        item_id=item_id,
        in_list=length,
        held=counts.get("held", 0),
        paid=counts.get("paid", 0),
        returning=counts.get("returning", 0),
        returned=counts.get("returned", 0),
        allocated=counts.get("allocated", 0),
        adjusted=counts.get("adjusted", 0),
        planned_allocated=planned[0],
        planned_adjusted=planned[1],
    )


def _scan_ids(r, pattern: str, prefix: str) -> set[int]:
    found = set()
    for key in r.scan_iter(match=pattern, count=SCAN_COUNT):
        tail = text(key)[len(prefix) :]
        if tail.isdigit():
            found.add(int(tail))
    return found


def _session_users(r, session_id: int) -> set[int]:
    """Every user with a count or a reservation in the session (SCAN, never KEYS)."""
    user_prefix = keys.user(session_id, 0)[:-1]
    txns_prefix = keys.user_txns(session_id, 0)[:-1]
    return _scan_ids(r, user_prefix + "*", user_prefix) | _scan_ids(r, txns_prefix + "*", txns_prefix)


Holders = dict[int, set[str]]


def _holders(r, session_id: int) -> Holders:
    """User -> TransactionIDs of the session's unpaid holds, from the txn hashes ``holds`` names.

    The user hash lists the user's reservations itself (``t:`` fields) beside their counts: this
    second witness still sees a hold whose user hash was lost whole.
    """
    txn_ids = [text(t) for t in r.zrange(keys.holds(session_id), 0, -1)]
    pipe = r.pipeline(transaction=False)
    for txn_id in txn_ids:
        pipe.hget(keys.txn(session_id, txn_id), "user")
    found: Holders = {}
    for txn_id, user in zip(txn_ids, pipe.execute() if txn_ids else [], strict=True):
        if user is not None:
            found.setdefault(as_int(user), set()).add(txn_id)
    return found


TXN_FIELDS = ("item", "quantity", "status")


def _active_units(txns: dict[str, tuple[str | None, ...]], fallback: dict[str, tuple[int, int]]) -> Counter:
    """Units per item of the active transactions: the Redis hashes, or PostgreSQL's active rows for
    the hashes no longer in Redis (``fallback`` holds only active rows)."""
    active: Counter = Counter()
    for txn_id, (item, quantity, status) in txns.items():
        if status is None:
            if txn_id in fallback:
                item_id, units = fallback[txn_id]
                active[item_id] += units
            continue
        if status in ACTIVE_STATUSES and item is not None:
            active[int(item)] += as_int(quantity)
    return active


def _pg_fallback(session_id: int, txn_ids: set[str]) -> dict[str, tuple[int, int]]:
    """TransactionID -> (item, units) of the session's active rows among ``txn_ids``."""
    if not txn_ids:
        return {}
    rows = Transaction.objects.in_session(session_id).active().filter(txn_id__in=txn_ids)
    return {
        txn_id: (item_id, quantity) for txn_id, item_id, quantity in rows.values_list("txn_id", "item_id", "quantity")
    }


def _user_figures(
    r, session_id: int, users: list[int], holders: Holders
) -> dict[int, tuple[dict[int, int], dict[str, tuple]]]:
    """User -> (user hash, their txns' fields), pipelined; not atomic across users (rechecked)."""
    pipe = r.pipeline(transaction=False)
    for user_id in users:
        pipe.hgetall(keys.user(session_id, user_id))
        pipe.smembers(keys.user_txns(session_id, user_id))
    replies = pipe.execute() if users else []
    txn_lists = {}
    pipe = r.pipeline(transaction=False)
    for index, user_id in enumerate(users):
        txn_ids = user_txn_ids(replies[2 * index], [*replies[2 * index + 1], *holders.get(user_id, ())])
        txn_lists[user_id] = txn_ids
        for txn_id in txn_ids:
            pipe.hmget(keys.txn(session_id, txn_id), *TXN_FIELDS)
    txn_replies = iter(pipe.execute())
    figures = {}
    for index, user_id in enumerate(users):
        counted = item_counts(replies[2 * index])
        txns = {txn_id: tuple(as_str(v) for v in next(txn_replies)) for txn_id in txn_lists[user_id]}
        figures[user_id] = (counted, txns)
    return figures


def _mismatches(
    user_id: int, counted: dict[int, int], txns: dict[str, tuple], fallback: dict[str, tuple[int, int]]
) -> list[UserMismatch]:
    active = _active_units(txns, fallback)
    found = []
    for item_id in sorted(set(counted) | set(active)):
        if counted.get(item_id, 0) != active.get(item_id, 0):
            ids = tuple(
                t for t, fields in txns.items() if fields[0] == str(item_id) or fallback.get(t, (None,))[0] == item_id
            )
            found.append(UserMismatch(user_id, item_id, counted.get(item_id, 0), active.get(item_id, 0), ids))
    return found


def _recheck_user(r, session_id: int, user_id: int, held: set[str]) -> list[UserMismatch]:
    """Read one user's figures under WATCH: a reservation or release in between forces a re-read.

    Every change of a user's active units (reserve, release, late payment) writes their user hash
    (its ``t:`` fields name their reservations; an older release's set too), so an unchanged pair
    means the txn fields read belong to the same instant.
    """
    user_key, txns_key = keys.user(session_id, user_id), keys.user_txns(session_id, user_id)
    for _ in range(USER_RECHECKS):
        with r.pipeline(transaction=True) as pipe:
            try:
                pipe.watch(user_key, txns_key)
                user_hash = pipe.hgetall(user_key)
                counted = item_counts(user_hash)
                txn_ids = user_txn_ids(user_hash, [*pipe.smembers(txns_key), *held])
                txns = {t: tuple(as_str(v) for v in pipe.hmget(keys.txn(session_id, t), *TXN_FIELDS)) for t in txn_ids}
                pipe.multi()
                pipe.exists(user_key)
                pipe.execute()
            except WatchError:
                continue
        missing = {t for t, fields in txns.items() if fields[2] is None}
        return _mismatches(user_id, counted, txns, _pg_fallback(session_id, missing))
    log.warning("audit of session %s: user %s kept changing; not checked this time", session_id, user_id)
    return []


def _audit_users(r, session_id: int) -> tuple[list[UserMismatch], int]:
    holders = _holders(r, session_id)
    users = sorted(_session_users(r, session_id) | set(holders))
    figures = _user_figures(r, session_id, users, holders)
    missing = {t for _, txns in figures.values() for t, fields in txns.items() if fields[2] is None}
    fallback = _pg_fallback(session_id, missing)
    found = []
    for user_id, (counted, txns) in figures.items():
        if _mismatches(user_id, counted, txns, fallback):
            # Maybe only a reservation landing between two reads: confirm on a consistent read.
            found += _recheck_user(r, session_id, user_id, holders.get(user_id, set()))
    return found, len(users)


# --- the audit ---------------------------------------------------------------------------------


def audit_session(session_id: int, *, now: float | None = None, store: bool = True) -> AuditReport:
    """Audit every item and user of a loaded session; log and store the report (unless ``store=False``)."""
    checked_at = clock.now_ts() if now is None else float(now)
    r = sale_redis()
    planned = planned_totals(session_id)
    snapshot = _snapshot(r, session_id, sorted(planned))
    items = tuple(
        _item_audit(item_id, length, counts, planned[item_id]) for item_id, (length, counts) in sorted(snapshot.items())
    )
    # A session not in Redis at all has nothing to audit; a loaded one missing an item is drift.
    missing = tuple(sorted(set(planned) - set(snapshot))) if snapshot else ()
    mismatches, users_checked = _audit_users(r, session_id) if snapshot else ([], 0)
    report = AuditReport(
        session_id=session_id,
        checked_at=checked_at,
        items=items,
        users=tuple(mismatches),
        users_checked=users_checked,
        missing_items=missing,
    )
    if not report.ok:
        log.error("stock audit found drift: %s", report.summary())
    else:
        log.info("stock audit: %s", report.summary())
    if store and snapshot:
        store_report(report)
    return report


def store_report(report: AuditReport) -> None:
    r = sale_redis()
    r.set(keys.audit(report.session_id), json.dumps(report.as_dict()), ex=settings.FLASHSALE_AUDIT_REPORT_TTL_SECONDS)
    # The alerts index has no hash tag (another slot): a separate command, not in a pipeline.
    if report.ok:
        r.zrem(keys.audit_alerts(), str(report.session_id))
    else:
        r.zadd(keys.audit_alerts(), {str(report.session_id): report.checked_at})


def latest_report(session_id: int) -> AuditReport | None:
    """The last stored audit of the session (for the admin page), ``None`` if never audited."""
    raw = sale_redis().get(keys.audit(session_id))
    return AuditReport.from_dict(json.loads(text(raw))) if raw else None


def drifting_sessions() -> list[int]:
    """Ids of sessions whose latest audit found drift, most recent first (for the admin banner)."""
    return [as_int(member) for member in sale_redis().zrevrange(keys.audit_alerts(), 0, -1)]
