"""What the admin live page shows for one session: per-item stock figures and reservations per minute.

Figures come from Redis while the session is there, from the saved final counts afterwards, and
from the plan (allocated only) before it is loaded. Nothing here is on a shopper's path.

Every time the page shows is formatted here, in the site's time zone (``TIME_ZONE``, named on the
page) and one 24-hour format: the browser's own clock and locale never show through.
"""

from __future__ import annotations

from datetime import UTC, datetime

from django.conf import settings
from django.utils import timezone

from flashsale import clock
from plans.final_counts import final_counts
from plans.models import SaleSession
from plans.stock import ItemCounts, session_counts, session_totals, timeline

SOURCE_REDIS = "redis"
SOURCE_FINAL = "final"
SOURCE_PLAN = "plan"
# Where the figures come from, in the operators' words.
SOURCE_WORDS = {
    SOURCE_REDIS: "live figures",
    SOURCE_FINAL: "final counts, saved when the sale ended",
    SOURCE_PLAN: "planned quantities: the session is not loaded yet",
}


def operator_time(ts: float, *, date: bool = True, zone: bool = False) -> str:
    """An instant as the back office shows it: '2026-11-30 10:23:45' in the site's time zone (named if ``zone``)."""
    local = timezone.localtime(datetime.fromtimestamp(ts, UTC))
    text = local.strftime("%Y-%m-%d %H:%M:%S" if date else "%H:%M:%S")
    return f"{text} {settings.TIME_ZONE}" if zone else text


def _minute_label(minute: int) -> str:
    return timezone.localtime(datetime.fromtimestamp(minute * 60, UTC)).strftime("%H:%M")


def chart_axis(*, starts_at: float, ends_at: float, now: float, minutes: list[int]) -> dict:
    """The reservations chart's minutes, left to right: from the opening (or the first reservation) to now.

    Before the opening the axis is the opening minute alone, never running backwards.
    """
    first = min([int(starts_at // 60), *minutes])
    last = max([first, int(min(now, ends_at) // 60), *minutes])
    return {"first": first, "last": last, "first_label": _minute_label(first), "last_label": _minute_label(last)}


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
    starts_at, ends_at, now_ts = session.starts_at.timestamp(), session.ends_at.timestamp(), now.timestamp()
    return {
        "session": {
            "id": session.pk,
            "name": session.name,
            "state": session.state,
            "state_label": session.get_state_display(),
            "starts_at": starts_at,
            "ends_at": ends_at,
            "window_label": f"{operator_time(starts_at)[:16]} – {operator_time(ends_at, date=False)[:5]}",
            "opens_label": operator_time(starts_at, date=False)[:5],
        },
        "source": source,
        "source_label": SOURCE_WORDS[source],
        "time_zone": settings.TIME_ZONE,
        "now": now_ts,
        "now_label": operator_time(now_ts, date=False),
        "items": rows,
        "totals": totals.as_dict(),
        "timeline": [[minute * 60, count, _minute_label(minute)] for minute, count in sorted(minutes.items())],
        "chart": chart_axis(starts_at=starts_at, ends_at=ends_at, now=now_ts, minutes=list(minutes)),
    }
