"""What the admin live page shows for one session: per-item stock figures and reservations per minute.

Figures come from Redis while the session is there, from the saved final counts afterwards, and
from the plan (allocated only) before it is loaded. Nothing here is on a shopper's path.
"""

from __future__ import annotations

from datetime import datetime

from flashsale import clock
from plans.final_counts import final_counts
from plans.models import SaleSession
from plans.stock import ItemCounts, session_counts, session_totals, timeline

SOURCE_REDIS = "redis"
SOURCE_FINAL = "final"
SOURCE_PLAN = "plan"


def _planned(quantity: int) -> ItemCounts:
    return ItemCounts(quantity, *(0,) * (len(ItemCounts._fields) - 1))


def live_snapshot(session: SaleSession, *, now: datetime | None = None) -> dict:
    """A JSON-ready picture of the session's stock and reservations at ``now``."""
    now = now or clock.now()
    items = list(session.items.select_related("product").order_by("display_order", "id"))
    counts = session_counts(session.pk, [item.pk for item in items])
    source = SOURCE_REDIS
    minutes = timeline(session.pk) if counts else {}
    if not counts:
        counts = final_counts(session)
        source = SOURCE_FINAL if counts else SOURCE_PLAN
        minutes = {int(minute): count for minute, count in (session.final_timeline or {}).items()}
    rows = []
    for item in items:
        item_counts = counts.get(item.pk) or _planned(item.quantity)
        rows.append(
            {
                "id": item.pk,
                "name": item.product.name,
                "place": item.product.place,
                **item_counts.as_dict(),
                "balanced": item_counts.balanced if source != SOURCE_PLAN else True,
            }
        )
    totals = session_totals(counts.get(item.pk) or _planned(item.quantity) for item in items)
    return {
        "session": {
            "id": session.pk,
            "name": session.name,
            "state": session.state,
            "state_label": session.get_state_display(),
            "starts_at": session.starts_at.timestamp(),
            "ends_at": session.ends_at.timestamp(),
        },
        "source": source,
        "now": now.timestamp(),
        "items": rows,
        "totals": totals.as_dict(),
        "timeline": [[minute * 60, count] for minute, count in sorted(minutes.items())],
    }
