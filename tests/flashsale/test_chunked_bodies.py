"""The WSGI step that reads a chunked body: what it hands on, and what it refuses."""

from __future__ import annotations

import io
import json

from flashsale.chunked_bodies import ChunkedBodies


def call(environ: dict) -> tuple[str, bytes, dict]:
    seen = {}

    def application(environ, start_response):
        seen["length"] = environ.get("CONTENT_LENGTH")
        seen["body"] = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        start_response("200 OK", [])
        return [b"app"]

    answer = {}

    def start_response(status, headers):
        answer["status"] = status

    body = b"".join(ChunkedBodies(application)(environ, start_response))
    return answer["status"], body, seen


def chunked(body: bytes, **extra) -> dict:
    return {"HTTP_TRANSFER_ENCODING": "chunked", "wsgi.input": io.BytesIO(body), **extra}


def test_a_chunked_body_is_handed_on_with_its_length():
    status, _, seen = call(chunked(b"[1, 2, 3]", **{"wsgi.input_terminated": True}))
    assert status == "200 OK" and seen == {"length": "9", "body": b"[1, 2, 3]"}


def test_a_body_with_a_length_is_left_alone():
    status, _, seen = call({"CONTENT_LENGTH": "2", "wsgi.input": io.BytesIO(b"{}")})
    assert status == "200 OK" and seen["body"] == b"{}"


def test_a_server_that_cannot_end_a_chunked_body_gets_411(settings):
    status, body, seen = call(chunked(b"[]"))
    assert status == "411 Length Required" and seen == {}
    assert "send it with a Content-Length header" in json.loads(body)["detail"]


def test_a_chunked_body_over_the_limit_gets_413_unread_past_it(settings):
    settings.CATALOG_MAX_BODY_BYTES = 10
    stream = io.BytesIO(b"x" * 1000)
    status, body, seen = call(chunked(b"", **{"wsgi.input": stream, "wsgi.input_terminated": True}))
    assert status == "413 Request Entity Too Large" and seen == {}
    assert stream.tell() == 11  # the limit and one byte more, never the whole body
    assert json.loads(body)["detail"].startswith("The chunked body is over the limit of 10 bytes")
