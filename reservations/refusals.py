"""Why a reservation is refused: one exception per reason, each carrying the data its page shows.

The reserve script answers a result code; ``reservations.holds`` raises the matching exception and
``reservations.views.REJECTIONS`` maps each class to its page and status code, in one place.
"""

from __future__ import annotations


class ReservationRejected(Exception):
    """Base of the reasons the reserve script refuses; ``code`` is the script's result code."""

    code = "rejected"

    def __init__(self, message: str, *, session_id: int, item_id: int):
        super().__init__(message)
        self.message = message
        self.session_id = session_id
        self.item_id = item_id


class SoldOut(ReservationRejected):
    code = "sold_out"

    def __init__(self, *, session_id: int, item_id: int, remaining: int, requested: int):
        super().__init__(
            f"Only {remaining} unit(s) left, {requested} requested.", session_id=session_id, item_id=item_id
        )
        self.remaining = remaining
        self.requested = requested


class LimitReached(ReservationRejected):
    code = "limit"

    def __init__(self, *, session_id: int, item_id: int, held: int, limit: int, requested: int):
        super().__init__(f"You already have {held} of at most {limit}.", session_id=session_id, item_id=item_id)
        self.held = held
        self.limit = limit
        self.requested = requested


class NotOpenYet(ReservationRejected):
    code = "not_open"

    def __init__(self, *, session_id: int, item_id: int, starts_at: float):
        super().__init__("The sale has not started yet.", session_id=session_id, item_id=item_id)
        self.starts_at = starts_at


class SessionClosed(ReservationRejected):
    code = "closed"

    def __init__(self, *, session_id: int, item_id: int, ends_at: float):
        super().__init__("The sale has ended.", session_id=session_id, item_id=item_id)
        self.ends_at = ends_at


class UnknownSaleItem(ReservationRejected):
    """The session is not loaded in Redis, or the item is not part of it."""

    code = "unknown"


class RateLimited(ReservationRejected):
    """Too many reserve attempts from this user or IP in the current window."""

    code = "rate_limited"

    def __init__(self, *, session_id: int, item_id: int, retry_after: float):
        super().__init__("Too many attempts; try again shortly.", session_id=session_id, item_id=item_id)
        self.retry_after = retry_after


class TransactionConflict(ReservationRejected):
    """The TransactionID already names a reservation of another item or user."""

    code = "conflict"


class TicketNotAccepted(Exception):
    """The reserve script could not decide from the shopper's ticket alone; read the session instead.

    ``reason``: ``no_ticket`` (none, or it expired), ``no_pass`` (no valid CAPTCHA pass in it),
    ``not_admitted`` (the waiting room's pass is missing or expired in it).
    """

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason
