"""Fixtures of the catalog tests: providers with keys, a push client, real local HTTP feed servers."""

from __future__ import annotations

import errno
import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.urls import reverse

from catalog.keys import issue_key
from catalog.models import Provider
from flashsale.celery import app as celery_app
from tests.factories import make_provider

PORTS = range(18100, 18200)  # this test suite's own port range


def _bind(factory):
    """The first free port of our range, bound by ``factory(port)``."""
    for port in PORTS:
        try:
            return factory(port)
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE:
                raise
    raise RuntimeError("no free port in 18100-18199")


@pytest.fixture
def push_provider(db):
    provider = make_provider("acme-tours", delivery=Provider.Delivery.PUSH)
    provider.key = issue_key(provider)
    return provider


@pytest.fixture
def push(client):
    """POST a body to a provider's push endpoint; a list or dict is sent as JSON."""

    def send(slug: str, body, *, key: str | None = None, content_type: str = "application/json"):
        data = body if isinstance(body, bytes | str) else json.dumps(body)
        headers = {"HTTP_AUTHORIZATION": f"Bearer {key}"} if key is not None else {}
        url = reverse("catalog-push-products", kwargs={"slug": slug})
        return client.post(url, data=data, content_type=content_type, **headers)

    return send


class FeedServer:
    """A real HTTP server on loopback serving whatever bodies the test puts at paths."""

    def __init__(self):
        self.files: dict[str, tuple[str, bytes]] = {}
        self.requests: list[str] = []
        self.failures: dict[str, int] = {}
        files, seen, failures = self.files, self.requests, self.failures

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                seen.append(self.path)
                if failures.get(self.path, 0) > 0:
                    failures[self.path] -= 1
                    self.send_error(503)
                    return
                if self.path not in files:
                    self.send_error(404)
                    return
                content_type, body = files[self.path]
                self.send_response(200)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = _bind(lambda port: ThreadingHTTPServer(("127.0.0.1", port), Handler))
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def put(self, path: str, body: bytes, content_type: str = "application/json") -> str:
        self.files[path] = (content_type, body)
        return self.url(path)

    def fail_next(self, path: str, times: int) -> None:
        """Answer the next ``times`` requests for ``path`` with 503."""
        self.failures[path] = times

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


@pytest.fixture
def feed_server():
    server = FeedServer()
    yield server
    server.stop()


class SilentServer:
    """Listens and never answers: the kernel completes the TCP handshake for the backlog, so the
    client connects, sends its request and waits for a response that never comes."""

    def __init__(self):
        self.sock = _bind(self._listen)

    @staticmethod
    def _listen(port: int) -> socket.socket:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            sock.close()
            raise
        sock.listen(16)
        return sock

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}/feed.json"

    def stop(self):
        self.sock.close()


@pytest.fixture
def silent_server():
    server = SilentServer()
    yield server
    server.stop()


@pytest.fixture
def fast_feeds(settings):
    """Short timeouts and no retry backoff, so failing feeds fail quickly."""
    settings.CATALOG_FEED_CONNECT_TIMEOUT = 1
    settings.CATALOG_FEED_READ_TIMEOUT = 0.5
    settings.CATALOG_FEED_RETRIES = 1
    settings.CATALOG_FEED_RETRY_BACKOFF = 0
    return settings


@pytest.fixture
def celery_eager():
    """Run queued tasks in-process (the task code is the real one; only the queue is skipped)."""
    previous = celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    yield
    celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates = previous
