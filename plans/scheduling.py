"""The clock's side of a session's life: load ahead of the opening, go live, end, keep final counts."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings

from flashsale import clock
from flashsale.store import keys
from flashsale.store.client import sale_redis
from flashsale.store.replies import as_int, text
from plans.exceptions import SessionNotLoadable
from plans.final_counts import save_final_counts
from plans.loading import expire_known_keys, load_session_into_redis
from plans.models import SaleSession
from plans.transitions import end_session, mark_live, retention

log = logging.getLogger(__name__)
State = SaleSession.State


@dataclass
class AdvanceResult:
    loaded: list[int] = field(default_factory=list)
    live: list[int] = field(default_factory=list)
    ended: list[int] = field(default_factory=list)
    refreshed: list[int] = field(default_factory=list)
    failed: dict[int, str] = field(default_factory=dict)
    pruned: int = 0

    def as_dict(self) -> dict:
        return {
            "loaded": self.loaded,
            "live": self.live,
            "ended": self.ended,
            "refreshed": self.refreshed,
            "failed": self.failed,
            "pruned": self.pruned,
        }


def load_lead() -> timedelta:
    return timedelta(minutes=settings.FLASHSALE_LOAD_LEAD_MINUTES)


def advance_sessions(now: datetime | None = None) -> AdvanceResult:
    """Move every session to the state its window calls for at ``now``; safe to run any number of times."""
    now = now or clock.now()
    result = AdvanceResult()

    due = SaleSession.objects.filter(state=State.SCHEDULED, starts_at__lte=now + load_lead(), ends_at__gt=now)
    for session in due:
        try:
            load_session_into_redis(session, now=now)
        except SessionNotLoadable as exc:
            log.warning("session %s not loaded: %s", session.pk, exc.message)
            result.failed[session.pk] = exc.message
        else:
            result.loaded.append(session.pk)

    opening = SaleSession.objects.filter(state=State.LOADED, starts_at__lte=now, ends_at__gt=now)
    for session in opening:
        if mark_live(session).state == State.LIVE:
            result.live.append(session.pk)

    closing = SaleSession.objects.filter(state__in=[State.SCHEDULED, State.LOADED, State.LIVE], ends_at__lte=now)
    for session in closing:
        if end_session(session, now=now).state == State.ENDED:
            result.ended.append(session.pk)

    # Until its keys expire an ended session's figures still move (holds paid or returned):
    # keep the saved counts current, and give a recreated key (a stock list a released hold
    # refilled after it had emptied) the session's deadline.
    settling = SaleSession.objects.filter(state__in=[State.ENDED, State.CANCELLED], redis_expires_at__gt=now).exclude(
        pk__in=result.ended
    )
    for session in settling:
        save_final_counts(session, now=now)
        item_ids = list(session.items.values_list("pk", flat=True))
        if session.redis_expires_at is not None:
            expire_known_keys(session.pk, item_ids, at=session.redis_expires_at)
        result.refreshed.append(session.pk)

    result.pruned = prune_sessions_index(now)
    if result.loaded or result.live or result.ended or result.failed:
        log.info("advance_sessions %s", result.as_dict())
    return result


def prune_sessions_index(now: datetime) -> int:
    """Drop index entries of sessions whose keys have expired (the index itself has no TTL)."""
    r = sale_redis()
    old = r.zrangebyscore(keys.sessions_index(), "-inf", (now - retention()).timestamp())
    gone = [text(member) for member in old if not r.exists(keys.session(as_int(member)))]
    if gone:
        r.zrem(keys.sessions_index(), *gone)
    return len(gone)
