"""Sending the shopper to the payment gateway with a signed token for their reservation."""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings

from reservations.holds import Reservation
from reservations.tokens import TokenClaims, sign_for_site


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


def checkout_url(token: str) -> str:
    """The gateway's checkout page for ``token`` (the one place this URL is built)."""
    return f"{settings.FLASHSALE_GATEWAY_URL}/checkout/?{urlencode({'token': token})}"


def checkout_url_for(reservation: Reservation) -> str:
    return checkout_url(sign_for_site(claims_for(reservation)))
