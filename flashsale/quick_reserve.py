"""Reserve clicks decided before the hot routes' middleware: a new hold answered without the stack.

In the first second of a sale most requests are Reserve clicks that win a unit. Each would pay
for the whole middleware list, URL resolution and a response object around one EVALSHA; here a
plain click (``recorded_answers.request_shape``: nothing the stack would treat apart) is decided
first:

1. Django's own CSRF check runs on a ``WSGIRequest`` of the click (``CsrfViewMiddleware``,
   against the route's own view). A click it refuses goes to the stack untouched, which refuses
   it the same way and logs it once.
2. The shopper's ticket decides (``services.decide_by_ticket``): one EVALSHA, no session or user
   read, exactly what the view does first.
3. A new hold gets the stack's recorded answer to a new hold (``early_answers.WINNER``: the 303
   with the security headers, CSP and X-Frame-Options), with its own ``Location`` (the gateway's
   URL with this hold's signed token) and its own request id, and is counted in the request
   metrics. Anything else (a refusal, a ticket that cannot decide, a store error, or the first
   new hold, whose answer is recorded) goes to the stack with the decision in the environ
   (``early_answers.DECISION``): the view answers it without deciding again.

What the skipped middleware do for such a click is done here or in the recording: the request id
(``begin_request``), the metrics (``observe_request``), SSL redirect and allowed hosts
(``request_shape``), CSRF (above), the response headers (recorded), the 503 page for a store error
(raised in the view). The session and the user are not read (the ticket names the shopper). Only
that list is known: with another middleware on the hot routes, every click goes through the stack
as before, and the site says so once at start-up (``QUICK_MIDDLEWARE``).
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterable

from django.conf import settings
from django.core.handlers.wsgi import WSGIRequest
from django.http import HttpResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.urls import resolve

from flashsale import clock, recorded_answers
from flashsale.client_ip import client_ip, limit_key
from flashsale.metrics import observe_request
from flashsale.request_context import REQUEST_ID_KEY, begin_request
from reservations import early_answers, services
from reservations.checkout import checkout_url_for
from reservations.early_answers import Decision, ReserveTarget
from reservations.states import ReservationStatus

log = logging.getLogger(__name__)

# The hot routes' middleware whose work for a Reserve click this module does (module docstring).
QUICK_MIDDLEWARE = frozenset(
    {
        "flashsale.metrics.RequestMetricsMiddleware",
        "flashsale.request_context.RequestIdMiddleware",
        "django.middleware.security.SecurityMiddleware",
        "flashsale.csp.CSPMiddleware",
        "django.contrib.sessions.middleware.SessionMiddleware",
        "django.middleware.csrf.CsrfViewMiddleware",
        "flashsale.auth.CachedAuthenticationMiddleware",
        "django.middleware.clickjacking.XFrameOptionsMiddleware",
        "flashsale.middleware.ServiceUnavailableMiddleware",
    }
)
# A Reserve form is a few short fields; a larger body, or another encoding, is left to the stack.
MAX_FORM_BODY = 1024
_REFUSED = HttpResponse(status=403)


class _CsrfCheck(CsrfViewMiddleware):
    """Django's CSRF check, silent when it refuses: the stack refuses the click itself, and logs it."""

    def _reject(self, request, reason):
        return _REFUSED


def _no_response(request) -> HttpResponse:
    raise AssertionError("the CSRF check never calls on")  # only process_request/process_view run


def usable(middleware: list[str]) -> bool:
    """Whether clicks may be decided before ``middleware`` (the hot routes' list); says why not."""
    unknown = sorted(set(middleware) - QUICK_MIDDLEWARE)
    if unknown:
        log.warning("Reserve clicks go through the whole hot-route stack: no quick path past %s", ", ".join(unknown))
    return not unknown


class QuickReserve:
    """Decides Reserve clicks before ``stack`` (the hot routes' handler) and answers new holds."""

    def __init__(self, stack):
        self.stack = stack
        self.recordings = recorded_answers.Recordings()
        self.csrf = _CsrfCheck(_no_response)
        self._views: dict[str, object] = {}

    def __call__(self, target: ReserveTarget, environ: dict, start_response, *, started: float):
        secure = recorded_answers.request_shape(environ)
        body = early_answers.form_body(environ, max_length=MAX_FORM_BODY) if secure is not None else None
        if body is None:
            return self.stack(environ, start_response)
        # The click's id from here on: its log lines, the answer, and the stack's if it answers.
        environ[REQUEST_ID_KEY] = request_id = begin_request(environ)
        request = WSGIRequest({**environ, "wsgi.input": io.BytesIO(body)})
        if not self._csrf_accepts(request, target):
            return self.stack(environ, start_response)
        outcome = _decide(request, target)
        # From here on, whatever the stack answers, its view answers this decision.
        environ[early_answers.DECISION] = Decision(outcome)
        held = outcome.reservation if isinstance(outcome, services.Reserved) else None
        if held is None or held.status != ReservationStatus.RESERVED:
            return self.stack(environ, start_response)
        try:
            location = checkout_url_for(held)
        except Exception:  # the hold stands: the view answers it (and fails, or not) as it always did
            return self.stack(environ, start_response)
        key = (early_answers.WINNER.key, target.route, secure)
        recording = self.recordings.get(key, None)
        if recording is None:
            return self._record(key, environ, start_response)
        answer = recording.replay(request_id, start_response, location=location)
        observe_request(target.route, "POST", recording.status, started=started)
        return answer

    def _record(self, key: tuple, environ: dict, start_response) -> Iterable[bytes]:
        answer, recording = recorded_answers.record(
            self.stack,
            environ,
            start_response,
            keep=lambda response: early_answers.WINNER.same_as(early_answers.marked(response)),
            source=None,
        )
        if recording is not None and recording.location_at is not None:
            self.recordings.keep(key, recording)
        return answer

    def _csrf_accepts(self, request: WSGIRequest, target: ReserveTarget) -> bool:
        """Django's CSRF check of the click; anything odd (a form Django cannot read) is the stack's to answer."""
        try:
            self.csrf.process_request(request)
            return self.csrf.process_view(request, self._view(target, request.path_info), (), {}) is None
        except Exception:  # the stack meets the same request and answers it as it always did
            return False

    def _view(self, target: ReserveTarget, path: str):
        """The route's view function, as the stack resolves it (CSRF honours its decorators)."""
        view = self._views.get(target.route)
        if view is None:
            view = self._views[target.route] = resolve(path).func
        return view


def _decide(request: WSGIRequest, target: ReserveTarget) -> object:
    """What the ticket says of the click; the store's error is kept for the view to raise."""
    quantity = next((value for name in target.quantity_fields if (value := request.POST.get(name))), None)
    click = services.ReserveClick(
        session_id=target.session_id,
        item_id=target.item_id,
        quantity=services.parse_quantity(quantity),
        now=clock.now_ts(),
        session_key=request.COOKIES.get(settings.SESSION_COOKIE_NAME),
        client_ip=limit_key(client_ip(request)),
    )
    try:
        return services.decide_by_ticket(click)
    except Exception as exc:  # raised again by the view, inside the stack (its 503 page, its logs)
        return exc
