"""Our pay page for Stripe: check the shopper's signed token as the sandbox does, then make the
PaymentIntent for the reservation once, however often the page is opened.

The token rules are the sandbox's (``reservations.tokens.verify_token``: signature in constant time,
key id, expiry) plus "not already paid" from the hold itself in Redis. The PaymentIntent's id is
remembered per TransactionID in Redis (``flashsale.store.keys.payment_intent``) and Stripe gets an idempotency
key derived from the TransactionID: a reload, a second tab or a retry finds the same intent.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.conf import settings

from flashsale.store import keys
from flashsale.store.client import sale_redis
from flashsale.store.replies import as_str
from reconciliation.minor_units import AmountNotChargeable, from_minor_units, to_minor_units
from reconciliation.stripe_gateway import PaymentIntent, StripeGateway, stripe_gateway_from_settings
from reservations import holds
from reservations.states import PAID_AFTER_EXPIRY, ReservationStatus
from reservations.tokens import TokenClaims, TokenError, verify_for_site

log = logging.getLogger(__name__)

# While one request creates the intent, the key holds this marker; a crashed request's claim lapses.
CREATING = "creating"
CREATION_CLAIM_SECONDS = 30
# Stripe's statuses once the shopper has paid (or their bank is still deciding): nothing more to pay.
SUBMITTED = {"succeeded", "processing", "requires_capture"}

TOKEN_REFUSALS = {
    "malformed": "This payment link is damaged.",
    "unknown_key": "This payment link was signed with a key we do not accept.",
    "bad_signature": "This payment link has been tampered with.",
    "expired": "This payment link has expired: the reservation is no longer held.",
}


class PaymentRefused(Exception):
    """The pay page must not take this payment; ``status`` is the HTTP status to answer with."""

    def __init__(self, reason: str, message: str, *, status: int):
        super().__init__(f"{reason}: {message}")
        self.reason = reason
        self.message = message
        self.status = status


class PaymentBeingPrepared(Exception):
    """Another request is creating this reservation's PaymentIntent right now: open the page again."""


@dataclass(frozen=True)
class PayPage:
    claims: TokenClaims
    intent: PaymentIntent
    publishable_key: str
    js_url: str

    @property
    def total(self) -> str:
        """The amount as the shopper reads it, with the currency's own decimals: ``99.80 EUR``, ``3000 JPY``."""
        currency = self.claims.currency
        return f"{from_minor_units(to_minor_units(self.claims.amount_decimal, currency), currency)} {currency}"

    @property
    def submitted(self) -> bool:
        """The shopper already paid at Stripe: the page sends them to the return page instead of a card form."""
        return self.intent.status in SUBMITTED


def open_pay_page(token: str, *, gateway: StripeGateway | None = None) -> PayPage:
    """Verify ``token`` and return the reservation's PaymentIntent, created on the first call only.

    Raises ``PaymentRefused`` (bad token, already paid, no longer held, an amount Stripe cannot
    charge), ``PaymentBeingPrepared``, or ``GatewayError`` when Stripe does not answer.
    """
    try:
        claims = verify_for_site(token)
    except TokenError as exc:
        log.info("pay page refused a token: %s", exc.reason)
        message = TOKEN_REFUSALS.get(exc.reason, "This payment link is not valid.")
        raise PaymentRefused(exc.reason, message, status=400) from exc
    status = holds.transaction_state(claims.session_id, claims.txn_id).get("status", "")
    if status in (ReservationStatus.PAID, PAID_AFTER_EXPIRY):
        raise PaymentRefused("already_paid", "This reservation is already paid.", status=409)
    if status != ReservationStatus.RESERVED:
        raise PaymentRefused("not_held", "This reservation is no longer held: its units went back on sale.", status=409)
    gateway = gateway or stripe_gateway_from_settings()
    intent = _intent_for(claims, gateway)
    if intent.status == "canceled":
        raise PaymentRefused("cancelled", "This payment was cancelled.", status=409)
    return PayPage(claims=claims, intent=intent, publishable_key=gateway.publishable_key, js_url=gateway.js_url)


def _intent_for(claims: TokenClaims, gateway: StripeGateway) -> PaymentIntent:
    r = sale_redis()
    key = keys.payment_intent(claims.txn_id)
    known = as_str(r.get(key))
    if known == CREATING:
        raise PaymentBeingPrepared(claims.txn_id)
    if known:
        intent = gateway.retrieve_payment_intent(known)
        if intent is not None:
            return intent
        # Only a wiped test account loses an intent; start over rather than strand the shopper.
        log.error("PaymentIntent %s of %s is gone at Stripe: making a new one", known, claims.txn_id)
        r.delete(key)
    if not r.set(key, CREATING, nx=True, ex=CREATION_CLAIM_SECONDS):
        raise PaymentBeingPrepared(claims.txn_id)
    try:
        intent = gateway.create_payment_intent(claims)
    except AmountNotChargeable as exc:
        r.delete(key)
        log.error("reservation %s cannot be charged: %s", claims.txn_id, exc)
        raise PaymentRefused("amount", f"{exc}.", status=409) from exc
    except BaseException:
        r.delete(key)
        raise
    # Kept past the hold's expiry: a late page view still finds the same intent.
    r.set(key, intent.id, ex=settings.FLASHSALE_PAYMENT_RESULT_TTL_SECONDS)
    log.info("PaymentIntent %s created for %s", intent.id, claims.txn_id)
    return intent
