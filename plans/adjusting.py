"""Operators' stock adjustments of a loaded or live item: add or withdraw units, atomically in Redis."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import transaction

from flashsale.store import keys
from flashsale.store.replies import decode_fields
from flashsale.store.scripts import lua_script
from plans.exceptions import AdjustmentRefused
from plans.models import Adjustment, SaleItem, SaleSession

ADJUST = lua_script(Path(__file__).resolve().parent / "lua" / "adjust.lua")


@dataclass(frozen=True)
class AdjustReply:
    """``adjust.lua``'s answer: ``code`` 1 applied, or a refusal in ``REFUSALS``."""

    code: int
    applied: int
    remaining: int


APPLIED = 1
REFUSALS = {
    -1: "The session is not in Redis; load it before adjusting its stock.",
    -2: "This item has no stock in Redis; load the session again first.",
    -3: "The session has ended or was cancelled; its stock can no longer change.",
}


@dataclass(frozen=True)
class AdjustmentResult:
    item_id: int
    requested: int
    applied: int
    remaining: int
    adjustment: Adjustment | None

    @property
    def partial(self) -> bool:
        return self.applied != self.requested


def max_adjustment() -> int:
    return settings.FLASHSALE_MAX_ADJUSTMENT


def adjust_stock(item: SaleItem, *, delta: int, reason: str, user=None) -> AdjustmentResult:
    """Add (``delta`` > 0) or withdraw (< 0) units of a loaded item and record the Adjustment.

    A withdrawal takes at most the units still on sale; the Adjustment records the delta that
    was applied. Raises ``AdjustmentRefused`` when nothing can be applied.
    """
    session_id = item.session_id
    if delta == 0 or abs(delta) > max_adjustment():
        raise AdjustmentRefused(
            f"The change must be between 1 and {max_adjustment()} units, added or withdrawn.",
            session_id=session_id,
            item_id=item.pk,
            requested=delta,
        )
    with transaction.atomic():
        # Lock the session row: an adjustment cannot interleave with the session being ended.
        session = SaleSession.objects.select_for_update().get(pk=session_id)
        if not session.is_in_redis:
            raise AdjustmentRefused(
                f"Only a loaded or live session's stock can be adjusted (this one is {session.get_state_display().lower()}).",
                session_id=session_id,
                item_id=item.pk,
                requested=delta,
            )
        reply = decode_fields(
            AdjustReply,
            ADJUST(
                keys=[
                    keys.session(session_id),
                    keys.stock(session_id, item.pk),
                    keys.counts(session_id, item.pk),
                    keys.loaded(session_id),
                ],
                args=[str(item.pk), str(delta)],
            ),
        )
        if reply.code != APPLIED:
            raise AdjustmentRefused(REFUSALS[reply.code], session_id=session_id, item_id=item.pk, requested=delta)
        if reply.applied == 0:
            raise AdjustmentRefused(
                "No units are left on sale to withdraw; held and paid units cannot be withdrawn.",
                session_id=session_id,
                item_id=item.pk,
                requested=delta,
            )
        adjustment = Adjustment.objects.create(item=item, delta=reply.applied, reason=reason, created_by=user)
    return AdjustmentResult(
        item_id=item.pk, requested=delta, applied=reply.applied, remaining=reply.remaining, adjustment=adjustment
    )
