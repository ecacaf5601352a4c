"""State changes of a sale session, by operators (schedule, cancel) and by the clock (live, ended)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction

from flashsale import clock
from plans.exceptions import InvalidTransition
from plans.final_counts import save_final_counts
from plans.loading import expire_session_keys, set_redis_state
from plans.models import SaleSession

log = logging.getLogger(__name__)
State = SaleSession.State

CANCELLABLE = {State.DRAFT, State.SCHEDULED, State.LOADED, State.LIVE}


def retention() -> timedelta:
    return timedelta(hours=settings.FLASHSALE_REDIS_RETENTION_HOURS)


def _locked(session: SaleSession) -> SaleSession:
    return SaleSession.objects.select_for_update().get(pk=session.pk)


def schedule_session(session: SaleSession, *, now: datetime | None = None) -> SaleSession:
    """Draft → scheduled: the beat task loads it into Redis ahead of its opening."""
    now = now or clock.now()
    with transaction.atomic():
        session = _locked(session)
        if session.state != State.DRAFT:
            raise InvalidTransition(
                f"Only a draft can be scheduled; this session is {session.get_state_display().lower()}.",
                session_id=session.pk,
                state=session.state,
                action="schedule",
            )
        if session.ends_at <= now:
            raise InvalidTransition(
                "The session's window is already over; change it before scheduling.",
                session_id=session.pk,
                state=session.state,
                action="schedule",
            )
        if not session.items.exists():
            raise InvalidTransition(
                "Add at least one item before scheduling the session.",
                session_id=session.pk,
                state=session.state,
                action="schedule",
            )
        session.state = State.SCHEDULED
        session.save(update_fields=["state", "updated_at"])
    return session


def cancel_session(session: SaleSession, *, now: datetime | None = None) -> SaleSession:
    """Stop a session: shoppers can no longer reserve; a loaded session keeps its counts."""
    now = now or clock.now()
    with transaction.atomic():
        session = _locked(session)
        if session.state not in CANCELLABLE:
            raise InvalidTransition(
                f"A session that is {session.get_state_display().lower()} cannot be cancelled.",
                session_id=session.pk,
                state=session.state,
                action="cancel",
            )
        was_in_redis = session.is_in_redis
        session.state = State.CANCELLED
        session.save(update_fields=["state", "updated_at"])
        if was_in_redis:
            _close_in_redis(session, now=now)
    return session


def mark_live(session: SaleSession) -> SaleSession:
    """Loaded → live at its opening (the reserve script itself checks the window)."""
    with transaction.atomic():
        session = _locked(session)
        if session.state != State.LOADED:
            return session
        session.state = State.LIVE
        session.save(update_fields=["state", "updated_at"])
        set_redis_state(session.pk, State.LIVE)
    return session


def end_session(session: SaleSession, *, now: datetime | None = None) -> SaleSession:
    """Loaded/live (or a scheduled session never loaded) → ended; final counts saved, keys expire."""
    now = now or clock.now()
    with transaction.atomic():
        session = _locked(session)
        if session.state not in {State.SCHEDULED, State.LOADED, State.LIVE}:
            return session
        was_in_redis = session.is_in_redis
        session.state = State.ENDED
        session.save(update_fields=["state", "updated_at"])
        if was_in_redis:
            _close_in_redis(session, now=now)
    return session


def _close_in_redis(session: SaleSession, *, now: datetime) -> None:
    # Redis state first: from here the reserve script refuses, so the counts saved next only
    # move when a hold is paid or returned.
    set_redis_state(session.pk, session.state)
    save_final_counts(session, now=now)
    expires_at = now + retention()
    expire_session_keys(session.pk, at=expires_at)
    session.redis_expires_at = expires_at
    session.save(update_fields=["redis_expires_at", "updated_at"])
    log.info("session %s %s; Redis keys expire at %s", session.pk, session.state, expires_at.isoformat())
