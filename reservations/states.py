"""The states a reservation, a sale and a product card go through: one definition for SQL and Redis.

The database stores ``ReservationStatus`` (the ``Transaction.status`` choices) and the Redis txn hash
and the Lua scripts write the same strings; only ``refunded`` is the database's alone (a refund is
made by reconciliation, after the sale). The hot path compares with these members (they are
``str``), never with literals, and imports no model: this module needs no app registry.

How a reservation ends after the gateway (``NEXT_STATUSES`` lists every move)::

    reserved -> paid                 the payment matched and came in time
             -> expired | cancelled  unpaid: the units went back on sale (a hold's release)
             -> refused              the gateway charged another amount: not confirmed, units back,
                                     the charge is to be refunded
             -> paid_after_expiry    the payment came after the hold ended: units back, refund due
    expired | cancelled -> paid_after_expiry | refused   (a payment after the release)
    paid | paid_after_expiry | refused -> refunded        (reconciliation gave the money back)
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final

from django.db.models import TextChoices


class ReservationStatus(TextChoices):
    RESERVED = "reserved", "Reserved, awaiting payment"
    PAID = "paid", "Paid"
    EXPIRED = "expired", "Expired unpaid"
    CANCELLED = "cancelled", "Cancelled"
    REFUSED = "refused", "Payment refused, refund due"
    PAID_AFTER_EXPIRY = "paid_after_expiry", "Paid after the hold ended, refund due"
    REFUNDED = "refunded", "Refunded"


# The longest status value (the columns that hold one are at least this wide).
STATUS_MAX_LENGTH: Final = 20

# Paid after the hold lapsed: recorded, the units back on sale, flagged for refund.
PAID_AFTER_EXPIRY: Final = ReservationStatus.PAID_AFTER_EXPIRY

# Reservations whose units are taken: held awaiting payment, or paid. They count against the item's
# stock and the shopper's per-user limit (audit, rebuild, restore all use this one set).
ACTIVE_STATUSES: Final = frozenset({ReservationStatus.RESERVED, ReservationStatus.PAID})

# How a hold ends without a payment.
RELEASE_REASONS: Final = frozenset({ReservationStatus.EXPIRED, ReservationStatus.CANCELLED})

# Money the gateway took that is not for units the shopper keeps: reconciliation refunds it.
REFUND_DUE_STATUSES: Final = frozenset({ReservationStatus.REFUSED, ReservationStatus.PAID_AFTER_EXPIRY})

# Where each status may go next; a status only ever moves forward (the drainer and the refunds obey it).
NEXT_STATUSES: Final[dict[str, frozenset[str]]] = {
    ReservationStatus.RESERVED: frozenset(
        {
            ReservationStatus.PAID,
            ReservationStatus.EXPIRED,
            ReservationStatus.CANCELLED,
            ReservationStatus.REFUSED,
            ReservationStatus.PAID_AFTER_EXPIRY,
        }
    ),
    ReservationStatus.EXPIRED: frozenset({ReservationStatus.PAID_AFTER_EXPIRY, ReservationStatus.REFUSED}),
    ReservationStatus.CANCELLED: frozenset({ReservationStatus.PAID_AFTER_EXPIRY, ReservationStatus.REFUSED}),
    ReservationStatus.PAID: frozenset({ReservationStatus.REFUNDED}),
    ReservationStatus.PAID_AFTER_EXPIRY: frozenset({ReservationStatus.REFUNDED}),
    ReservationStatus.REFUSED: frozenset({ReservationStatus.REFUNDED}),
}

# The statuses a refund of the whole payment moves to ``refunded``.
REFUNDABLE_STATUSES: Final = frozenset(
    status for status, following in NEXT_STATUSES.items() if ReservationStatus.REFUNDED in following
)


class SalePhase(StrEnum):
    """Where a loaded session stands for a shopper at a given instant (cancelled reads as ended)."""

    UPCOMING = "upcoming"
    LIVE = "live"
    ENDED = "ended"


class CardState(StrEnum):
    """What a product card on the sale page offers the shopper."""

    ON_SALE = "on_sale"
    SOLD_OUT = "sold_out"
    LIMIT = "limit"
    OPENS = "opens"
    ENDED = "ended"


class PaymentResult(StrEnum):
    """What confirming a payment did (``pay.lua``'s outcome)."""

    PAID = "paid"
    PAID_AFTER_EXPIRY = PAID_AFTER_EXPIRY
    ALREADY_PAID = "already_paid"
    ALREADY_PAID_AFTER_EXPIRY = "already_paid_after_expiry"
    AMOUNT_MISMATCH = "amount_mismatch"  # the charge did not match: the reservation is now refused
    ALREADY_REFUSED = "already_refused"
    UNKNOWN = "unknown"
