"""Ending a shopper's access at once: a password change, a deactivation or a deletion.

The sale page and the reserve request trust the user id in the session (and in the reserve
ticket copied from it) without reading the User row: that is what keeps SQL out of a sale. So
when an account must stop, a scalper's for instance, its sessions and reserve tickets are deleted
the moment the row changes, by ``end_access``, which every path below calls:

- ``deactivate_user`` / ``deactivate_users``: the service for code and for admin's bulk action;
- any ``save()`` of a user with ``is_active=False`` (admin's change form included) and any
  deletion, single or bulk: the ``post_save`` / ``post_delete`` handlers below;
- a password change (``set_password`` then ``save``).

``QuerySet.update(is_active=False)`` sends no signal and so leaves the sessions running: never
deactivate users with it; use ``deactivate_users``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models.signals import post_delete, post_save

from flashsale.auth import end_sessions_of

log = logging.getLogger(__name__)

# The tickets of ended sessions are deleted again this long after (longer than any request may run:
# gunicorn's --timeout is 30 s), for a sale page or reserve request that was in flight.
SWEEP_AFTER_SECONDS = 60


def end_access(user_id: int) -> int:
    """Delete the user's sessions and their reserve tickets now; returns how many sessions ended.

    A sale page or reserve request that read the session just before may still write a ticket
    after this; ``SWEEP_AFTER_SECONDS`` later the tickets of those sessions are deleted again, by a
    Celery task.
    """
    session_keys = end_sessions_of(user_id)
    if session_keys:
        transaction.on_commit(lambda: _schedule_sweep(session_keys))
    return len(session_keys)


def _schedule_sweep(session_keys: list[str]) -> None:
    from flashsale.tasks import forget_tickets_of_sessions

    try:
        forget_tickets_of_sessions.apply_async((session_keys,), countdown=SWEEP_AFTER_SECONDS, retry=False)
    except Exception:
        # After the commit, nothing may fail the caller (see reservations.mails._queue: a broker
        # left broken by an outage raises more than BrokerUnavailable). The sessions and tickets
        # are gone already; only the sweep for an in-flight request is lost.
        log.exception("could not schedule the ticket sweep of %d ended sessions", len(session_keys))


def deactivate_user(user) -> bool:
    """Deactivate ``user`` and end their sessions and reserve tickets; False if they were inactive already."""
    if not user.is_active:
        end_access(user.pk)  # nothing should be left, but a deactivation asked for must hold
        return False
    user.is_active = False
    user.save(update_fields=["is_active"])  # the post_save handler ends the access
    return True


def deactivate_users(users: Iterable) -> int:
    """``deactivate_user`` for each (one save and its signal each, never a bulk UPDATE); returns how many changed."""
    return sum(deactivate_user(user) for user in users)


def _end_access_when_inactive(sender, instance, created, update_fields=None, **kwargs) -> None:
    if not instance.is_active and not created and (update_fields is None or "is_active" in update_fields):
        end_access(instance.pk)


def _end_access_on_password_change(sender, instance, created, **kwargs) -> None:
    # set_password() leaves the raw password in _password until save() has run this signal.
    if not created and instance.is_active and getattr(instance, "_password", None) is not None:
        end_access(instance.pk)


def _end_access_when_deleted(sender, instance, **kwargs) -> None:
    end_access(instance.pk)


def connect_signals() -> None:
    User = get_user_model()
    post_save.connect(_end_access_when_inactive, sender=User, dispatch_uid="flashsale.accounts.end_when_inactive")
    post_save.connect(
        _end_access_on_password_change, sender=User, dispatch_uid="flashsale.accounts.end_on_password_change"
    )
    post_delete.connect(_end_access_when_deleted, sender=User, dispatch_uid="flashsale.accounts.end_when_deleted")
