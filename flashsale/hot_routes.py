"""A shorter middleware list for the requests a sale's peak is made of: reserve POSTs and stock polls.

The WSGI application (``flashsale.wsgi``) sends paths matching ``FLASHSALE_HOT_ROUTE_PATTERN``
through ``settings.MIDDLEWARE`` minus ``FLASHSALE_HOT_ROUTE_SKIPPED_MIDDLEWARE`` and everything
else through the whole list. Skipped by default: WhiteNoise (these are not static files),
CommonMiddleware (the hot URLs are exact, so APPEND_SLASH/PREPEND_WWW never apply) and messages
(these views never show one). Security headers, sessions, CSRF, authentication, X-Frame-Options
and the 503 page stay, and a middleware added to MIDDLEWARE later is on the hot routes too.

Before that list, the stock poll and Reserve clicks on an item this process knows is sold out
are answered from memory (``reservations.early_answers``): the answer the stack built for the
same kind of request, recorded once and replayed with the request's own id
(``flashsale.recorded_answers``). No request object, middleware, URL resolution or view runs for
them; the request metrics still count them. The other Reserve clicks are decided before that list
too (``flashsale.quick_reserve``: Django's CSRF check, then the ticket's one EVALSHA); a new hold
gets the stack's recorded 303 with its own Location, anything else the stack's answer.

Django's test client builds its own handler from MIDDLEWARE, so view tests run the whole list;
the tests that serve the site with gunicorn run this one.
"""

from __future__ import annotations

import re
import time

from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler
from django.http import HttpResponse

from flashsale import clock, recorded_answers
from flashsale.metrics import STARTED_AT, observe_request
from flashsale.quick_reserve import QuickReserve, usable
from flashsale.request_context import begin_request
from reservations import early_answers


def hot_route_middleware() -> list[str]:
    skipped = set(settings.FLASHSALE_HOT_ROUTE_SKIPPED_MIDDLEWARE)
    return [path for path in settings.MIDDLEWARE if path not in skipped]


class ShortStackHandler(WSGIHandler):
    """Django's WSGI handler with its own middleware list instead of ``settings.MIDDLEWARE``."""

    def __init__(self, middleware: list[str]):
        self.middleware = list(middleware)
        super().__init__()

    def load_middleware(self, is_async: bool = False) -> None:
        # BaseHandler.load_middleware builds the chain from settings.MIDDLEWARE; point it at this
        # handler's list while it does. That happens once, at start-up, before any request.
        site_middleware = settings.MIDDLEWARE
        settings.MIDDLEWARE = self.middleware
        try:
            super().load_middleware(is_async)
        finally:
            settings.MIDDLEWARE = site_middleware

    def get_response(self, request):
        response = super().get_response(request)
        # What CommonMiddleware would add: proxies and HTTP/1.0 clients see a length, not chunks.
        if isinstance(response, HttpResponse) and not response.has_header("Content-Length"):
            response.headers["Content-Length"] = str(len(response.content))
        return response


class HotRouteApplication:
    """The site's WSGI application: hot routes through the short list, the rest through MIDDLEWARE.

    Before the short list, the stock poll and sold-out clicks that this process can answer from
    memory get the answer the stack built for them before, replayed (``early_answer``).
    """

    def __init__(self):
        self.site = WSGIHandler()
        self.hot = ShortStackHandler(hot_route_middleware())
        self.pattern = re.compile(settings.FLASHSALE_HOT_ROUTE_PATTERN)
        self.recordings = recorded_answers.Recordings()
        # Reserve clicks decided before the short list, when this module knows all it does.
        self.quick = QuickReserve(self.hot) if usable(self.hot.middleware) else None

    def handler_for(self, path: str) -> WSGIHandler:
        return self.hot if self.pattern.match(path) else self.site

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if not self.pattern.match(path):
            return self.site(environ, start_response)
        environ[STARTED_AT] = started = time.perf_counter()
        method = environ.get("REQUEST_METHOD", "").upper()
        if method == "POST":
            target = early_answers.reserve_target(path, environ)
            if target is None:
                return self.hot(environ, start_response)
            answer = early_answers.sold_out_click(target, now=clock.now_ts())
            if answer is None:
                if self.quick is None:
                    return self.hot(environ, start_response)
                return self.quick(target, environ, start_response, started=started)
        else:
            answer = early_answers.predict(method, path, environ, now=clock.now_ts())
            if answer is None:
                return self.hot(environ, start_response)
        return self.early_answer(answer, method, environ, start_response, started=started)

    def early_answer(self, answer: early_answers.EarlyAnswer, method: str, environ, start_response, *, started: float):
        """The recorded answer when there is one for this kind of request, else the stack's (recorded)."""
        secure = recorded_answers.request_shape(environ)
        if secure is None:
            return self.hot(environ, start_response)
        key = (answer.key, secure)
        recording = self.recordings.get(key, answer.source)
        if recording is None:
            body, recording = recorded_answers.record(
                self.hot,
                environ,
                start_response,
                keep=lambda response: answer.same_as(early_answers.marked(response)),
                source=answer.source,
            )
            if recording is not None:
                self.recordings.keep(key, recording)
            return body
        replayed = recording.replay(begin_request(environ), start_response)
        early_answers.replayed(answer)
        observe_request(answer.route, method, recording.status, started=started)
        return replayed
