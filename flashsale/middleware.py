"""Turn a store that stopped answering into a clear "try again" page instead of a 500."""

from __future__ import annotations

import logging

from django.db import OperationalError as DatabaseUnavailable
from django.http import HttpResponse
from django.template.loader import render_to_string
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

log = logging.getLogger(__name__)

UNAVAILABLE = (RedisConnectionError, RedisTimeoutError, DatabaseUnavailable)
RETRY_AFTER_SECONDS = 5


class ServiceUnavailableMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, UNAVAILABLE):
            return None
        log.error("store unavailable on %s %s: %s", request.method, request.path, exception)
        # A template without the user or the session: both may live in the store that is down.
        body = render_to_string("unavailable.html")
        response = HttpResponse(body, status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
