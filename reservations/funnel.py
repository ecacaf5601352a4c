"""How far shoppers get in a sale, for the operators' live page: visitors → verified → admitted → reserved → paid.

Visitors and verified shoppers are counted once each (HyperLogLogs in the session's slot, about 1%
off at most): a logged-in shopper's first sale-page visit writes their reserve ticket, which adds
them to ``visitors`` in the same pipeline; passing the CAPTCHA adds them to ``verified``. Admissions
come from the waiting room's own counter, reservations from the per-minute timeline (counted by the
drainer, so a few seconds behind), payments and
the money taken from PostgreSQL (the webhook writes a paid row at once). Nothing here costs the
sale page, the stock poll or the reserve request a round trip.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from flashsale.store import keys
from flashsale.store.client import sale_redis
from flashsale.store.replies import as_int

VISITORS = "visitors"
VERIFIED = "verified"


def count_visitor(pipe: Any, session_id: int, user_id: int) -> None:
    """Add ``user_id`` to the session's visitors, in the caller's pipeline (no round trip of its own)."""
    pipe.pfadd(keys.funnel(session_id, VISITORS), str(user_id))


def count_verified(session_id: int, user_id: int) -> None:
    sale_redis().pfadd(keys.funnel(session_id, VERIFIED), str(user_id))


def funnel(session_id: int, *, paid: int, revenue: Mapping[str, Decimal]) -> dict[str, Any]:
    """The steps with their counts and each one's share of the step before (``paid`` and ``revenue``: PostgreSQL's)."""
    r = sale_redis()
    pipe = r.pipeline(transaction=False)
    pipe.pfcount(keys.funnel(session_id, VISITORS))
    pipe.pfcount(keys.funnel(session_id, VERIFIED))
    pipe.hget(keys.waiting(session_id), "admitted")
    pipe.hvals(keys.timeline(session_id))
    visitors, verified, admitted, minutes = pipe.execute()
    counts = [
        ("visitors", "Visitors (logged in, on the sale page)", int(visitors)),
        ("verified", "Verified (passed the CAPTCHA)", int(verified)),
        ("admitted", "Admitted by the waiting room", as_int(admitted)),
        ("reserved", "Reservations", sum(as_int(count) for count in minutes)),
        ("paid", "Paid reservations", paid),
    ]
    steps = []
    for index, (key, label, count) in enumerate(counts):
        before = counts[index - 1][2] if index else 0
        share = f"{100 * count / before:.0f}%" if index and before else ""
        steps.append({"key": key, "label": label, "count": count, "share": share})
    return {
        "steps": steps,
        "revenue": [{"currency": currency, "amount": str(amount)} for currency, amount in sorted(revenue.items())],
    }
