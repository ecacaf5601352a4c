"""Stripe behind our gateway interface: PaymentIntents, signed webhooks, the day's listing, refunds.

One PaymentIntent per TransactionID, created by our own pay page (``reconciliation.stripe_checkout``)
with the TransactionID, session, item, user and units in its metadata; that metadata is how every
webhook, listing row and refund is matched to our transaction. A PaymentIntent without it belongs
to something else on the same Stripe account and is ignored.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cached_property, lru_cache
from typing import TYPE_CHECKING
from urllib.parse import quote

import stripe
from django.conf import settings
from django.urls import get_script_prefix, reverse

from reconciliation.gateway import GatewayError, GatewayOrder, WebhookEvent, WebhookRejected
from reconciliation.minor_units import from_minor_units, to_minor_units
from reservations.tokens import TokenClaims

if TYPE_CHECKING:
    from stripe.params import PaymentIntentCreateParams, PaymentIntentListParams

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "Stripe-Signature"
# Stripe's event types and the names of our payment path (reconciliation.payments.apply_event).
EVENT_TYPES = {
    "payment_intent.succeeded": "payment.succeeded",
    "payment_intent.payment_failed": "payment.failed",
    "payment_intent.canceled": "payment.cancelled",
    "charge.refunded": "payment.refunded",
}
# Listing page size: Stripe's largest.
PAGE_SIZE = 100


@lru_cache(maxsize=8)
def _pay_page_path(script_prefix: str) -> str:
    # reverse() costs ~15 µs and this runs on every reserve request: once per script prefix is enough.
    return reverse("stripe_pay")


def intent_idempotency_key(txn_id: str) -> str:
    """The one PaymentIntent of a transaction: Stripe answers a repeat of this key with the same intent."""
    return f"flashsale-pi-{txn_id}"


def refund_idempotency_key(payment_intent_id: str) -> str:
    return f"flashsale-refund-{payment_intent_id}"


@dataclass(frozen=True)
class PaymentIntent:
    """What the pay page needs of a PaymentIntent."""

    id: str
    client_secret: str
    status: str  # Stripe's: requires_payment_method, processing, succeeded, canceled, …


def order_from_intent(intent: Mapping) -> GatewayOrder | None:
    """Our view of a PaymentIntent (a plain dict as Stripe sends it), or None if it is not one of ours.

    ``latest_charge`` may be an id or, when expanded, the charge: a fully refunded charge makes the
    order ``refunded``. The amount is what was received once paid, else what was asked.
    """
    metadata = intent.get("metadata") or {}
    if not metadata.get("txn_id"):
        return None
    charge = intent.get("latest_charge")
    charge = charge if isinstance(charge, Mapping) else None
    status = {"succeeded": "paid", "canceled": "cancelled"}.get(str(intent.get("status")), "pending")
    if status == "paid" and charge is not None and charge.get("refunded"):
        status = "refunded"
    minor = intent.get("amount")
    if status in ("paid", "refunded"):
        received = intent.get("amount_received")
        minor = received if received is not None else (charge.get("amount") if charge is not None else minor)
    currency = str(intent.get("currency") or "")
    try:
        if minor is None:
            raise ValueError("no amount")
        amount = from_minor_units(int(minor), currency)
    except (TypeError, ValueError) as exc:
        raise GatewayError(
            f"Stripe sent a PaymentIntent with an amount we cannot read: {minor!r}", code="malformed"
        ) from exc
    return GatewayOrder.from_api(
        {
            "id": intent.get("id"),
            "txn_id": metadata["txn_id"],
            "status": status,
            "quantity": metadata.get("units", 0),
            "amount": amount,
            "currency": currency.upper(),
            "session_id": metadata.get("session_id"),
            "item_id": metadata.get("item_id"),
            "user_id": metadata.get("user_id"),
        }
    )


def _plain(obj) -> dict:
    return obj.to_dict() if hasattr(obj, "to_dict") else dict(obj)


def _gateway_error(action: str, exc: stripe.StripeError) -> GatewayError:
    message = exc.user_message or str(exc) or type(exc).__name__
    return GatewayError(f"{action}: {message}", status=exc.http_status, code=exc.code or "")


class StripeGateway:
    """Stripe's API through the official client (``base_url`` may point at a Stripe-compatible test server)."""

    name = "stripe"

    def __init__(
        self,
        *,
        secret_key: str,
        publishable_key: str,
        webhook_secret: str,
        api_base: str = "https://api.stripe.com",
        js_url: str = "https://js.stripe.com/v3/",
        timeout: float = 20,
        max_network_retries: int = 2,
        tolerance_seconds: int = 300,
    ):
        self.secret_key = secret_key
        self.publishable_key = publishable_key
        self.webhook_secret = webhook_secret
        self.api_base = api_base.rstrip("/")
        self.js_url = js_url
        self.timeout = timeout
        self.max_network_retries = max_network_retries
        self.tolerance_seconds = tolerance_seconds

    @cached_property
    def client(self) -> stripe.StripeClient:
        # Made on first use: the reserve request builds a gateway for its redirect and never calls Stripe.
        return stripe.StripeClient(
            self.secret_key,
            base_addresses={"api": self.api_base},
            http_client=stripe.RequestsClient(timeout=self.timeout),
            max_network_retries=self.max_network_retries,
        )

    # --- the shopper's side ------------------------------------------------------------------

    def checkout_url(self, token: str) -> str:
        """Our own pay page (same host as the reserve answer, so no open redirect is possible)."""
        return f"{_pay_page_path(get_script_prefix())}?token={quote(token, safe='')}"

    def create_payment_intent(self, claims: TokenClaims) -> PaymentIntent:
        """The PaymentIntent for exactly the held amount and currency, with our ids in its metadata.

        Sent with the TransactionID's idempotency key: a repeat within Stripe's 24 hours returns the
        same intent. The caller remembers the id as well (``stripe_checkout``), which covers servers
        that ignore idempotency keys and repeats after a day.
        """
        params: PaymentIntentCreateParams = {
            "amount": to_minor_units(claims.amount_decimal, claims.currency),
            "currency": claims.currency.lower(),
            # The Card Element and confirmCardPayment take cards only (the API version this client pins
            # names the list allowed_payment_method_types). No description: the metadata says it all,
            # and localstripe refuses parameters beyond amount, currency, metadata and payment methods.
            "allowed_payment_method_types": ["card"],
            "metadata": {
                "txn_id": claims.txn_id,
                "session_id": str(claims.session_id),
                "item_id": str(claims.item_id),
                "user_id": str(claims.user_id),
                "units": str(claims.units),
            },
        }
        try:
            intent = self.client.v1.payment_intents.create(
                params=params, options={"idempotency_key": intent_idempotency_key(claims.txn_id)}
            )
        except stripe.StripeError as exc:
            raise _gateway_error(f"Creating the payment of {claims.txn_id} failed", exc) from exc
        return PaymentIntent(id=intent.id, client_secret=intent.client_secret or "", status=intent.status)

    def retrieve_payment_intent(self, intent_id: str) -> PaymentIntent | None:
        try:
            intent = self.client.v1.payment_intents.retrieve(intent_id)
        except stripe.InvalidRequestError as exc:
            if exc.http_status == 404:
                return None
            raise _gateway_error(f"Reading payment {intent_id} failed", exc) from exc
        except stripe.StripeError as exc:
            raise _gateway_error(f"Reading payment {intent_id} failed", exc) from exc
        return PaymentIntent(id=intent.id, client_secret=intent.client_secret or "", status=intent.status)

    # --- webhooks ----------------------------------------------------------------------------

    def verify_webhook(self, *, body: bytes, headers: Mapping[str, str], now: float) -> WebhookEvent:
        """``stripe.Webhook.construct_event``: the signature (constant time) and the timestamp tolerance.

        Stripe's check reads the wall clock itself, which is what ``now`` is (see ``handle_webhook``).
        """
        header = headers.get(SIGNATURE_HEADER, "")
        if not header:
            raise WebhookRejected("missing_headers", f"the {SIGNATURE_HEADER} header is required")
        try:
            event = stripe.Webhook.construct_event(body, header, self.webhook_secret, self.tolerance_seconds)
        except stripe.SignatureVerificationError as exc:
            # Only a valid signature gets here with a stale timestamp: probing cannot learn the window.
            reason = "stale" if "tolerance" in str(exc) else "bad_signature"
            raise WebhookRejected(reason, str(exc)) from exc
        except (ValueError, UnicodeDecodeError) as exc:
            raise WebhookRejected("malformed", "the body is not a Stripe event") from exc
        try:
            data = event.to_dict()
            event_id, stripe_type, obj = str(data["id"]), str(data["type"]), data["data"]["object"]
            if not isinstance(obj, Mapping):
                raise TypeError("data.object is not an object")
            order = self._order_for_event(stripe_type, obj)
        except GatewayError as exc:
            if exc.code != "malformed":
                # Stripe did not answer our look-up (charge.refunded): a 500, and Stripe delivers it again.
                raise
            raise WebhookRejected("malformed", f"the body is not a Stripe event we can read: {exc}") from exc
        except (ValueError, KeyError, TypeError) as exc:
            raise WebhookRejected("malformed", f"the body is not a Stripe event we can read: {exc}") from exc
        our_type = EVENT_TYPES.get(stripe_type, stripe_type)
        return WebhookEvent(event_id=event_id, type=our_type, order=order if our_type != stripe_type else None)

    def _order_for_event(self, stripe_type: str, obj: Mapping) -> GatewayOrder | None:
        if stripe_type.startswith("payment_intent."):
            return order_from_intent(obj)
        if stripe_type == "charge.refunded":
            # The charge names its PaymentIntent; our ids live on the intent.
            intent_id = obj.get("payment_intent")
            if not intent_id:
                return None
            order = self.get_order(str(intent_id))
            if order is not None and not obj.get("refunded"):
                # A partial refund: the payment stands.
                return None
            return order
        return None

    # --- reconciliation and refunds ----------------------------------------------------------

    def iter_orders(self, day: date) -> Iterator[GatewayOrder]:
        """Our PaymentIntents created on ``day`` (UTC), every page (auto-pagination).

        The ``created`` range is sent to Stripe and applied again here, for servers that ignore it.
        """
        start = datetime.combine(day, datetime.min.time(), tzinfo=UTC)
        first, last = int(start.timestamp()), int((start + timedelta(days=1)).timestamp())
        params: PaymentIntentListParams = {
            "limit": PAGE_SIZE,
            "created": {"gte": first, "lt": last},
            "expand": ["data.latest_charge"],
        }
        try:
            for intent in self.client.v1.payment_intents.list(params=params).auto_paging_iter():
                data = _plain(intent)
                if not first <= int(data.get("created") or 0) < last:
                    continue
                order = order_from_intent(data)
                if order is not None:
                    yield order
        except stripe.StripeError as exc:
            raise _gateway_error(f"Listing the payments of {day} failed", exc) from exc

    def get_order(self, order_id: str) -> GatewayOrder | None:
        try:
            intent = self.client.v1.payment_intents.retrieve(order_id, params={"expand": ["latest_charge"]})
        except stripe.InvalidRequestError as exc:
            if exc.http_status == 404:
                return None
            raise _gateway_error(f"Reading payment {order_id} failed", exc) from exc
        except stripe.StripeError as exc:
            raise _gateway_error(f"Reading payment {order_id} failed", exc) from exc
        return order_from_intent(_plain(intent))

    def refund(self, order_id: str) -> GatewayOrder:
        """Refund a paid PaymentIntent in full; refunding it again is harmless.

        An already refunded intent is returned as it is, and the refund carries an idempotency key
        derived from the intent, so two operators (or a retry) never refund twice.
        """
        order = self.get_order(order_id)
        if order is None:
            raise GatewayError(f"No payment {order_id} of ours at Stripe", status=404, code="not_found")
        if order.status == "refunded":
            return order
        if order.status != "paid":
            raise GatewayError(
                f"Only a paid payment can be refunded; {order_id} is {order.status}", status=409, code="not_paid"
            )
        try:
            self.client.v1.refunds.create(
                params={"payment_intent": order_id, "metadata": {"txn_id": order.txn_id}},
                options={"idempotency_key": refund_idempotency_key(order_id)},
            )
        except stripe.StripeError as exc:
            if exc.code != "charge_already_refunded":
                raise _gateway_error(f"Refund of {order_id} failed", exc) from exc
        refunded = self.get_order(order_id)
        if refunded is None:
            raise GatewayError(f"Payment {order_id} vanished after its refund", status=404, code="not_found")
        return refunded


def stripe_gateway_from_settings() -> StripeGateway:
    return StripeGateway(
        secret_key=settings.STRIPE_SECRET_KEY,
        publishable_key=settings.STRIPE_PUBLISHABLE_KEY,
        webhook_secret=settings.STRIPE_WEBHOOK_SECRET,
        api_base=settings.STRIPE_API_BASE,
        js_url=settings.STRIPE_JS_URL,
        timeout=settings.STRIPE_TIMEOUT_SECONDS,
        max_network_retries=settings.STRIPE_MAX_NETWORK_RETRIES,
        tolerance_seconds=settings.FLASHSALE_WEBHOOK_TOLERANCE_SECONDS,
    )
