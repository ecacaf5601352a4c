"""The soak's invariants, checked every minute while the crowd runs and once more at the end.

- the stock audit of every session (``reservations.audit``: per item ``remaining + held + paid +
  returning == allocated + adjusted`` on one atomic snapshot, Redis against PostgreSQL's totals,
  and every shopper's counts against their reservations);
- no unit sold twice: each unit id of an item at most once over its stock list and its live
  reservations (Redis) and over its live Transaction rows (PostgreSQL);
- every redirect to the gateway the crowd saw has its Transaction row once drained.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import asdict, dataclass, field

from flashsale.store import keys
from flashsale.store.replies import as_str, user_txn_ids

REDIS_RETRY_SECONDS = 30.0
# A redirect must have its row this long after it was seen (the drainer may be mid-restart).
PERSIST_AFTER_SECONDS = 60.0


@dataclass
class Check:
    name: str
    ok: bool
    detail: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return asdict(self)


def _retrying(read, *, what: str):
    """``read()``, tried again while Redis or PostgreSQL is down (a fault may be under way)."""
    from django.db import close_old_connections

    deadline = time.monotonic() + REDIS_RETRY_SECONDS
    while True:
        try:
            return read()
        except Exception:
            if time.monotonic() > deadline:
                raise
            close_old_connections()
            time.sleep(1)


def stock_audit(session_ids: list[int]) -> Check:
    from reservations.audit import audit_session

    reports = {sid: _retrying(lambda sid=sid: audit_session(sid, store=False), what="audit") for sid in session_ids}
    failing = {sid: report.summary() for sid, report in reports.items() if not report.ok}
    items = sum(len(report.items) for report in reports.values())
    users = sum(report.users_checked for report in reports.values())
    return Check("stock_audit", not failing, {"items": items, "users_checked": users, "drift": failing})


def _redis_units(r, session_id: int, item_ids: list[int], user_ids: list[int]) -> dict[int, Counter]:
    """Per item, how often each unit id is on the stock list or in a live reservation."""
    pipe = r.pipeline(transaction=False)
    for user_id in user_ids:
        pipe.hgetall(keys.user(session_id, user_id))
        pipe.smembers(keys.user_txns(session_id, user_id))
    replies = pipe.execute()
    txn_ids = sorted({t for index in range(0, len(replies), 2) for t in user_txn_ids(*replies[index : index + 2])})
    pipe = r.pipeline(transaction=False)
    for txn_id in txn_ids:
        pipe.hgetall(keys.txn(session_id, txn_id))
    for item_id in item_ids:
        pipe.lrange(keys.stock(session_id, item_id), 0, -1)
    replies = pipe.execute()
    seen: dict[int, Counter] = {item_id: Counter() for item_id in item_ids}
    for raw in replies[: len(txn_ids)]:
        data = {as_str(k): as_str(v) for k, v in raw.items()}
        if data.get("status") in ("reserved", "paid") and data.get("item"):
            seen.setdefault(int(data["item"]), Counter()).update(json.loads(data.get("units") or "[]"))
    for item_id, units in zip(item_ids, replies[len(txn_ids) :], strict=True):
        seen[item_id].update(as_str(u) for u in units)
    return seen


def no_unit_sold_twice(r, sales, user_ids: list[int]) -> Check:
    from reservations.models import Transaction
    from reservations.states import ACTIVE_STATUSES

    twice: dict[str, list[str]] = {}
    for sale in sales:
        item_ids = [item.pk for item in sale.items]
        counted = _retrying(lambda sale=sale, ids=item_ids: _redis_units(r, sale.id, ids, user_ids), what="units")
        for item_id, units in counted.items():
            doubled = sorted(u for u, n in units.items() if n > 1)
            if doubled:
                twice[f"redis item {item_id}"] = doubled[:10]
    rows: dict[int, Counter] = {}
    for item_id, units in Transaction.objects.filter(status__in=ACTIVE_STATUSES).values_list("item_id", "units"):
        rows.setdefault(item_id, Counter()).update(units)
    for item_id, units in rows.items():
        doubled = sorted(u for u, n in units.items() if n > 1)
        if doubled:
            twice[f"postgresql item {item_id}"] = doubled[:10]
    return Check("no_unit_sold_twice", not twice, {"twice": twice})


def redirects_persisted(redirects: list[dict], *, now: float, settle: float = PERSIST_AFTER_SECONDS) -> Check:
    from reservations.models import Transaction

    due = [r["txn_id"] for r in redirects if r["t"] <= now - settle]
    found = Counter()
    for start in range(0, len(due), 1000):
        chunk = due[start : start + 1000]
        found.update(
            _retrying(
                lambda c=chunk: list(Transaction.objects.filter(txn_id__in=c).values_list("txn_id", flat=True)),
                what="rows",
            )
        )
    missing = [t for t in due if not found[t]]
    more_than_once = [t for t, n in found.items() if n > 1]
    return Check(
        "redirects_persisted",
        not missing and not more_than_once,
        {"redirects": len(redirects), "checked": len(due), "missing": missing[:20], "more_than_once": more_than_once},
    )


def minute_checks(r, sales, user_ids: list[int], redirects: list[dict], *, now: float) -> list[Check]:
    session_ids = [sale.id for sale in sales]
    return [
        stock_audit(session_ids),
        no_unit_sold_twice(r, sales, user_ids),
        redirects_persisted(redirects, now=now),
    ]
