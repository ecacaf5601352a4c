"""The waiting page and its JSON poll: thin views over ``reservations.waiting_room``.

Both answer from Redis alone: the user id comes from the session (``session_user_id``), the
CAPTCHA pass and the admission pass live in the cache-backed session, and the waiting room is
Lua in Redis. The page is the entry point: opening it (after the CAPTCHA) joins the queue.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from flashsale import clock
from flashsale.auth import session_user_id
from reservations.admission import admission_required, pass_for_admission
from reservations.shopper import ShopperSession
from reservations.waiting_room import (
    WaitingRoomError,
    WaitingStatus,
    enter_waiting_room,
    poll_waiting_room,
    session_title,
)

log = logging.getLogger(__name__)

MESSAGES = {
    "too_early": "The waiting room opens {lead} minutes before the sale. Come back a little later.",
    "closed": "This sale has ended.",
    "no_session": "This sale is not open for queueing.",
    "sold_out": "Everything in this sale has sold out. Thank you for waiting.",
    "not_queued": "You are no longer in the queue: this page stopped checking in for a while. "
    "Reload it to join again at the back.",
}


def sale_page_url(session_id: int) -> str:
    """Where admitted shoppers go: the sale page (a local path, never taken from the request)."""
    return reverse("reservations-sale", args=[session_id])


def _see_other(url: str) -> HttpResponseRedirect:
    return HttpResponseRedirect(url, status=303)


def waiting_url(session_id: int) -> str:
    return reverse("reservations-waiting", args=[session_id])


def _grant(request: HttpRequest, session_id: int, user_id: int, status: WaitingStatus) -> None:
    admitted_at = status.admitted_at
    if admitted_at is None:  # the waiting room answers "admitted" with the instant; never without
        return
    shopper = ShopperSession(request.session)
    shopper.store_admission_pass(session_id, pass_for_admission(user_id, session_id, admitted_at=admitted_at))
    # They solved the CAPTCHA to queue; a long wait must not make them solve it again to reserve.
    shopper.keep_captcha_pass_until(session_id, admitted_at + settings.FLASHSALE_ADMISSION_PASS_SECONDS)
    shopper.keep_ticket_current(session_id, now=clock.now_ts())


def eta_text(seconds: int | None) -> str:
    """The estimate as the page's script writes it, so the first render and the updates agree."""
    if seconds is None:
        return "paused"
    if seconds < 60:
        return f"{seconds} s"
    return f"{seconds // 60} min {seconds % 60} s"


def _payload(status: WaitingStatus, session_id: int) -> dict:
    data = {
        "state": status.state,
        "position": status.position,
        "waiting": status.waiting,
        "eta_seconds": status.eta_seconds,
        "paused": status.paused,
        "rate": status.rate,
        "starts_at": status.starts_at,
    }
    if status.admitted:
        data["next_url"] = sale_page_url(session_id)
    elif status.state in MESSAGES:
        data["message"] = MESSAGES[status.state].format(lead=settings.FLASHSALE_WAITING_ROOM_LEAD_MINUTES)
    return data


def join_after_captcha(request: HttpRequest, session_id: int) -> HttpResponse:
    """Where the CAPTCHA view sends a shopper who just passed it (303).

    With the waiting room on, they join the queue: admitted at once (no rate set, session open),
    straight to the sale page with a pass in their session; otherwise to the waiting page.
    """
    if not admission_required():
        return _see_other(sale_page_url(session_id))
    user_id = session_user_id(request)
    if user_id is None:
        return redirect_to_login(request.get_full_path())
    try:
        status = enter_waiting_room(session_id, user_id)
    except WaitingRoomError:
        log.exception("waiting room of session %s refused a join", session_id)
        return _see_other(waiting_url(session_id))
    if status.admitted:
        _grant(request, session_id, user_id, status)
        return _see_other(sale_page_url(session_id))
    return _see_other(waiting_url(session_id))


@require_GET
@never_cache
def waiting_room(request: HttpRequest, session_id: int) -> HttpResponse:
    """The waiting page: joins the queue (CAPTCHA first), then shows place and estimated wait."""
    user_id = session_user_id(request)
    if user_id is None:
        return redirect_to_login(request.get_full_path())
    if not admission_required():
        return _see_other(sale_page_url(session_id))
    if not ShopperSession(request.session).has_captcha_pass(session_id, now=clock.now_ts()):
        return _see_other(reverse("reservations-captcha", args=[session_id]))
    try:
        status = enter_waiting_room(session_id, user_id)
    except WaitingRoomError:
        log.exception("waiting room of session %s failed", session_id)
        return render(
            request,
            "error.html",
            {"title": "Waiting room unavailable", "message": "Please try again in a moment."},
            status=503,
        )
    if status.admitted:
        _grant(request, session_id, user_id, status)
        return _see_other(sale_page_url(session_id))
    context = {
        "session_id": session_id,
        "session_name": session_title(session_id) or f"Sale {session_id}",
        "status": status,
        "payload": _payload(status, session_id),
        "poll_url": reverse("reservations-waiting-status", args=[session_id]),
        "sale_url": sale_page_url(session_id),
        "poll_seconds": settings.FLASHSALE_WAITING_ROOM_POLL_SECONDS,
        "eta_text": eta_text(status.eta_seconds),
        "pass_minutes": settings.FLASHSALE_ADMISSION_PASS_SECONDS // 60,
    }
    return render(request, "reservations/waiting_room.html", context)


@require_GET
@never_cache
def waiting_room_status(request: HttpRequest, session_id: int) -> JsonResponse:
    """The poll: where the shopper stands; on admission, the pass is granted and ``next_url`` given."""
    user_id = session_user_id(request)
    if user_id is None:
        return JsonResponse({"state": "login_required"}, status=403)
    try:
        status = poll_waiting_room(session_id, user_id)
    except WaitingRoomError:
        log.exception("waiting room of session %s failed", session_id)
        return JsonResponse({"state": "unavailable"}, status=503)
    if status.admitted:
        _grant(request, session_id, user_id, status)
    return JsonResponse(_payload(status, session_id))
