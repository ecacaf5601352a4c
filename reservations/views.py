"""Shopper pages: today's sessions, the sale page, its stock poll, location, CAPTCHA, reserve, my list.

The sale page, the stock poll and the reserve request read Redis only: the user id comes from the
session (``session_user_id``), never from a User row.
"""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlencode

from captcha.fields import CaptchaField
from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponseRedirect, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_ratelimit.core import is_ratelimited

from flashsale import clock
from flashsale.auth import session_user_id
from flashsale.views import ratelimited
from reservations import captcha_gate, pages, shopper, stock, tickets
from reservations.admission import admission_required, check_admission
from reservations.checkout import checkout_url_for
from reservations.models import Transaction
from reservations.waiting_views import join_after_captcha


def home(request):
    now = clock.now()
    sessions = pages.todays_sessions(now)
    return render(request, "home.html", {"sessions": sessions, "now": now.timestamp()})


def _sale_url(session_id: int) -> str:
    return reverse("reservations-sale", args=[session_id])


@never_cache
@require_GET
def sale(request, session_id: int):
    now = clock.now_ts()
    user_id = session_user_id(request)
    location = shopper.current_location(request.session)
    page = stock.sale_page(session_id, latitude=location.latitude, longitude=location.longitude, user_id=user_id)
    if page is None:
        raise Http404("No such sale session.")
    # Each visit of the sale page mints the TransactionID its reservations derive from, and
    # copies it with the passes and location into the ticket the reserve request reads.
    entry = shopper.renew_entry(request.session, session_id, now=now)
    ticket = tickets.refresh_ticket(request.session.session_key, request.session, session_id, user_id=user_id, now=now)
    phase = page.session.phase(now)
    cards = pages.sale_cards(page, now=now, logged_in=user_id is not None)
    # One token for every form of the page (what the csrf context processor would give them).
    csrf_token = get_token(request)
    context = {
        "page": page,
        "session": page.session,
        "phase": phase,
        "cards": cards,
        "cards_html": pages.render_cards(
            cards, session_id=session_id, csrf_token=csrf_token, with_forms=user_id is not None and phase != "ended"
        ),
        "csrf_token": csrf_token,
        "city_options": pages.city_options(page.cities, selected=location.name if location.source == "city" else None),
        "location": location,
        "logged_in": user_id is not None,
        "has_pass": captcha_gate.has_pass(request.session, session_id, now=now),
        # The ticket has just checked the admission pass (an HMAC): not again here.
        "admitted": not admission_required() or (ticket is not None and now < ticket.admitted_until),
        "txn_id": entry.txn_id,
        "now": now,
        "opens_in": pages.countdown_label(page.session.starts_at - now),
        "ends_in": pages.countdown_label(page.session.ends_at - now),
    }
    return render(request, "reservations/sale.html", context)


@never_cache
@require_GET
def stock_json(request, session_id: int):
    """Every open sale page polls this every 3 s: one Redis round trip when the browser's ticket names the user."""
    try:
        levels = stock.stock_levels_with_ticket(
            session_id, session_key=request.COOKIES.get(settings.SESSION_COOKIE_NAME)
        )
    except stock.TicketNotAccepted:
        # No ticket: a visitor who is not logged in, or a page left open past the ticket's lifetime.
        levels = stock.stock_levels(session_id, user_id=session_user_id(request))
    if levels is None:
        return JsonResponse({"error": "not_found"}, status=404)
    levels["now"] = clock.now_ts()
    return JsonResponse(levels)


@require_POST
def set_location(request, session_id: int):
    """The "use my location" button (lat/lon) or the city picker (city); back to the sale page."""
    city = request.POST.get("city", "").strip()
    try:
        if city:
            found = stock.city_location(session_id, city)
            if found is None:
                return _outcome(request, 400, "Unknown city", "Pick one of the cities listed.", session_id)
            shopper.remember_location(request.session, latitude=found[0], longitude=found[1], name=city, source="city")
        else:
            shopper.remember_location(
                request.session,
                latitude=request.POST.get("latitude"),
                longitude=request.POST.get("longitude"),
                name="Your location",
                source="device",
            )
    except shopper.InvalidLocation:
        return _outcome(request, 400, "Location not understood", "That location is not valid.", session_id)
    tickets.refresh_ticket(
        request.session.session_key, request.session, session_id, user_id=session_user_id(request), now=clock.now_ts()
    )
    return HttpResponseRedirect(_sale_url(session_id), status=303)


# --- CAPTCHA -----------------------------------------------------------------------------------


class CaptchaForm(forms.Form):
    captcha = CaptchaField(label="Type the characters you see")


def _limited(request, group: str, *, user_rate: str, ip_rate: str) -> bool:
    """Per user and per IP limits (django-ratelimit on the Redis cache); both are counted."""
    by_user = is_ratelimited(
        request,
        group=f"{group}:user",
        key=lambda _group, req: str(session_user_id(req)),
        rate=user_rate,
        increment=True,
    )
    by_ip = is_ratelimited(request, group=f"{group}:ip", key="ip", rate=ip_rate, increment=True)
    return by_user or by_ip


@login_required
@require_http_methods(["GET", "POST"])
def captcha(request, session_id: int):
    info = stock.session_info(session_id)
    if info is None:
        raise Http404("No such sale session.")
    if _limited(
        request,
        "captcha",
        user_rate=settings.FLASHSALE_CAPTCHA_RATE_USER,
        ip_rate=settings.FLASHSALE_CAPTCHA_RATE_IP,
    ):
        return ratelimited(request)
    form = CaptchaForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        captcha_gate.grant_pass(request.session, session_id, now=clock.now_ts())
        return join_after_captcha(request, session_id)
    template = "reservations/captcha_form.html" if request.GET.get("fragment") else "reservations/captcha.html"
    status = 400 if request.method == "POST" else 200
    return render(request, template, {"form": form, "session": info}, status=status)


# --- reserve -----------------------------------------------------------------------------------

# One place maps every refusal to its page and status code.
REJECTIONS = {
    stock.SoldOut: (409, "Sold out", "Sorry, the units you asked for are gone."),
    stock.LimitReached: (403, "Limit reached", "You already hold as many of this product as one shopper may."),
    stock.NotOpenYet: (425, "Not open yet", "The sale has not started. Keep the page open: it unlocks itself."),
    stock.SessionClosed: (410, "Sale ended", "This sale is over."),
    stock.UnknownSaleItem: (404, "Not found", "This product is not on sale in this session."),
    stock.TransactionConflict: (409, "Please try again", "Your request crossed another one. Try once more."),
}


def _outcome(request, status: int, title: str, message: str, session_id: int, **extra):
    context = {"title": title, "message": message, "back_url": _sale_url(session_id), **extra}
    return render(request, "reservations/outcome.html", context, status=status)


def _quantity(request) -> int | None:
    try:
        quantity = int(request.POST.get("quantity", "1"))
    except ValueError:
        return None
    return quantity if 1 <= quantity <= 1000 else None


def _refused(request, rejected: stock.ReservationRejected, session_id: int):
    if isinstance(rejected, stock.RateLimited):
        return ratelimited(request)
    status, title, message = REJECTIONS[type(rejected)]
    return _outcome(request, status, title, message, session_id, rejection=rejected)


def _reserved(request, held: stock.Reservation, session_id: int):
    if held.status != "reserved":
        if held.status == "paid":
            return HttpResponseRedirect(reverse("reservations-mine"), status=303)
        return _outcome(
            request, 410, "Reservation expired", "That reservation is no longer held. Reload the sale page.", session_id
        )
    return HttpResponseRedirect(checkout_url_for(held), status=303)


@require_POST
def reserve(request, session_id: int, item_id: int):
    """One Redis round trip when the shopper's ticket says everything (``reservations.tickets``).

    Otherwise (no ticket, a pass missing from it, a bad quantity) the session is read, the
    shopper gets the page that says what to do, and a reservation made that way stores a fresh
    ticket in the same script call.
    """
    now = clock.now_ts()
    quantity = _quantity(request)
    session_key = request.COOKIES.get(settings.SESSION_COOKIE_NAME)
    if session_key and quantity is not None:
        try:
            held = stock.reserve_with_ticket(
                session_id,
                item_id,
                session_key=session_key,
                quantity=quantity,
                now=now,
                require_admission=admission_required(),
                client_ip=request.META.get("REMOTE_ADDR"),
                rate_limits=stock.reserve_rate_limits(),
            )
        except (stock.TicketNotAccepted, stock.TransactionConflict):
            pass  # the session decides below (and a conflict renews the visit there)
        except stock.ReservationRejected as rejected:
            return _refused(request, rejected, session_id)
        else:
            return _reserved(request, held, session_id)
    return _reserve_from_session(request, session_id, item_id, quantity=quantity, now=now)


def _reserve_from_session(request, session_id: int, item_id: int, *, quantity: int | None, now: float):
    user_id = session_user_id(request)
    if user_id is None:
        return redirect(f"{reverse(settings.LOGIN_URL)}?{urlencode({'next': _sale_url(session_id)})}")
    if not captcha_gate.has_pass(request.session, session_id, now=now):
        # Rare path, so one more read is fine: no CAPTCHA for a sale that is over or unknown.
        info = stock.session_info(session_id)
        if info is None:
            raise Http404("No such sale session.")
        if info.phase(now) == "ended":
            status, title, message = REJECTIONS[stock.SessionClosed]
            return _outcome(request, status, title, message, session_id)
        return _outcome(
            request,
            403,
            "One quick check first",
            "Prove you are human once for this sale, then reserve.",
            session_id,
            captcha_url=reverse("reservations-captcha", args=[session_id]),
        )
    if admission_required() and not check_admission(request.session, user_id, session_id, now=now):
        return HttpResponseRedirect(reverse("reservations-waiting", args=[session_id]), status=303)
    if quantity is None:
        return _outcome(request, 400, "Invalid quantity", "Choose how many units you want.", session_id)
    ticket = tickets.ticket_from_session(request.session, session_id, user_id=user_id, now=now)
    try:
        held = stock.reserve_units(
            session_id,
            item_id,
            user_id=user_id,
            quantity=quantity,
            # One TransactionID per item and sale-page visit: a double submit replays it, and a
            # reservation needs no session write (the next visit of the sale page mints anew).
            txn_id=shopper.item_txn_id(shopper.Entry(ticket.visit_txn, ticket.entered_at), item_id),
            now=now,
            entered_at=ticket.entered_at,
            latitude=ticket.latitude,
            longitude=ticket.longitude,
            client_ip=request.META.get("REMOTE_ADDR"),
            rate_limits=stock.reserve_rate_limits(),
            store_ticket=(request.session.session_key, ticket),
        )
    except stock.ReservationRejected as rejected:
        if isinstance(rejected, stock.TransactionConflict):
            shopper.renew_entry(request.session, session_id, now=now)
            tickets.refresh_ticket(request.session.session_key, request.session, session_id, user_id=user_id, now=now)
        return _refused(request, rejected, session_id)
    return _reserved(request, held, session_id)


# --- the shopper's reservations ----------------------------------------------------------------


@login_required
@require_GET
def my_reservations(request):
    now = clock.now_ts()
    rows: dict[str, dict] = {}
    for txn in Transaction.objects.filter(user_id=request.user.pk).select_related("item__product", "session")[:200]:
        rows[txn.txn_id] = {
            "txn_id": txn.txn_id,
            "session_id": txn.session_id,
            "session_name": txn.session.name,
            "item_name": txn.item.product.name,
            "quantity": txn.quantity,
            "amount": txn.amount,
            "currency": txn.currency,
            "status": "paid_after_expiry" if txn.paid_after_expiry else txn.status,
            "reserved_at": txn.reserved_at,
            "expires_at": txn.expires_at.timestamp(),
        }
    for live in stock.user_reservations(request.user.pk):
        rows[live.txn_id] = {
            **rows.get(live.txn_id, {}),
            "txn_id": live.txn_id,
            "session_id": live.session_id,
            "session_name": live.session_name or rows.get(live.txn_id, {}).get("session_name", ""),
            "item_name": live.item_name,
            "quantity": live.quantity,
            "amount": live.amount,
            "currency": live.currency,
            "status": live.status,
            "reserved_at": datetime.fromtimestamp(live.reserved_at, tz=UTC),
            "expires_at": live.expires_at,
            "pay_url": checkout_url_for(live.as_reservation()) if live.status == "reserved" else "",
        }
    listing = sorted(rows.values(), key=lambda r: r["reserved_at"], reverse=True)
    for row in listing:
        left = row["expires_at"] - now
        row["seconds_left"] = left if row["status"] == "reserved" and left > 0 else 0
        row["time_left"] = pages.countdown_label(left) if row["seconds_left"] else ""
        if row["status"] == "reserved" and left <= 0:
            row["status"] = "expired"
            row["pay_url"] = ""
    return render(request, "reservations/mine.html", {"rows": listing, "now": now})
