"""The floor (what Django costs per request) and the peer reserve view, served beside the site."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpResponse, HttpResponseRedirect
from django.views.decorators.http import require_http_methods, require_POST

from bench import calibration
from bench.peer import reserve_in_database
from flashsale.auth import session_user_id


@require_http_methods(["GET", "POST"])
def floor(request):
    """Nothing but the middleware stack (a POST still passes the CSRF check)."""
    return HttpResponse(b"ok", content_type="text/plain")


@require_POST
def floor_redis(request):
    """The floor plus one Redis round trip (``bench/lua/one_round_trip.lua``), answered like a reservation.

    The least any design that decides in Redis pays per request: what the reserve's own work
    (passes, limits, idempotency, accounting, the signed token) costs is the rest.
    """
    unit = calibration.one_round_trip()
    return HttpResponseRedirect(f"{settings.FLASHSALE_GATEWAY_URL}/checkout/?unit={unit}", status=303)


@require_POST
def peer_reserve(request, stock_id: int):
    """Same login and CSRF as the real reserve; the decision is a PostgreSQL hot-row transaction."""
    user_id = session_user_id(request)
    if user_id is None:
        return HttpResponse(b"login required", status=403, content_type="text/plain")
    if not reserve_in_database(stock_id=stock_id, user_id=user_id):
        return HttpResponse(b"sold out", status=409, content_type="text/plain")
    return HttpResponseRedirect(f"{settings.FLASHSALE_GATEWAY_URL}/checkout/?peer={stock_id}", status=303)
