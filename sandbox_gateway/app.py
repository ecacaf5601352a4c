"""The sandbox gateway's WSGI application: checkout pages, the order API and fault injection."""

from __future__ import annotations

import hmac
import json
import logging
import os
import re
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from html import escape
from typing import Any
from urllib.parse import parse_qs, quote

from reservations.tokens import TokenClaims, TokenError, verify_token
from sandbox_gateway.config import GatewayConfig
from sandbox_gateway.delivery import schedule_events
from sandbox_gateway.store import GLOBAL, Order, Store, StoreError

log = logging.getLogger("sandbox_gateway")

MAX_PAGE_SIZE = 1000
DEFAULT_PAGE_SIZE = 500
MAX_BODY_BYTES = 64 * 1024

TOKEN_REFUSALS = {
    "malformed": "This payment link is damaged.",
    "unknown_key": "This payment link was signed with a key we do not accept.",
    "bad_signature": "This payment link has been tampered with.",
    "expired": "This payment link has expired: the reservation is no longer held.",
}

STYLE = """
body{font-family:system-ui,sans-serif;background:#f4f5f7;margin:0;color:#1d2330}
.box{max-width:30rem;margin:3rem auto;background:#fff;border-radius:8px;padding:1.5rem 2rem;
box-shadow:0 1px 4px rgba(0,0,0,.12)}
h1{font-size:1.3rem}.brand{color:#5b4bdb;font-weight:700;letter-spacing:.02em}
table{width:100%;border-collapse:collapse}td{padding:.3rem 0;border-bottom:1px solid #eee;vertical-align:top}
td:last-child{text-align:right;font-variant-numeric:tabular-nums;overflow-wrap:anywhere;padding-left:1rem}
@media (max-width:480px){.box{margin:0;border-radius:0;padding:1rem}.actions button{flex:1;min-height:44px}}
.actions{display:flex;gap:1rem;margin-top:1.2rem}.actions form{display:flex;flex:1}button{font-size:1rem;padding:.6rem 1.4rem;border-radius:6px;min-height:44px;
border:1px solid #5b4bdb;cursor:pointer}.pay{background:#5b4bdb;color:#fff}.cancel{background:#fff;color:#5b4bdb}
.refused{border-left:4px solid #c62828}
"""


class Response:
    def __init__(self, status: int, body: str | bytes, *, content_type: str = "text/html; charset=utf-8", headers=()):
        self.status = status
        self.body = body.encode() if isinstance(body, str) else body
        self.headers = [("Content-Type", content_type), *headers]


def json_response(status: int, data) -> Response:
    return Response(status, json.dumps(data), content_type="application/json")


def redirect(location: str) -> Response:
    return Response(303, "", headers=[("Location", location)])


def page(title: str, inner: str, *, status: int = 200, css_class: str = "") -> Response:
    html = (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        '<meta name=viewport content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)} · Sandbox Pay</title><style>{STYLE}</style></head>"
        f'<body><div class="box {css_class}"><p class=brand>Sandbox Pay</p><h1>{escape(title)}</h1>{inner}</div></body></html>'
    )
    return Response(status, html, headers=[("X-Frame-Options", "DENY"), ("Cache-Control", "no-store")])


def refusal(message: str, *, status: int) -> Response:
    return page(
        "Payment refused", f"<p>{escape(message)}</p><p>No order was taken.</p>", status=status, css_class="refused"
    )


class GatewayApp:
    """A WSGI callable; ``worker`` (optional) is poked when a webhook is queued."""

    def __init__(self, config: GatewayConfig, store: Store, *, worker=None):
        self.config = config
        self.store = store
        self.worker = worker
        self.routes: list[tuple[str, re.Pattern[str], Callable[..., Response]]] = [
            ("GET", re.compile(r"^/healthz$"), self.healthz),
            ("GET", re.compile(r"^/checkout/?$"), self.checkout),
            ("POST", re.compile(r"^/checkout/(?P<order_id>ord_[0-9a-f]+)/(?P<action>pay|cancel)$"), self.settle),
            ("GET", re.compile(r"^/api/orders$"), self.api_list_orders),
            ("GET", re.compile(r"^/api/orders/(?P<order_id>ord_[0-9a-f]+)$"), self.api_get_order),
            ("POST", re.compile(r"^/api/orders/(?P<order_id>ord_[0-9a-f]+)/refund$"), self.api_refund),
            ("GET", re.compile(r"^/api/faults$"), self.api_list_faults),
            ("POST", re.compile(r"^/api/faults$"), self.api_add_fault),
            ("DELETE", re.compile(r"^/api/faults$"), self.api_clear_faults),
            ("GET", re.compile(r"^/api/deliveries$"), self.api_deliveries),
        ]

    def __call__(self, environ, start_response):
        try:
            response = self.dispatch(environ)
        except Exception:
            log.exception("unhandled error")
            response = Response(500, "internal error", content_type="text/plain")
        reason = {200: "OK", 201: "Created", 303: "See Other"}.get(response.status, "Status")
        start_response(f"{response.status} {reason}", [*response.headers, ("Content-Length", str(len(response.body)))])
        return [response.body]

    def dispatch(self, environ) -> Response:
        method = environ["REQUEST_METHOD"]
        path = environ.get("PATH_INFO", "/")
        allowed = False
        for route_method, pattern, handler in self.routes:
            match = pattern.match(path)
            if not match:
                continue
            if route_method != method:
                allowed = True
                continue
            if path.startswith("/api/") and not self.authorized(environ):
                return json_response(401, {"error": "unauthorized", "message": "Bearer API key required."})
            return handler(environ, **match.groupdict())
        if allowed:
            return json_response(405, {"error": "method_not_allowed"})
        return Response(404, "not found", content_type="text/plain")

    def authorized(self, environ) -> bool:
        header = environ.get("HTTP_AUTHORIZATION", "")
        scheme, _, key = header.partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(key.strip().encode(), self.config.api_key.encode())

    # --- pages ---------------------------------------------------------------------------

    def healthz(self, environ) -> Response:
        return json_response(200, {"status": "ok", "pid": os.getpid()})

    def checkout(self, environ) -> Response:
        token = parse_qs(environ.get("QUERY_STRING", "")).get("token", [""])[0]
        now = time.time()
        try:
            claims = verify_token(token, keys=self.config.token_keys, now=now)
        except TokenError as exc:
            log.info("checkout refused: %s", exc.reason)
            return refusal(TOKEN_REFUSALS.get(exc.reason, "This payment link is not valid."), status=400)
        try:
            order, created = self.store.open_order(claims=claims, now=now)
        except StoreError as exc:
            log.info("checkout refused for %s: %s", claims.txn_id, exc.code)
            return refusal(exc.message, status=409)
        if created:
            log.info("order %s opened for %s", order.order_id, order.txn_id)
        return self.order_page(order, claims)

    def order_page(self, order: Order, claims: TokenClaims) -> Response:
        """What is being paid for, named as the site signed it in the token (ids when a token has no names)."""
        expires = datetime.fromtimestamp(order.token_expires_at, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        rows = [
            ("Product", claims.item_name or f"Item #{order.item_id}"),
            ("Sale", claims.session_name or f"Sale #{order.session_id}"),
            ("Units", str(order.quantity)),
            ("Total", f"{order.amount} {order.currency}"),
            ("Held until", expires),
            ("Reservation", order.txn_id),
            ("Order", order.order_id),
        ]
        table = "".join(f"<tr><td>{escape(k)}</td><td>{escape(v)}</td></tr>" for k, v in rows)
        nonce = escape(order.nonce)
        base = f"/checkout/{escape(order.order_id)}"
        forms = (
            '<div class="actions">'
            f'<form method="post" action="{base}/pay"><input type="hidden" name="nonce" value="{nonce}">'
            '<button class="pay" type="submit">Pay</button></form>'
            f'<form method="post" action="{base}/cancel"><input type="hidden" name="nonce" value="{nonce}">'
            '<button class="cancel" type="submit">Cancel</button></form></div>'
        )
        return page("Confirm your payment", f"<table>{table}</table>{forms}")

    def settle(self, environ, *, order_id: str, action: str) -> Response:
        form = parse_qs(self.read_body(environ).decode(errors="replace"))
        nonce = form.get("nonce", [""])[0]
        now = time.time()
        try:
            order, faults = self.store.settle(
                order_id,
                nonce,
                pay=action == "pay",
                now=now,
                compare=lambda a, b: hmac.compare_digest(a.encode(), b.encode()),
            )
        except StoreError as exc:
            status = 404 if exc.code == "not_found" else 403 if exc.code == "bad_nonce" else 409
            return refusal(exc.message, status=status)
        kind = "payment.succeeded" if order.status == "paid" else "payment.cancelled"
        schedule_events(self.store, order, kind=kind, faults=faults, now=now)
        if self.worker is not None:
            self.worker.poke()
        log.info("order %s %s", order.order_id, order.status)
        return redirect(f"{self.config.return_url}?txn={quote(order.txn_id)}")

    # --- API -----------------------------------------------------------------------------

    def api_list_orders(self, environ) -> Response:
        query = parse_qs(environ.get("QUERY_STRING", ""))
        try:
            day = date.fromisoformat(query.get("date", [""])[0])
            page_number = int(query.get("page", ["1"])[0])
            page_size = int(query.get("page_size", [str(DEFAULT_PAGE_SIZE)])[0])
        except ValueError:
            return json_response(
                400, {"error": "bad_request", "message": "date=YYYY-MM-DD, page>=1 and page_size are required."}
            )
        if page_number < 1 or not 1 <= page_size <= MAX_PAGE_SIZE:
            return json_response(
                400, {"error": "bad_request", "message": f"page >= 1, 1 <= page_size <= {MAX_PAGE_SIZE}."}
            )
        orders, has_next = self.store.list_orders(day.isoformat(), page=page_number, page_size=page_size)
        return json_response(
            200,
            {
                "date": day.isoformat(),
                "page": page_number,
                "page_size": page_size,
                "next_page": page_number + 1 if has_next else None,
                "orders": [order.as_api() for order in orders],
            },
        )

    def api_get_order(self, environ, *, order_id: str) -> Response:
        order = self.store.get_order(order_id)
        if order is None:
            return json_response(404, {"error": "not_found"})
        return json_response(200, order.as_api())

    def api_refund(self, environ, *, order_id: str) -> Response:
        try:
            order, changed = self.store.refund(order_id, now=time.time())
        except StoreError as exc:
            return json_response(404 if exc.code == "not_found" else 409, {"error": exc.code, "message": exc.message})
        log.info("order %s refunded%s", order_id, "" if changed else " (again: no change)")
        return json_response(200, {**order.as_api(), "already_refunded": not changed})

    def api_list_faults(self, environ) -> Response:
        return json_response(200, {"faults": [fault.as_api() for fault in self.store.list_faults()]})

    def api_add_fault(self, environ) -> Response:
        try:
            data = json.loads(self.read_body(environ) or b"{}")
            kind = str(data["kind"])
            target = str(data.get("order_id") or data.get("txn_id") or GLOBAL)
            params: dict[str, Any] = {}
            if "delay_seconds" in data:
                params["delay_seconds"] = float(data["delay_seconds"])
            for field in ("amount", "delta"):
                if data.get(field) is not None:
                    params[field] = str(Decimal(str(data[field])))
            fault = self.store.add_fault(target=target, kind=kind, params=params, now=time.time())
        except (ValueError, KeyError, TypeError, InvalidOperation):
            return json_response(400, {"error": "bad_request", "message": "Expected JSON with 'kind'."})
        except StoreError as exc:
            return json_response(400, {"error": exc.code, "message": exc.message})
        log.info("fault added: %s", fault)
        return json_response(201, fault.as_api())

    def api_clear_faults(self, environ) -> Response:
        raw_id = parse_qs(environ.get("QUERY_STRING", "")).get("id", [""])[0]
        removed = self.store.clear_faults(fault_id=int(raw_id) if raw_id.isdigit() else None)
        return json_response(200, {"removed": removed})

    def api_deliveries(self, environ) -> Response:
        order_id = parse_qs(environ.get("QUERY_STRING", "")).get("order_id", [""])[0] or None
        return json_response(200, {"deliveries": self.store.list_deliveries(order_id=order_id)})

    @staticmethod
    def read_body(environ) -> bytes:
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        return environ["wsgi.input"].read(min(length, MAX_BODY_BYTES)) if length > 0 else b""
