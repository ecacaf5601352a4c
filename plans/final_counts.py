"""Saving an ended session's counts from Redis to PostgreSQL, so they outlive the Redis keys."""

from __future__ import annotations

from datetime import datetime

from flashsale import clock
from plans.models import ItemFinalCounts, SaleSession
from plans.stock import ItemCounts, session_counts, timeline

FINAL_FIELDS = ItemCounts._fields


def save_final_counts(session: SaleSession, *, now: datetime | None = None) -> int:
    """Copy every item's counts (and the reservations timeline) from Redis; returns the items saved.

    Idempotent: saving again overwrites with the latest figures (a late payment moves a unit
    from held to paid). Items whose keys are gone keep what was saved before.
    """
    now = now or clock.now()
    item_ids = list(session.items.values_list("pk", flat=True))
    counts = session_counts(session.pk, item_ids)
    for item_id, item_counts in counts.items():
        values = {field: getattr(item_counts, field) for field in FINAL_FIELDS}
        ItemFinalCounts.objects.update_or_create(item_id=item_id, defaults={**values, "saved_at": now})
    minutes = timeline(session.pk)
    if minutes:
        session.final_timeline = {str(minute): count for minute, count in minutes.items()}
        session.save(update_fields=["final_timeline", "updated_at"])
    return len(counts)


def final_counts(session: SaleSession) -> dict[int, ItemCounts]:
    """Item id -> the counts saved when the session ended."""
    rows = ItemFinalCounts.objects.filter(item__session=session)
    return {row.item_id: ItemCounts(*(getattr(row, field) for field in FINAL_FIELDS)) for row in rows}
