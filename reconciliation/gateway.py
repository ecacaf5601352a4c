"""Our client of the payment gateway: checkout URL, webhook verification, order listing, refunds.

The gateway is chosen with ``FLASHSALE_GATEWAY``: ``"sandbox"`` (the sandbox gateway process,
the default) or ``"stripe"`` (``reconciliation.stripe_gateway``). Every caller goes through
``get_gateway()`` and the ``Gateway`` interface, so the reserve redirect, the webhooks, the daily
reconciliation and the refunds work the same whichever provider takes the money.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import cached_property
from typing import Protocol
from urllib.parse import quote

import requests
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from flashsale.settings_cache import from_settings

# The longest ids our columns keep (Transaction.gateway_order_id, Discrepancy.txn_id); amounts fit 12 digits.
MAX_ID_LENGTH = 100
MAX_AMOUNT = Decimal("10") ** 10


# Answers worth asking again: the gateway is overloaded or briefly down.
TRANSIENT_STATUSES = (429, 500, 502, 503, 504)


class GatewayError(Exception):
    """The gateway API failed or refused; ``status`` is the HTTP status (None: no answer)."""

    def __init__(self, message: str, *, status: int | None = None, code: str = ""):
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code

    @property
    def transient(self) -> bool:
        """True when asking again later may succeed (no answer, overload, server error)."""
        return self.status is None or self.status in TRANSIENT_STATUSES


def retrying_session(*, retries: int, backoff_seconds: float) -> requests.Session:
    """A requests session that retries connection errors, timeouts and transient answers with backoff.

    POST is retried too: the only POST of the gateway API is a refund, which the gateway makes
    idempotent (a second refund of an order answers with the same refund).
    """
    retry = Retry(
        total=retries,
        connect=retries,
        read=retries,
        status=retries,
        backoff_factor=backoff_seconds,
        status_forcelist=TRANSIENT_STATUSES,
        allowed_methods=frozenset({"GET", "POST"}),
        respect_retry_after_header=True,
        # After the last try the answer itself is returned, so its status reaches GatewayError.
        raise_on_status=False,
    )
    session = requests.Session()
    adapter = HTTPAdapter(max_retries=retry)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


class WebhookRejected(Exception):
    """A webhook we must not act on; ``reason``: missing_headers, stale, bad_signature, malformed."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class GatewayOrder:
    order_id: str
    txn_id: str
    status: str  # pending | paid | cancelled | refunded
    quantity: int
    amount: Decimal  # what was charged once paid
    currency: str
    session_id: int | None = None
    item_id: int | None = None
    user_id: int | None = None

    @classmethod
    def from_api(cls, data: Mapping) -> GatewayOrder:
        """Parse and bound-check an order from the gateway (a webhook body or a listing row)."""
        try:
            order = cls(
                order_id=str(data["id"]),
                txn_id=str(data["txn_id"]),
                status=str(data["status"]),
                quantity=int(data["quantity"]),
                amount=Decimal(str(data["amount"])),
                currency=str(data["currency"]),
                session_id=_optional_int(data.get("session_id")),
                item_id=_optional_int(data.get("item_id")),
                user_id=_optional_int(data.get("user_id")),
            )
        except (KeyError, TypeError, ValueError, OverflowError, InvalidOperation) as exc:
            raise GatewayError(f"The gateway sent an order we cannot read: {exc!r}", code="malformed") from exc
        problems = [
            name
            for name, bad in (
                ("id", not 0 < len(order.order_id) <= MAX_ID_LENGTH),
                ("txn_id", not 0 < len(order.txn_id) <= MAX_ID_LENGTH),
                ("status", len(order.status) > 20),
                ("quantity", order.quantity < 0),
                ("amount", not order.amount.is_finite() or order.amount < 0 or order.amount >= MAX_AMOUNT),
                ("currency", len(order.currency) != 3),
            )
            if bad
        ]
        if problems:
            raise GatewayError(f"The gateway sent an order with invalid {', '.join(problems)}", code="malformed")
        return order


def _optional_int(value) -> int | None:
    # int(float("inf")) raises OverflowError, int(2.5) truncates: only whole numbers are ids.
    if value is None:
        return None
    if isinstance(value, float) and not value.is_integer():
        raise ValueError(f"{value!r} is not a whole number")
    number = int(value)
    if not 0 < number < 2**63:
        raise ValueError(f"{value!r} is out of range")
    return number


@dataclass(frozen=True)
class WebhookEvent:
    """A verified event in our terms. ``type``: payment.succeeded | payment.cancelled | payment.failed |
    payment.refunded, or the provider's own name for an event we do not act on (``order`` is then None,
    as it is for a provider's payment that is not one of ours)."""

    event_id: str
    type: str
    order: GatewayOrder | None


class Gateway(Protocol):
    name: str

    def checkout_url(self, token: str) -> str:
        """Where the reserve answer sends the shopper with their signed token. Builds a URL only:
        it runs on the reserve request, which never calls the provider."""
        ...

    def verify_webhook(self, *, body: bytes, headers: Mapping[str, str], now: float) -> WebhookEvent: ...

    def iter_orders(self, day: date) -> Iterator[GatewayOrder]: ...

    def get_order(self, order_id: str) -> GatewayOrder | None: ...

    def refund(self, order_id: str) -> GatewayOrder: ...


def webhook_signature(secret: str, timestamp: str, body: bytes) -> str:
    """``v1=`` + hex HMAC-SHA256 over ``"<timestamp>.<body>"`` (the sandbox's published scheme)."""
    return "v1=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


class SandboxGateway:
    """The sandbox gateway's HTTP API (Bearer API key) and its webhook signature scheme."""

    name = "sandbox"
    TIMESTAMP_HEADER = "X-Sandbox-Timestamp"
    SIGNATURE_HEADER = "X-Sandbox-Signature"

    def __init__(
        self,
        *,
        base_url: str,
        api_key: str,
        webhook_secret: str,
        timeout: float = 10,
        tolerance_seconds: int = 300,
        page_size: int = 1000,
        api_url: str | None = None,
        retries: int = 3,
        retry_backoff_seconds: float = 0.5,
    ):
        self.base_url = base_url.rstrip("/")
        # Server-to-server calls may take another route than the shopper's browser (a private network).
        self.api_url = (api_url or base_url).rstrip("/")
        self.api_key = api_key
        self.webhook_secret = webhook_secret
        self.timeout = timeout
        self.tolerance_seconds = tolerance_seconds
        self.page_size = page_size
        self.retries = retries
        self.retry_backoff_seconds = retry_backoff_seconds

    @cached_property
    def _http(self) -> requests.Session:
        # Made on first use: the reserve request builds a gateway for its redirect and never calls the API.
        session = retrying_session(retries=self.retries, backoff_seconds=self.retry_backoff_seconds)
        session.headers["Authorization"] = f"Bearer {self.api_key}"
        return session

    def checkout_url(self, token: str) -> str:
        return f"{self.base_url}/checkout/?token={quote(token, safe='')}"

    def verify_webhook(self, *, body: bytes, headers: Mapping[str, str], now: float) -> WebhookEvent:
        """Check the timestamp window and the signature (constant time), then parse the event."""
        timestamp = headers.get(self.TIMESTAMP_HEADER, "")
        signature = headers.get(self.SIGNATURE_HEADER, "")
        if not timestamp or not signature:
            raise WebhookRejected("missing_headers", "timestamp and signature headers are required")
        try:
            sent_at = int(timestamp)
        except ValueError as exc:
            raise WebhookRejected("malformed", "timestamp is not an integer") from exc
        expected = webhook_signature(self.webhook_secret, timestamp, body)
        if not hmac.compare_digest(expected.encode(), signature.encode()):
            raise WebhookRejected("bad_signature")
        # After the signature: an attacker cannot learn the window by probing with forged requests.
        if abs(now - sent_at) > self.tolerance_seconds:
            raise WebhookRejected("stale", f"timestamp {sent_at} is outside the {self.tolerance_seconds}s window")
        try:
            data = json.loads(body)
            return WebhookEvent(
                event_id=str(data["id"]), type=str(data["type"]), order=GatewayOrder.from_api(data["data"])
            )
        except (ValueError, KeyError, TypeError, GatewayError) as exc:
            raise WebhookRejected("malformed", "the body is not a gateway event") from exc

    def _request(self, method: str, path: str, **kwargs) -> requests.Response:
        try:
            return self._http.request(method, f"{self.api_url}{path}", timeout=self.timeout, **kwargs)
        except requests.RequestException as exc:
            raise GatewayError(f"The gateway did not answer: {exc}") from exc

    def iter_orders(self, day: date) -> Iterator[GatewayOrder]:
        """Every order the gateway lists for ``day``, page by page (one page in memory at a time)."""
        page: int | None = 1
        while page is not None:
            response = self._request(
                "GET", "/api/orders", params={"date": day.isoformat(), "page": page, "page_size": self.page_size}
            )
            if response.status_code != 200:
                raise GatewayError(f"Listing orders failed ({response.status_code})", status=response.status_code)
            data = response.json()
            for raw in data["orders"]:
                yield GatewayOrder.from_api(raw)
            page = data.get("next_page")

    def get_order(self, order_id: str) -> GatewayOrder | None:
        response = self._request("GET", f"/api/orders/{quote(order_id, safe='')}")
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise GatewayError(f"Reading order {order_id} failed ({response.status_code})", status=response.status_code)
        return GatewayOrder.from_api(response.json())

    def refund(self, order_id: str) -> GatewayOrder:
        """Refund a paid order in full; refunding it again is harmless (the gateway is idempotent)."""
        response = self._request("POST", f"/api/orders/{quote(order_id, safe='')}/refund")
        if response.status_code != 200:
            try:
                body = response.json()
            except ValueError:
                body = {}
            raise GatewayError(
                body.get("message") or f"Refund of {order_id} failed ({response.status_code})",
                status=response.status_code,
                code=body.get("error", ""),
            )
        return GatewayOrder.from_api(response.json())


def get_gateway() -> Gateway:
    """The gateway named by ``FLASHSALE_GATEWAY``, configured from settings (cheap: no connection is made)."""
    name = settings.FLASHSALE_GATEWAY
    if name == "stripe":
        from reconciliation.stripe_gateway import stripe_gateway_from_settings

        return stripe_gateway_from_settings()
    if name == "sandbox":
        return SandboxGateway(
            base_url=settings.FLASHSALE_GATEWAY_URL,
            api_url=settings.FLASHSALE_GATEWAY_INTERNAL_URL or None,
            api_key=settings.FLASHSALE_GATEWAY_API_KEY,
            webhook_secret=settings.FLASHSALE_GATEWAY_WEBHOOK_SECRET,
            timeout=settings.FLASHSALE_GATEWAY_TIMEOUT_SECONDS,
            tolerance_seconds=settings.FLASHSALE_WEBHOOK_TOLERANCE_SECONDS,
            retries=settings.FLASHSALE_GATEWAY_RETRIES,
            retry_backoff_seconds=settings.FLASHSALE_GATEWAY_RETRY_BACKOFF_SECONDS,
        )
    raise ImproperlyConfigured(f"FLASHSALE_GATEWAY={name!r} is not a known gateway (known: 'sandbox', 'stripe')")


# Every reservation asks for its checkout URL: the gateway is built from settings once per process,
# not per request (a dozen settings reads), and built again when settings change.
_checkout_gateway = from_settings(get_gateway)


def checkout_url(token: str) -> str:
    """Where the shopper is sent to pay for the reservation ``token`` vouches for."""
    return _checkout_gateway().checkout_url(token)
