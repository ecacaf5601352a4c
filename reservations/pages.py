"""Turning Redis reads into what the shopper pages show: phases, item states, countdown labels."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from plans.models import SaleSession
from plans.states import SessionState
from reservations.availability import SessionInfo, sessions_between
from reservations.display import SessionDisplay
from reservations.states import ReservationStatus, SalePhase


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
class StatusWords:
    """How "My reservations" names a reservation's status, what it means, and its tone (a CSS class)."""

    label: str
    meaning: str
    tone: str  # pending | ok | ended | refund


# Every status a reservation can end in after the gateway, in the shopper's words.
RESERVATION_WORDS: dict[str, StatusWords] = {
    ReservationStatus.RESERVED: StatusWords(
        "Awaiting payment", "Pay before the time runs out, or the units go back on sale.", "pending"
    ),
    ReservationStatus.PAID: StatusWords("Paid", "Your payment is confirmed: the units are yours.", "ok"),
    ReservationStatus.EXPIRED: StatusWords(
        "Expired unpaid", "The time to pay ran out and the units went back on sale. Nothing was charged.", "ended"
    ),
    ReservationStatus.CANCELLED: StatusWords(
        "Cancelled", "You gave the units back and they went back on sale. Nothing was charged.", "ended"
    ),
    ReservationStatus.REFUSED: StatusWords(
        "Payment refused",
        "The amount charged did not match your reservation, so it was not confirmed and the units went back "
        "on sale. The charge will be refunded in full.",
        "refund",
    ),
    ReservationStatus.PAID_AFTER_EXPIRY: StatusWords(
        "Paid too late: refund due",
        "Your payment arrived after your hold ended, when the units had gone back on sale. It will be refunded "
        "in full.",
        "refund",
    ),
    ReservationStatus.REFUNDED: StatusWords("Refunded", "Your payment was refunded in full.", "ended"),
}


def status_words(status: str) -> StatusWords:
    return RESERVATION_WORDS.get(status) or StatusWords(status.replace("_", " ").capitalize(), "", "ended")


_city_options: dict[tuple[int, str, str | None], SafeString] = {}  # (session, load stamp, chosen city)


def city_options(session_id: int, shown: SessionDisplay, *, selected: str | None) -> SafeString:
    """The city picker's ``<option>``s (escaped), built once per session load and selection."""
    key = (session_id, shown.version, selected)
    html = _city_options.get(key)
    if html is None:
        out = []
        for name, _lat, _lon in shown.cities:
            label = escape(name)
            # An option without a value sends its text, trimmed and its spaces collapsed: the attribute
            # is written only where that would change the name (50 cities: ~1 KB less per page).
            value = "" if name == " ".join(name.split()) else f' value="{label}"'
            out.append(f"<option{value}{' selected' if name == selected else ''}>{label}</option>")
        if len(_city_options) >= 1000:
            _city_options.clear()
        # Every value above went through escape().
        html = _city_options[key] = mark_safe("".join(out))  # noqa: S308
    return html


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
    grouped: dict[str, list[SessionInfo]] = {phase.value: [] for phase in SalePhase}
    for info in found:
        grouped[info.phase(ts)].append(info)
    grouped[SalePhase.UPCOMING].sort(key=lambda s: s.starts_at)
    grouped[SalePhase.LIVE].sort(key=lambda s: s.ends_at)
    grouped[SalePhase.ENDED].sort(key=lambda s: s.ends_at, reverse=True)
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
            SessionInfo(
                session_id=pk, name=name, starts_at=s.timestamp(), ends_at=e.timestamp(), state=SessionState.SCHEDULED
            )
            for pk, name, s, e in rows
        ]

    key = f"home:scheduled:{start:%Y-%m-%d}"
    found: list[SessionInfo] = cache.get_or_set(key, read, settings.FLASHSALE_HOME_SCHEDULE_CACHE_SECONDS) or []
    return found
