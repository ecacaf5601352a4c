"""The payment gateways' webhooks, our pay page for Stripe, and the page the shopper returns to after paying."""

from __future__ import annotations

import logging
from urllib.parse import urlencode

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from flashsale.auth import session_user_id
from reconciliation.gateway import Gateway, GatewayError, WebhookRejected, get_gateway
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
    """The sandbox gateway's webhook: 409 to a replay tells it to stop delivering that event."""
    return _webhook_answer(request, gateway=get_gateway(), replay_status=409)


def _stripe_only() -> None:
    if settings.FLASHSALE_GATEWAY != "stripe":
        raise Http404("Stripe is not this site's payment gateway.")


@csrf_exempt  # Authenticated by Stripe's signature (Stripe-Signature header), not a browser session.
@require_POST
def stripe_webhook(request: HttpRequest) -> HttpResponse:
    """Stripe's webhook. A replayed event id answers 200 and changes nothing: Stripe retries
    anything but a 2xx for days, and a redelivery it makes is not an error."""
    _stripe_only()
    return _webhook_answer(request, gateway=get_gateway(), replay_status=200)


def _webhook_answer(request: HttpRequest, *, gateway: Gateway, replay_status: int) -> HttpResponse:
    length = request.META.get("CONTENT_LENGTH") or "0"
    if not length.isdigit() or int(length) > MAX_WEBHOOK_BYTES:
        count_webhook("too_large")
        return JsonResponse({"error": "too_large"}, status=413)
    try:
        result = handle_webhook(body=request.body, headers=request.headers, gateway=gateway)
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
        # Nothing changes here; the status tells the gateway we already have this event, so it stops.
        return JsonResponse({"error": "replayed", "event": exc.event_id}, status=replay_status)
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
    "refunded": ("Payment refunded", "This payment was refunded in full.", "info"),
    "unknown": ("Payment not found", "We cannot find this payment.", "error"),
}


def _return_url(txn_id: str) -> str:
    return f"{reverse('payment_return')}?{urlencode({'txn': txn_id})}"


@never_cache
@require_GET
def stripe_pay(request: HttpRequest) -> HttpResponse:
    """Our pay page for Stripe: the reserve answer's 303 lands here with the signed token."""
    _stripe_only()
    # Imported here: the stripe package costs every worker ~30 MB and 0.2 s, for nothing on the sandbox.
    from reconciliation.stripe_checkout import PaymentBeingPrepared, PaymentRefused, open_pay_page

    try:
        page = open_pay_page(request.GET.get("token", ""))
    except PaymentRefused as exc:
        refused = {"title": "Payment refused", "message": exc.message, "reason": exc.reason}
        return render(request, "reconciliation/stripe_refused.html", refused, status=exc.status)
    except PaymentBeingPrepared:
        # A second tab or a double click while the first request makes the PaymentIntent.
        return render(request, "reconciliation/stripe_preparing.html", status=202)
    except GatewayError as exc:
        log.error("pay page: Stripe failed: %s", exc)
        unavailable = {
            "title": "Payment provider unavailable",
            "message": "We could not reach the payment provider. Please try again in a moment.",
            "reason": "gateway",
        }
        return render(request, "reconciliation/stripe_refused.html", unavailable, status=502)
    return_url = _return_url(page.claims.txn_id)
    if page.submitted:
        return HttpResponseRedirect(return_url, status=303)
    context = {
        "claims": page.claims,
        "total": page.total,
        "publishable_key": page.publishable_key,
        "client_secret": page.intent.client_secret,
        "js_url": page.js_url,
        "return_url": return_url,
    }
    return render(request, "reconciliation/stripe_pay.html", context)


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
