"""WSGI middleware: a chunked request body is read (up to a limit) and given a Content-Length.

Django reads ``CONTENT_LENGTH`` bytes of a request body, and a body sent with
``Transfer-Encoding: chunked`` has no length: Django would see it empty (a valid push of records
would be answered "the body must be a JSON array"). gunicorn decodes the chunks and marks the end
of the input (``wsgi.input_terminated``), so the body is read here, at most
``CATALOG_MAX_BODY_BYTES`` (the largest body the site takes: the provider push API's), and handed
on with its length. A larger one gets 413; a server that cannot mark the end gets 411.
"""

from __future__ import annotations

import io
import json

from django.conf import settings

READ_SIZE = 64 * 1024


def _is_chunked(environ) -> bool:
    return "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower() and not environ.get("CONTENT_LENGTH")


def _refusal(start_response, status: str, detail: str):
    body = json.dumps({"detail": detail}).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


class ChunkedBodies:
    def __init__(self, application):
        self.application = application

    def __call__(self, environ, start_response):
        if not _is_chunked(environ):
            return self.application(environ, start_response)
        if not environ.get("wsgi.input_terminated"):
            return _refusal(
                start_response,
                "411 Length Required",
                "This server cannot read a chunked body: send it with a Content-Length header.",
            )
        limit = settings.CATALOG_MAX_BODY_BYTES
        body = _read_at_most(environ["wsgi.input"], limit + 1)
        if len(body) > limit:
            return _refusal(
                start_response,
                "413 Request Entity Too Large",
                f"The chunked body is over the limit of {limit} bytes. Split the delivery into smaller batches.",
            )
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        return self.application(environ, start_response)


def _read_at_most(stream, size: int) -> bytes:
    parts, read = [], 0
    while read < size:
        part = stream.read(min(READ_SIZE, size - read))
        if not part:
            break
        parts.append(part)
        read += len(part)
    return b"".join(parts)
