"""Sending the shopper to the payment gateway with a signed token for their reservation."""

from __future__ import annotations

from reconciliation.gateway import checkout_url
from reservations.holds import Reservation
from reservations.tokens import TokenClaims, sign_for_site

__all__ = ["checkout_url", "checkout_url_for", "claims_for"]


def claims_for(reservation: Reservation) -> TokenClaims:
    return TokenClaims(
        txn_id=reservation.txn_id,
        user_id=reservation.user_id,
        session_id=reservation.session_id,
        item_id=reservation.item_id,
        units=reservation.quantity,
        amount=str(reservation.amount),
        currency=reservation.currency,
        expires_at=int(reservation.expires_at),
    )


def checkout_url_for(reservation: Reservation) -> str:
    """Where the reserve answer sends the shopper: the configured gateway builds it (``Gateway.checkout_url``)."""
    return checkout_url(sign_for_site(claims_for(reservation)))
