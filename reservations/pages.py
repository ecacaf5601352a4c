"""Turning Redis reads into what the shopper pages show: phases, item states, countdown labels."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from plans.models import SaleSession
from reservations.stock import ItemView, SalePage, SessionInfo, sessions_between


def countdown_label(seconds: float) -> str:
    """'2 h 05 min', '4 min 09 s', '12 s' (the JavaScript keeps it ticking)."""
    seconds = max(0, int(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    if minutes:
        return f"{minutes} min {secs:02d} s"
    return f"{secs} s"


@dataclass(frozen=True)
class ItemCard:
    item: ItemView
    state: str  # on_sale | sold_out | limit | opens | ended
    label: str
    can_reserve: bool
    max_quantity: int

    @property
    def quantity_choices(self) -> range:
        # While upcoming the shopper may pick up to their limit; the script has the last word.
        return range(1, max(1, self.max_quantity or self.item.per_user_limit) + 1)


def item_card(item: ItemView, session: SessionInfo, *, now: float, logged_in: bool) -> ItemCard:
    phase = session.phase(now)
    if phase == "ended":
        return ItemCard(item, "ended", "Sale ended", False, 0)
    if item.remaining <= 0:
        return ItemCard(item, "sold_out", "Sold out", False, 0)
    if logged_in and item.held_by_user >= item.per_user_limit:
        return ItemCard(item, "limit", "Your limit reached", False, 0)
    if phase == "upcoming":
        return ItemCard(item, "opens", f"Opens in {countdown_label(session.starts_at - now)}", False, 0)
    return ItemCard(item, "on_sale", "On sale", True, max(1, item.user_can_take))


def sale_cards(page: SalePage, *, now: float, logged_in: bool) -> list[ItemCard]:
    return [item_card(item, page.session, now=now, logged_in=logged_in) for item in page.items]


@dataclass(frozen=True)
class HomeSessions:
    live: list[SessionInfo]
    upcoming: list[SessionInfo]
    ended: list[SessionInfo]


def todays_sessions(now: datetime) -> HomeSessions:
    """Loaded sessions overlapping today (in the site's time zone), by phase."""
    local = timezone.localtime(now)
    start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    end = start + timedelta(days=1)
    ts = now.timestamp()
    found = sessions_between(start.timestamp(), end.timestamp())
    loaded = {info.session_id for info in found}
    found += [info for info in scheduled_sessions(start, end) if info.session_id not in loaded]
    grouped: dict[str, list[SessionInfo]] = {"live": [], "upcoming": [], "ended": []}
    for info in found:
        grouped[info.phase(ts)].append(info)
    grouped["upcoming"].sort(key=lambda s: s.starts_at)
    grouped["live"].sort(key=lambda s: s.ends_at)
    grouped["ended"].sort(key=lambda s: s.ends_at, reverse=True)
    return HomeSessions(**grouped)


def scheduled_sessions(start: datetime, end: datetime) -> list[SessionInfo]:
    """Today's scheduled sessions not loaded into Redis yet (their sale page opens once loaded).

    Read from PostgreSQL at most once per ``FLASHSALE_HOME_SCHEDULE_CACHE_SECONDS`` for the whole
    site (the Redis cache holds the answer), so a crowd on the home page costs no SQL.
    """

    def read() -> list[SessionInfo]:
        rows = SaleSession.objects.filter(
            state=SaleSession.State.SCHEDULED, starts_at__lt=end, ends_at__gt=start
        ).values_list("pk", "name", "starts_at", "ends_at")
        return [
            SessionInfo(session_id=pk, name=name, starts_at=s.timestamp(), ends_at=e.timestamp(), state="scheduled")
            for pk, name, s, e in rows
        ]

    key = f"home:scheduled:{start:%Y-%m-%d}"
    return cache.get_or_set(key, read, settings.FLASHSALE_HOME_SCHEDULE_CACHE_SECONDS)
