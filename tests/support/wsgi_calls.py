"""One request through a WSGI application itself, as gunicorn would hand it over."""

from __future__ import annotations

import io
import sys

from django.core.signals import request_finished, request_started
from django.db import close_old_connections


def wsgi_environ(
    method: str,
    path: str,
    *,
    cookies: dict | None = None,
    body: bytes = b"",
    csrf: str | None = None,
    extra: dict | None = None,
) -> dict:
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "SCRIPT_NAME": "",
        "QUERY_STRING": "",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "HTTP_HOST": "testserver",
        "REMOTE_ADDR": "127.0.0.1",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "CONTENT_TYPE": "application/x-www-form-urlencoded",
        "CONTENT_LENGTH": str(len(body)),
    }
    if cookies:
        environ["HTTP_COOKIE"] = "; ".join(f"{name}={value}" for name, value in cookies.items())
    if csrf:
        environ["HTTP_X_CSRFTOKEN"] = csrf
    environ.update(extra or {})
    return environ


def call_wsgi(app, method: str, path: str, **request) -> dict:
    """``{"status": int, "header_list": [(name, value), ...], "headers": dict, "body": bytes}``."""
    answer: dict = {}

    def start_response(status, headers, exc_info=None):
        answer["status"] = int(status.split()[0])
        answer["header_list"] = list(headers)
        answer["headers"] = dict(headers)

    # As Django's test client does: the request's end must not close the test's database connection
    # (its transaction is the test's).
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        chunks = app(wsgi_environ(method, path, **request), start_response)
        answer["body"] = b"".join(chunks)
        chunks.close()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
    return answer
