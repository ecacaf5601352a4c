"""The payment gateway's webhook and the page the shopper returns to after paying."""

from __future__ import annotations

import logging

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from flashsale.auth import session_user_id
from reconciliation.gateway import WebhookRejected
from reconciliation.metrics import count_webhook
from reconciliation.payments import (
    TXN_ID_PATTERN,
    WebhookInProgress,
    WebhookReplayed,
    handle_webhook,
    payment_status,
)

log = logging.getLogger(__name__)

MAX_WEBHOOK_BYTES = 64 * 1024


@csrf_exempt  # Authenticated by the gateway's HMAC signature, not a browser session.
@require_POST
def webhook(request: HttpRequest) -> HttpResponse:
    length = request.META.get("CONTENT_LENGTH") or "0"
    if not length.isdigit() or int(length) > MAX_WEBHOOK_BYTES:
        count_webhook("too_large")
        return JsonResponse({"error": "too_large"}, status=413)
    try:
        result = handle_webhook(body=request.body, headers=request.headers)
    except WebhookRejected as exc:
        log.warning("webhook refused: %s", exc)
        count_webhook(f"rejected_{exc.reason}")
        status = 400 if exc.reason == "malformed" else 401
        return JsonResponse({"error": exc.reason}, status=status)
    except WebhookInProgress as exc:
        log.info("webhook %s arrived while an earlier delivery is being handled", exc.event_id)
        count_webhook("in_progress")
        # 503 with Retry-After: the gateway keeps retrying; if the first delivery fails, a retry lands.
        response = JsonResponse({"error": "in_progress", "event": exc.event_id}, status=503)
        response["Retry-After"] = "5"
        return response
    except WebhookReplayed as exc:
        log.warning("webhook replay refused: %s", exc.event_id)
        count_webhook("replayed")
        # 409 tells the gateway we already have this event: it stops retrying, nothing changes here.
        return JsonResponse({"error": "replayed", "event": exc.event_id}, status=409)
    count_webhook(result.outcome)
    return JsonResponse(
        {"event": result.event_id, "txn": result.txn_id, "outcome": result.outcome, "changed": result.changed}
    )


MESSAGES = {
    "paid": ("Payment confirmed", "Your payment is confirmed and your units are yours.", "success"),
    "paid_after_expiry": (
        "Payment received too late",
        "Your payment arrived after your reservation expired, so the units went back on sale. "
        "The payment will be refunded in full.",
        "warning",
    ),
    "amount_mismatch": (
        "Payment under review",
        "The amount charged does not match your reservation. We will refund it; your reservation was not confirmed.",
        "warning",
    ),
    "cancelled": ("Payment cancelled", "You cancelled the payment; the units went back on sale.", "info"),
    "pending": (
        "Payment pending",
        "We are waiting for the payment provider to confirm your payment. This page refreshes by itself.",
        "pending",
    ),
    "unknown": ("Payment not found", "We cannot find this payment.", "error"),
}


@require_GET
def payment_return(request: HttpRequest) -> HttpResponse:
    """Only renders what we know; never redirects anywhere the query names (no open redirect)."""
    txn_id = request.GET.get("txn", "")
    if not TXN_ID_PATTERN.match(txn_id):
        status = payment_status("")
        code = 400
    else:
        status = payment_status(txn_id)
        code = 200
        if status.user_id is not None and status.user_id != session_user_id(request):
            # Someone else's payment: say nothing about it.
            status = payment_status("")
    title, message, kind = MESSAGES.get(status.state, MESSAGES["unknown"])
    context = {"title": title, "message": message, "kind": kind, "state": status.state, "txn_id": txn_id}
    return render(request, "reconciliation/payment_return.html", context, status=code)
