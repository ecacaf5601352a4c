"""Sending the shopper to the payment gateway with a signed token for their reservation.

Where the shopper pays is the gateway's to say (``Gateway.checkout_url``: the sandbox's checkout,
or our own pay page for Stripe). The gateway client lives in ``reconciliation``, above this app,
so it hands its ``checkout_url`` to this module when the site starts (``ReconciliationConfig.ready``)
and the reserve request builds its redirect through the gateway interface without importing upwards.
"""

from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import ImproperlyConfigured

from reservations.display import names_of
from reservations.holds import Reservation
from reservations.tokens import TokenClaims, sign_for_site

_checkout_url: Callable[[str], str] | None = None


def use_checkout_url(build: Callable[[str], str]) -> None:
    """Register the gateway's ``checkout_url(token) -> URL`` (called once, when the apps are ready)."""
    global _checkout_url
    _checkout_url = build


def checkout_url(token: str) -> str:
    """Where the configured gateway takes the shopper's payment for ``token``."""
    if _checkout_url is None:
        raise ImproperlyConfigured("No payment gateway registered its checkout URL: is 'reconciliation' installed?")
    return _checkout_url(token)


def claims_for(
    reservation: Reservation, *, item_name: str | None = None, session_name: str | None = None
) -> TokenClaims:
    """What the token vouches for, names included: given, or this process's display data (no Redis, no SQL)."""
    if item_name is None or session_name is None:
        known_item, known_session = names_of(reservation.session_id, reservation.item_id)
        item_name = known_item if item_name is None else item_name
        session_name = known_session if session_name is None else session_name
    return TokenClaims(
        txn_id=reservation.txn_id,
        user_id=reservation.user_id,
        session_id=reservation.session_id,
        item_id=reservation.item_id,
        units=reservation.quantity,
        amount=str(reservation.amount),
        currency=reservation.currency,
        expires_at=int(reservation.expires_at),
        item_name=item_name,
        session_name=session_name,
    )


def checkout_url_for(reservation: Reservation, *, item_name: str | None = None, session_name: str | None = None) -> str:
    """Where the reserve answer sends the shopper, with the signed token of ``reservation`` (names included)."""
    return checkout_url(sign_for_site(claims_for(reservation, item_name=item_name, session_name=session_name)))
