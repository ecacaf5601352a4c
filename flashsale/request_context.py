"""The request id: taken from ``X-Request-ID`` or minted, on every log line of a request and its tasks.

- ``RequestIdMiddleware`` (first in ``MIDDLEWARE``, so on the hot routes too) sets it for the
  request and answers it in the ``X-Request-ID`` response header (gunicorn's access log can print
  it with ``%({x-request-id}o)s``). A client's id is kept only if it is short and plain, so a log
  line cannot be forged through it; otherwise a new one is minted.
- ``RequestIdFilter`` (on the log handlers) puts ``request_id`` on every record, ``"-"`` outside
  a request; in a Celery worker it adds ``task_id`` and ``task_name``.
- Celery: a task queued during a request carries the id in its message headers
  (``before_task_publish``); the worker adopts it for the task's duration (``task_prerun`` /
  ``task_postrun``). A task queued by beat has none: its lines carry the task id instead.
"""

from __future__ import annotations

import itertools
import logging
import os
import re
import secrets
from collections.abc import Mapping
from contextvars import ContextVar

REQUEST_ID_HEADER = "X-Request-ID"
# The header as a WSGI environ key (request.META).
REQUEST_ID_KEY = "HTTP_" + REQUEST_ID_HEADER.upper().replace("-", "_")
TASK_HEADER = "request_id"
_ACCEPTED = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")

_request_id: ContextVar[str | None] = ContextVar("flashsale_request_id", default=None)


def current_request_id() -> str | None:
    return _request_id.get()


# A random prefix per process (96 bits, made again in a forked child) and a counter: 32 hex digits
# like the UUIDs it replaces, as unique across processes and machines, at a fraction of the cost.
_minted: tuple[str, itertools.count] = ("", itertools.count())


def _new_prefix() -> None:
    global _minted
    _minted = (secrets.token_hex(12), itertools.count())


_new_prefix()
os.register_at_fork(after_in_child=_new_prefix)


def mint_request_id() -> str:
    prefix, counter = _minted
    return f"{prefix}{next(counter):08x}"


def accepted_request_id(value: str | None) -> str:
    """The client's id when it is plain enough to log, else a new one."""
    return value if value and _ACCEPTED.match(value) else mint_request_id()


def begin_request(environ: Mapping[str, object]) -> str:
    """The id of the request whose WSGI environ (or ``request.META``) this is, set for its log lines."""
    given = environ.get(REQUEST_ID_KEY)
    request_id = accepted_request_id(given if isinstance(given, str) else None)
    # Not reset on the way out: Django logs a 4xx/5xx response after the middleware returned,
    # and that line belongs to this request too. The next request on this thread sets its own.
    _request_id.set(request_id)
    return request_id


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # META, not request.headers: that builds a dict of every header on each request.
        request.request_id = request_id = begin_request(request.META)
        response = self.get_response(request)
        response[REQUEST_ID_HEADER] = request_id
        return response


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` (and, in a worker, ``task_id``/``task_name``) to every record it sees."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = _request_id.get() or "-"
        task = _current_task()
        if task is not None and not hasattr(record, "task_id"):
            record.task_id = getattr(task.request, "id", None)
            record.task_name = task.name
        return True


def _current_task():
    from celery._state import get_current_task

    task = get_current_task()
    return task if task is not None and getattr(task.request, "id", None) else None


# --- Celery ---------------------------------------------------------------------------------------


def carry_into_task(headers=None, **_) -> None:
    """``before_task_publish``: the queued task's message carries the current request id."""
    request_id = _request_id.get()
    if request_id and headers is not None:
        headers.setdefault(TASK_HEADER, request_id)


def adopt_in_worker(task=None, **_) -> None:
    """``task_prerun``: the worker's log lines of this task carry the id its message brought."""
    request = getattr(task, "request", None)
    request_id = getattr(request, TASK_HEADER, None) or (getattr(request, "headers", None) or {}).get(TASK_HEADER)
    if request is not None:
        # An eager task runs inside the request that queued it: keep that request's id.
        request_id = request_id or _request_id.get()
        request.flashsale_request_token = _request_id.set(request_id)


def forget_in_worker(task=None, **_) -> None:
    """``task_postrun``: the next task of this worker process starts without it."""
    token = getattr(getattr(task, "request", None), "flashsale_request_token", None)
    if token is not None:
        try:
            _request_id.reset(token)
        except ValueError:  # set in another context (a thread pool): clear instead
            _request_id.set(None)


def connect_celery_signals() -> None:
    from celery.signals import before_task_publish, task_postrun, task_prerun

    before_task_publish.connect(carry_into_task, weak=False, dispatch_uid="flashsale-request-id-publish")
    task_prerun.connect(adopt_in_worker, weak=False, dispatch_uid="flashsale-request-id-prerun")
    task_postrun.connect(forget_in_worker, weak=False, dispatch_uid="flashsale-request-id-postrun")
