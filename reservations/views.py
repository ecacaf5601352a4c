"""Shopper pages: today's sessions, the sale page, its stock poll, location, CAPTCHA, reserve, my list.

Thin views: each parses its input, calls one function of ``reservations.services`` (or a read of
``reservations.availability``) and maps the outcome to a page, a redirect or JSON. The sale page,
the stock poll and the reserve request read Redis only: the user id comes from the session, never
from a User row.
"""

from __future__ import annotations

import math
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, HttpResponseNotModified, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from flashsale import clock
from flashsale.auth import session_user_id
from flashsale.client_ip import client_ip, limit_key
from flashsale.context_processors import SITE_NAME
from flashsale.csrf_tokens import masked_token
from flashsale.never_cache import never_cache
from flashsale.rate_limits import wait_seconds
from flashsale.views import ratelimited
from reservations import availability, early_answers, funnel, pages, refusals, sale_page, services, sold_out
from reservations.captcha_form import CaptchaForm
from reservations.checkout import checkout_url_for
from reservations.display import names_of
from reservations.holds import Reservation
from reservations.shopper import InvalidLocation, ShopperSession
from reservations.snapshot import etag_matches, stock_snapshot
from reservations.states import ReservationStatus
from reservations.waiting_views import join_after_captcha

# The shared stock poll may be served from a cache for this long (its snapshots are at most 1 s old).
POLL_MAX_AGE_SECONDS = 1


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
    visit = services.visit_sale_page(
        session_id,
        ShopperSession(request.session),
        session_key=request.COOKIES.get(settings.SESSION_COOKIE_NAME),
        now=now,
    )
    if visit is None:
        return not_found(request, "No such sale", "This sale does not exist, or it is not open for shoppers yet.")
    variant = sale_page.variant_of(visit, now=now)
    values = sale_page.page_values(visit, csrf_token=masked_token(request), now=now)
    return HttpResponse(sale_page.render_page(request, variant, values))


def not_found(request, title: str, message: str):
    """A 404 in the site's own words and layout (also in development, where Django would show its debug page)."""
    return render(request, "error.html", {"title": title, "message": message}, status=404)


@require_GET
def stock_json(request, session_id: int):
    """The shared stock poll: the same body for everybody, at most a second old, cacheable by a CDN.

    Every open sale page asks every few seconds. The body (``reservations.snapshot``) holds every
    item's remaining units, the phase, the server time and the stock version; nothing personal.
    """
    snapshot = stock_snapshot(session_id)
    response: HttpResponse
    if snapshot is None:
        response = JsonResponse({"error": "not_found"}, status=404)
        response.headers["Cache-Control"] = f"public, max-age={POLL_MAX_AGE_SECONDS}"
        return response
    not_modified = etag_matches(request.META.get("HTTP_IF_NONE_MATCH", ""), snapshot.etag)
    if not_modified:
        response = HttpResponseNotModified()
    else:
        response = HttpResponse(snapshot.poll_body(), content_type="application/json")
    response.headers["ETag"] = snapshot.etag
    response.headers["Cache-Control"] = f"public, max-age={POLL_MAX_AGE_SECONDS}"
    # Built from the snapshot alone: the hot routes replay it while the snapshot is current.
    return early_answers.mark(response, early_answers.stock_answer(snapshot, not_modified=not_modified))


@never_cache
@require_GET
def mine_json(request, session_id: int):
    """The shopper's own counts: private, asked by the page only after the shopper's own actions.

    One Redis round trip when the browser's reserve ticket names the user; otherwise the session
    says who it is (none: empty counts).
    """
    try:
        counts = availability.own_counts_with_ticket(
            session_id, session_key=request.COOKIES.get(settings.SESSION_COOKIE_NAME)
        )
    except refusals.TicketNotAccepted:
        user_id = session_user_id(request)
        if user_id is None:  # a visitor, or a session that has ended: nobody's counts
            if availability.session_info(session_id) is None:
                return JsonResponse({"error": "not_found"}, status=404)
            return JsonResponse({"session": session_id, "items": {}})
        counts = availability.own_counts(session_id, user_id=user_id)
    if counts is None:
        return JsonResponse({"error": "not_found"}, status=404)
    items = {str(item_id): units for item_id, units in counts.units.items()}
    return JsonResponse({"session": session_id, "version": counts.version, "items": items})


@require_POST
def set_location(request, session_id: int):
    """The "use my location" button (lat/lon) or the city picker (city); back to the sale page."""
    try:
        services.choose_location(
            session_id,
            ShopperSession(request.session),
            city=request.POST.get("city", "").strip(),
            latitude=request.POST.get("latitude"),
            longitude=request.POST.get("longitude"),
            now=clock.now_ts(),
        )
    except services.UnknownCity:
        return _outcome(
            request, 400, "Unknown city", "Pick one of the cities listed.", session_id, logged_in=_has_user(request)
        )
    except InvalidLocation:
        return _outcome(
            request,
            400,
            "Location not understood",
            "That location is not valid.",
            session_id,
            logged_in=_has_user(request),
        )
    return HttpResponseRedirect(_sale_url(session_id), status=303)


# --- CAPTCHA -----------------------------------------------------------------------------------


def _has_user(request) -> bool:
    return session_user_id(request) is not None


def _limited(request, group: str, *, user_rate: str, ip_rate: str) -> int | None:
    """Per user and per IP limits (django-ratelimit on the Redis cache); both are counted.

    The seconds to wait when either is used up (the longer of the two), else None.
    """
    by_user = wait_seconds(
        request, group=f"{group}:user", key=lambda _group, req: str(session_user_id(req)), rate=user_rate
    )
    by_ip = wait_seconds(request, group=f"{group}:ip", key="ip", rate=ip_rate)
    return max(by_user or 0, by_ip or 0) or None


@login_required
@require_http_methods(["GET", "POST"])
def captcha(request, session_id: int):
    info = availability.session_info(session_id)
    if info is None:
        return not_found(request, "No such sale", "This sale does not exist, or it is not open for shoppers yet.")
    wait = _limited(
        request,
        "captcha",
        user_rate=settings.FLASHSALE_CAPTCHA_RATE_USER,
        ip_rate=settings.FLASHSALE_CAPTCHA_RATE_IP,
    )
    if wait:
        return ratelimited(request, retry_after=wait)
    form = CaptchaForm(request.POST if request.method == "POST" else None)
    fragment = bool(request.GET.get("fragment"))
    if request.method == "POST" and form.is_valid():
        shopper, now = ShopperSession(request.session), clock.now_ts()
        shopper.grant_captcha_pass(session_id, now=now)
        shopper.keep_ticket_current(session_id, now=now)
        funnel.count_verified(session_id, request.user.pk)
        joined = join_after_captcha(request, session_id)
        if fragment:
            # The sale page posted the form itself: it goes where the redirect would have taken it.
            return JsonResponse({"next": joined["Location"]})
        return joined
    # A wrong or expired answer on the sale page comes back as the form alone, with a new picture.
    template = "reservations/captcha_form.html" if fragment else "reservations/captcha.html"
    status = 400 if request.method == "POST" else 200
    return render(request, template, {"form": form, "session": info}, status=status)


# --- reserve -----------------------------------------------------------------------------------

# One place maps every refusal to its page and status code.
REJECTIONS = {
    refusals.SoldOut: (409, "Sold out", "Sorry, the units you asked for are gone."),
    # The message names the product and the limit (``_limit_reached``).
    refusals.LimitReached: (403, "Limit reached", ""),
    refusals.NotOpenYet: (425, "Not open yet", "The sale has not started. Keep the page open: it unlocks itself."),
    refusals.SessionClosed: (410, "Sale ended", "This sale is over."),
    refusals.UnknownSaleItem: (404, "Not found", "This product is not on sale in this session."),
    refusals.TransactionConflict: (409, "Please try again", "Your request crossed another one. Try once more."),
}


def _outcome(request, status: int, title: str, message: str, session_id: int, *, logged_in: bool = True, **extra):
    # The reserve refusals answer a logged-in shopper (their ticket or session named them): the
    # header needs no User row (request.user would read its cache, or SQL).
    context = {
        "title": title,
        "message": message,
        "back_url": _sale_url(session_id),
        "shopper_nav": {"logged_in": logged_in},
        **extra,
    }
    return render(request, "reservations/outcome.html", context, status=status)


# Rendered once per sale session and process: the page after a sell-out is the same for everybody,
# so refusing a click costs what the framework costs (see reservations.sold_out).
_sold_out_pages: dict[int, bytes] = {}


def _sold_out(session_id: int) -> HttpResponse:
    body = _sold_out_pages.get(session_id)
    if body is None:
        if len(_sold_out_pages) >= 1000:
            _sold_out_pages.clear()
        context = {"site_name": SITE_NAME, "back_url": _sale_url(session_id)}
        body = _sold_out_pages[session_id] = render_to_string("reservations/sold_out.html", context).encode()
    return HttpResponse(body, status=409)


def _refused(request, rejected: refusals.ReservationRejected, session_id: int):
    if isinstance(rejected, refusals.RateLimited):
        return ratelimited(request, retry_after=math.ceil(rejected.retry_after))
    if isinstance(rejected, refusals.SoldOut) and rejected.remaining == 0:
        return _expected(_sold_out(session_id))
    if isinstance(rejected, refusals.LimitReached):
        return _expected(_limit_reached(request, rejected, session_id))
    status, title, message = REJECTIONS[type(rejected)]
    return _expected(_outcome(request, status, title, message, session_id, rejection=rejected))


def _expected(response: HttpResponse) -> HttpResponse:
    """A refusal the sale is made of (sold out, limit, not open...): not a warning in the logs.

    Django logs every 4xx at WARNING level; after a sell-out that is one log line per click of the
    crowd, and formatting and writing it cost more than answering. The refusals are counted
    instead (``rejected_*`` per item in Redis, and the sold-out memo's counter in ``/metrics``).
    """
    response._has_been_logged = True  # type: ignore[attr-defined]  # django.utils.log.log_response's own mark
    return response


def _limit_reached(request, rejected: refusals.LimitReached, session_id: int):
    """Names the product and the limit, and leads to paying what the shopper holds (names from memory, no Redis)."""
    product = names_of(session_id, rejected.item_id)[0] or "this product"
    if rejected.held >= rejected.limit:
        said = f"You already hold {rejected.held} of {product}, the most one shopper may hold ({rejected.limit})."
    else:
        said = (
            f"You hold {rejected.held} of {product} and asked for {rejected.requested} more: "
            f"one shopper may hold at most {rejected.limit}."
        )
    message = f"{said} Pay for what you hold in My reservations before its time runs out."
    status, title, _ = REJECTIONS[refusals.LimitReached]
    return _outcome(
        request, status, title, message, session_id, rejection=rejected, mine_url=reverse("reservations-mine")
    )


def _reserved(request, held: Reservation, session_id: int):
    if held.status != ReservationStatus.RESERVED:
        if held.status == ReservationStatus.PAID:
            return HttpResponseRedirect(reverse("reservations-mine"), status=303)
        return _outcome(
            request, 410, "Reservation expired", "That reservation is no longer held. Reload the sale page.", session_id
        )
    # The gateway's URL comes from settings, never from the request: no open-redirect check needed,
    # and a bare 303 skips the scheme validation HttpResponseRedirect runs on every reservation.
    response = HttpResponse(status=303)
    response.headers["Location"] = checkout_url_for(held)
    # The same for every new hold but its Location: the hot routes replay it (flashsale.quick_reserve).
    return early_answers.mark(response, early_answers.WINNER)


@require_POST
def reserve(request, session_id: int, item_id: int):
    """One Redis round trip when the shopper's ticket says everything (``reservations.services``).

    Otherwise (no ticket, a pass missing from it, a bad quantity) the session is read and the
    shopper gets the page that says what to do.
    """
    return _reserve(request, session_id, item_id, route=early_answers.RESERVE_ROUTE)


@require_POST
def reserve_chosen(request, session_id: int):
    """The sale page's one form: the Reserve button pressed names the item (``item``), its picker ``q<item>``."""
    try:
        item_id = int(request.POST.get("item", ""))
    except ValueError:
        return _outcome(request, 400, "No product chosen", "Press the Reserve button of a product.", session_id)
    return _reserve(request, session_id, item_id, route=early_answers.CHOSEN_ROUTE)


def _reserve(request, session_id: int, item_id: int, *, route: str):
    now = clock.now_ts()
    # Decided before the stack already (flashsale.quick_reserve): answered, not decided again.
    decided = early_answers.decision_of(request)
    # The crowd after a sell-out: refused from this process's memory before anything is parsed
    # (reservations.sold_out: memory can only refuse, never reserve).
    if decided is None and sold_out.refuses(session_id, item_id, now=now):
        # Nothing of the request was read: the hot routes may replay this answer (early_answers).
        return early_answers.mark(_expected(_sold_out(session_id)), early_answers.sold_out_answer(session_id, item_id))
    fields = early_answers.quantity_fields(route, item_id)
    quantity = next((value for name in fields if (value := request.POST.get(name))), None)
    click = services.ReserveClick(
        session_id=session_id,
        item_id=item_id,
        quantity=services.parse_quantity(quantity),
        now=now,
        session_key=request.COOKIES.get(settings.SESSION_COOKIE_NAME),
        client_ip=limit_key(client_ip(request)),
    )
    outcome = services.reserve_for_shopper(click, ShopperSession(request.session), decided=decided)  # type: ignore[arg-type]
    match outcome:
        case services.Reserved(reservation):
            return _reserved(request, reservation, session_id)
        case services.Refused(rejection):
            return _refused(request, rejection, session_id)
        case services.LoginRequired():
            return redirect(f"{reverse(settings.LOGIN_URL)}?{urlencode({'next': _sale_url(session_id)})}")
        case services.CaptchaRequired():
            return _outcome(
                request,
                403,
                "One quick check first",
                "Prove you are human once for this sale, then reserve.",
                session_id,
                captcha_url=reverse("reservations-captcha", args=[session_id]),
                kind="notice",
            )
        case services.AdmissionRequired():
            return HttpResponseRedirect(reverse("reservations-waiting", args=[session_id]), status=303)
        case services.InvalidQuantity():
            return _outcome(request, 400, "Invalid quantity", "Choose how many units you want.", session_id)
    return not_found(request, "No such sale", "This sale does not exist, or it is not open for shoppers yet.")


# --- the shopper's reservations ----------------------------------------------------------------


@login_required
@require_GET
def my_reservations(request):
    now = clock.now_ts()
    rows = services.shopper_reservations(request.user.pk, now=now)
    return render(request, "reservations/mine.html", {"rows": rows, "now": now})


CANCEL_MESSAGES = {
    services.CancelOutcome.CANCELLED: (messages.SUCCESS, "Reservation cancelled: its units are back on sale."),
    services.CancelOutcome.NOT_HELD: (
        messages.INFO,
        "That reservation was no longer held (paid, expired or cancelled before).",
    ),
    services.CancelOutcome.NOT_FOUND: (messages.ERROR, "We cannot find that reservation among yours."),
}


@login_required
@require_POST
def cancel_reservation(request, session_id: int, txn_id: str):
    """The "Cancel" button of a running hold: its units go back on sale now (CSRF-protected POST)."""
    outcome = services.cancel_reservation(request.user.pk, session_id, txn_id, now=clock.now_ts())
    level, text = CANCEL_MESSAGES[outcome]
    messages.add_message(request, level, text)
    return HttpResponseRedirect(reverse("reservations-mine"), status=303)
