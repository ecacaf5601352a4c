"""Answers Django built once, replayed byte for byte to the requests that would get the same.

The hot routes' application (``flashsale.hot_routes``) records the first answer the whole stack
builds for an ``EarlyAnswer`` (``reservations.early_answers``): status line, headers in their
order (security headers, CSP, X-Frame-Options, Vary, Cache-Control, Content-Type/Length...) and
body. The next requests predicted the same get those bytes, with only their own ``X-Request-ID``
put in, without a request object, the middleware, URL resolution or the view.

That is exact only for requests the stack would treat alike, so a request is replayed only when
``request_shape`` finds it plain:

- its cookies change nothing: a session cookie too short to be a key makes SessionMiddleware
  delete it, a malformed CSRF cookie makes CsrfViewMiddleware set a new one (both add Set-Cookie
  and Vary); settings that make every response touch the session (``CSRF_USE_SESSIONS``,
  ``SESSION_SAVE_EVERY_REQUEST``) turn replay off;
- its host is one ``ALLOWED_HOSTS`` accepts and, under ``SECURE_SSL_REDIRECT``, it came over
  HTTPS. Whether it is secure is part of the recording's key (HSTS is sent on HTTPS only).

Host, scheme and port are judged by Django's own ``HttpRequest`` once per distinct combination and
remembered. Everything is forgotten when a setting changes (tests).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.core.handlers.wsgi import WSGIRequest
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http.cookie import parse_cookie
from django.middleware.csrf import CSRF_ALLOWED_CHARS, CSRF_SECRET_LENGTH, CSRF_TOKEN_LENGTH

from flashsale.request_context import REQUEST_ID_HEADER

# Recordings and judged hosts a process keeps (all are dropped beyond it and recorded again).
MAX_RECORDINGS = 4096
MAX_HOSTS = 256
# What Django's HttpRequest reads to find the host and the scheme (besides the proxy SSL header).
_CSRF_CHARS = frozenset(CSRF_ALLOWED_CHARS)
_HOST_KEYS = (
    "wsgi.url_scheme",
    "HTTP_HOST",
    "SERVER_NAME",
    "SERVER_PORT",
    "HTTP_X_FORWARDED_HOST",
    "HTTP_X_FORWARDED_PORT",
)


class ReplayedBody(list):
    """The body handed back to the server: a WSGI iterable with the ``close()`` servers may call."""

    def close(self) -> None:
        return None


@dataclass(frozen=True)
class Recording:
    status_line: str
    status: int
    headers: tuple[tuple[str, str], ...]
    request_id_at: int  # where X-Request-ID is among the headers
    body: bytes
    source: object  # what the answer was built from (a snapshot): replayed only while it is current
    location_at: int | None = None  # where Location is among the headers, when there is one

    def replay(self, request_id: str, start_response, *, location: str | None = None) -> ReplayedBody:
        """The recorded answer with this request's id (and, for a redirect, its own ``location``)."""
        headers = list(self.headers)
        headers[self.request_id_at] = (REQUEST_ID_HEADER, request_id)
        if location is not None and self.location_at is not None:
            headers[self.location_at] = (headers[self.location_at][0], location)
        start_response(self.status_line, headers)
        return ReplayedBody((self.body,))


class _Answered:
    """A ``start_response`` that passes the stack's answer on and keeps its status line and headers."""

    def __init__(self, start_response):
        self.start_response = start_response
        self.status_line = ""
        self.headers: list[tuple[str, str]] = []

    def __call__(self, status, headers, exc_info=None):
        self.status_line, self.headers = status, list(headers)
        return self.start_response(status, headers, exc_info)


def record(
    handler: Callable, environ: dict, start_response, *, keep: Callable[[object], bool], source: object
) -> tuple[Iterable[bytes], Recording | None]:
    """Let ``handler`` (the stack) answer; a recording of the answer, built from ``source``, when
    ``keep(response)`` (the view answered from memory alone) and the answer carries nothing of
    this request but its id. The server gets the same bytes either way."""
    answered = _Answered(start_response)
    response = handler(environ, answered)
    if not keep(response):
        return response, None
    names = [name.lower() for name, _ in answered.headers]
    if "set-cookie" in names or names.count(REQUEST_ID_HEADER.lower()) != 1:
        return response, None
    try:
        body = b"".join(response)
    finally:
        response.close()
    recording = Recording(
        status_line=answered.status_line,
        status=int(answered.status_line.split(" ", 1)[0]),
        headers=tuple(answered.headers),
        request_id_at=names.index(REQUEST_ID_HEADER.lower()),
        body=body,
        source=source,
        location_at=names.index("location") if "location" in names else None,
    )
    return ReplayedBody((body,)), recording


class Recordings:
    """This process's recordings, by (answer key, secure); dropped when a setting changes."""

    def __init__(self):
        self._by_key: dict[tuple, Recording] = {}
        self._epoch = _epoch

    def get(self, key: tuple, source: object) -> Recording | None:
        if self._epoch != _epoch:
            self.clear()
        found = self._by_key.get(key)
        return found if found is not None and found.source is source else None

    def keep(self, key: tuple, recording: Recording) -> None:
        if len(self._by_key) >= MAX_RECORDINGS or self._epoch != _epoch:
            self.clear()
        self._by_key[key] = recording

    def clear(self) -> None:
        self._by_key.clear()
        self._epoch = _epoch


# --- which requests the stack treats alike ---------------------------------------------------------


@dataclass(frozen=True)
class _Settings:
    replay_allowed: bool
    session_cookie: str
    csrf_cookie: str
    proxy_ssl_header: str | None
    ssl_redirect: bool


_settings: _Settings | None = None
_hosts: dict[tuple, bool | None] = {}
_epoch = 0  # bumped when a setting changes: recordings made before are dropped


def _current_settings() -> _Settings:
    global _settings
    if _settings is None:
        proxy = settings.SECURE_PROXY_SSL_HEADER
        _settings = _Settings(
            replay_allowed=not (settings.CSRF_USE_SESSIONS or settings.SESSION_SAVE_EVERY_REQUEST),
            session_cookie=settings.SESSION_COOKIE_NAME,
            csrf_cookie=settings.CSRF_COOKIE_NAME,
            proxy_ssl_header=proxy[0] if proxy else None,
            ssl_redirect=settings.SECURE_SSL_REDIRECT,
        )
    return _settings


def request_shape(environ: dict) -> bool | None:
    """Whether the request is secure, when the stack would answer it as any other plain request
    of its route; None when it might not (then Django answers it)."""
    current = _current_settings()
    if not current.replay_allowed:
        return None
    cookie_header = environ.get("HTTP_COOKIE")
    if cookie_header and not _plain_cookies(cookie_header, current):
        return None
    key = (*(environ.get(name) for name in _HOST_KEYS), environ.get(current.proxy_ssl_header or ""))
    try:
        return _hosts[key]
    except KeyError:
        pass
    if len(_hosts) >= MAX_HOSTS:
        _hosts.clear()
    secure = _hosts[key] = _judge_host(environ, current)
    return secure


def _plain_cookies(header: str, current: _Settings) -> bool:
    cookies = parse_cookie(header)
    session_key = cookies.get(current.session_cookie)
    if session_key is not None and len(session_key) < 8:  # SessionBase._validate_session_key
        return False
    csrf = cookies.get(current.csrf_cookie)
    # CsrfViewMiddleware's own format check: a cookie failing it is replaced (a new Set-Cookie).
    return csrf is None or (len(csrf) in (CSRF_SECRET_LENGTH, CSRF_TOKEN_LENGTH) and _CSRF_CHARS.issuperset(csrf))


def _judge_host(environ: dict, current: _Settings) -> bool | None:
    """Django's own answer for this host and scheme: secure or not, None for a host it refuses or
    a request SecurityMiddleware would redirect to HTTPS."""
    probe = {name: environ[name] for name in _HOST_KEYS if name in environ}
    if current.proxy_ssl_header and current.proxy_ssl_header in environ:
        probe[current.proxy_ssl_header] = environ[current.proxy_ssl_header]
    request = WSGIRequest({**probe, "REQUEST_METHOD": "GET", "PATH_INFO": "/", "wsgi.input": io.BytesIO()})
    try:
        request.get_host()
    except DisallowedHost:
        return None
    secure = request.is_secure()
    if current.ssl_redirect and not secure:
        return None
    return secure


@receiver(setting_changed)
def _forget_settings(**kwargs) -> None:
    global _settings, _epoch
    _settings = None
    _epoch += 1
    _hosts.clear()
