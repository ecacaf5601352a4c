"""The states a reservation, a sale and a product card go through: one definition for SQL and Redis.

The database stores ``ReservationStatus`` (the ``Transaction.status`` choices); the Redis txn hash
and the Lua scripts write the same strings, plus ``PAID_AFTER_EXPIRY``, which the database keeps
as ``paid`` with the ``paid_after_expiry`` flag. The hot path compares with these members (they are
``str``), never with literals, and imports no model: this module needs no app registry.
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
    REFUNDED = "refunded", "Refunded"


# Redis only: paid after the hold lapsed (recorded, flagged for refund; persisted as PAID + flag).
PAID_AFTER_EXPIRY: Final = "paid_after_expiry"

# Reservations whose units are taken: held awaiting payment, or paid. They count against the item's
# stock and the shopper's per-user limit (audit, rebuild, restore all use this one set).
ACTIVE_STATUSES: Final = frozenset({ReservationStatus.RESERVED, ReservationStatus.PAID})

# How a hold ends without a payment.
RELEASE_REASONS: Final = frozenset({ReservationStatus.EXPIRED, ReservationStatus.CANCELLED})


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
    AMOUNT_MISMATCH = "amount_mismatch"
    UNKNOWN = "unknown"
