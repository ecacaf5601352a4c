"""Signed webhook deliveries: queued in storage, posted by a background thread, retried with backoff.

Signature scheme (what the site verifies): ``X-Sandbox-Timestamp: <unix seconds>`` and
``X-Sandbox-Signature: v1=<hex HMAC-SHA256(webhook secret, "<timestamp>.<raw body>")>``. Each
attempt is signed afresh with its own timestamp; the event id in the body stays the same, so the
receiver can tell a retry from a new event. A 2xx answer ends the delivery, and so does 409
(the receiver says it already has this event); anything else is retried.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import threading
import time
import urllib.error
import urllib.request

from sandbox_gateway.config import GatewayConfig
from sandbox_gateway.store import Fault, Order, Store

log = logging.getLogger("sandbox_gateway.delivery")

TIMESTAMP_HEADER = "X-Sandbox-Timestamp"
SIGNATURE_HEADER = "X-Sandbox-Signature"
DEFAULT_LATE_SECONDS = 30.0


def sign(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"v1={mac}"


def event_for(order: Order, *, kind: str, now: float) -> tuple[str, str]:
    """The event id and JSON body announcing what happened to ``order``."""
    event_id = f"evt_{secrets.token_hex(12)}"
    body = {
        "id": event_id,
        "type": kind,
        "created": int(now),
        "data": order.as_api(),
    }
    return event_id, json.dumps(body, separators=(",", ":"), sort_keys=True)


def schedule_events(store: Store, order: Order, *, kind: str, faults: list[Fault], now: float) -> list[str]:
    """Queue the webhook(s) for ``order`` as its faults dictate; returns the event ids queued."""
    kinds = {fault.kind: fault for fault in faults}
    if "drop_webhook" in kinds:
        log.info("fault: dropping the %s webhook of %s", kind, order.order_id)
        return []
    due = now
    if "late_webhook" in kinds:
        due = now + float(kinds["late_webhook"].params.get("delay_seconds", DEFAULT_LATE_SECONDS))
    event_id, body = event_for(order, kind=kind, now=now)
    store.enqueue(event_id=event_id, order_id=order.order_id, body=body, due=due, now=now)
    if "duplicate_webhook" in kinds:
        # The very same event again, as a gateway that lost our first answer would send it.
        store.enqueue(event_id=event_id, order_id=order.order_id, body=body, due=due, now=now)
    return [event_id]


class DeliveryWorker(threading.Thread):
    """Posts due deliveries one at a time; sleeps until the next is due or new work is queued."""

    def __init__(self, store: Store, config: GatewayConfig):
        super().__init__(name="webhook-delivery", daemon=True)
        self.store = store
        self.config = config
        self.wakeup = threading.Event()
        self.stopping = threading.Event()

    def poke(self) -> None:
        self.wakeup.set()

    def stop(self) -> None:
        self.stopping.set()
        self.wakeup.set()

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                delivery, next_at = self.store.next_due(time.time())
            except Exception:
                log.exception("cannot read the delivery queue")
                delivery, next_at = None, time.time() + 1
            if delivery is None:
                wait = 1.0 if next_at is None else max(0.0, min(next_at - time.time(), 1.0))
                self.wakeup.wait(wait)
                self.wakeup.clear()
                continue
            self.attempt(delivery)

    def attempt(self, delivery) -> None:
        body = delivery.body.encode()
        timestamp = str(int(time.time()))
        request = urllib.request.Request(  # noqa: S310 - the URL is our own configuration, http(s) only
            self.config.webhook_url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                TIMESTAMP_HEADER: timestamp,
                SIGNATURE_HEADER: sign(self.config.webhook_secret, timestamp, body),
                "User-Agent": "sandbox-gateway/1",
            },
        )
        status: int | None = None
        error = ""
        try:
            with urllib.request.urlopen(request, timeout=self.config.delivery_timeout_seconds) as response:  # noqa: S310
                status = response.status
        except urllib.error.HTTPError as exc:
            status = exc.code
            error = exc.read(300).decode(errors="replace")
        except (urllib.error.URLError, OSError) as exc:
            error = str(exc)
        if status is not None and (200 <= status < 300 or status == 409):
            self.store.mark_delivered(delivery.id, status=status, now=time.time())
            log.info("delivered %s (%s) -> %s", delivery.event_id, delivery.order_id, status)
            return
        backoff = min(self.config.retry_base_seconds * (2**delivery.attempts), self.config.retry_max_seconds)
        self.store.mark_failed(delivery.id, status=status, error=error, retry_at=time.time() + backoff)
        log.warning("delivery %s failed (%s %s); retry in %.1fs", delivery.event_id, status, error[:100], backoff)
