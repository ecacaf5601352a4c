"""Django's ``never_cache`` for the crowd's pages: the same headers, written instead of parsed and patched.

``django.views.decorators.cache.never_cache`` parses and rewrites ``Cache-Control`` twice and
formats ``Expires`` on every response (about 30 µs). A response that has neither header yet gets
both here as Django would write them (``Expires`` changes once a second); any other goes through
Django's own function.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.utils.cache import add_never_cache_headers
from django.utils.http import http_date

NEVER_CACHE = "max-age=0, no-cache, no-store, must-revalidate, private"
_expires: tuple[int, str] = (0, "")


def _expires_now() -> str:
    global _expires
    second = int(time.time())
    if _expires[0] != second:
        _expires = (second, http_date(second))
    return _expires[1]


def never_cache(view: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(view)
    def wrapper(request: Any, *args: Any, **kwargs: Any) -> Any:
        response = view(request, *args, **kwargs)
        headers = response.headers
        if "Cache-Control" in headers or "Expires" in headers:
            add_never_cache_headers(response)
        else:
            headers["Expires"] = _expires_now()
            headers["Cache-Control"] = NEVER_CACHE
        return response

    return wrapper
