"""Requests sent to the hot routes' WSGI application itself, and what their answers are compared by."""

from __future__ import annotations

from contextlib import contextmanager

from django.core.signals import request_started
from django.test import Client
from django.urls import reverse
from prometheus_client import REGISTRY

from flashsale.request_context import REQUEST_ID_HEADER
from tests.support.passes import give_pass
from tests.support.wsgi_calls import call_wsgi

CSRF = "k" * 32


@contextmanager
def requests_django_began():
    """The requests Django's handler began meanwhile (its ``request_started`` signal)."""
    began: list[int] = []

    def count(**kwargs):
        began.append(1)

    request_started.connect(count)
    try:
        yield began
    finally:
        request_started.disconnect(count)


def without_request_id(answer: dict) -> dict:
    return {
        "status": answer["status"],
        "headers": [(name, value) for name, value in answer["header_list"] if name != REQUEST_ID_HEADER],
        "request_id_at": [name for name, _ in answer["header_list"]].index(REQUEST_ID_HEADER),
        "body": answer["body"],
    }


def answered_early(app, method: str, path: str, **request) -> dict:
    """The answer, asserting that Django's handler never began the request."""
    with requests_django_began() as began:
        answer = call_wsgi(app, method, path, **request)
    assert began == []
    return answer


def timed(route: str, method: str, status: int) -> float:
    """How many requests of ``route`` the request metrics counted with ``status``."""
    return _duration_sample("count", route, method, status)


def seconds_timed(route: str, method: str, status: int) -> float:
    """The seconds the request metrics recorded for the requests of ``route`` with ``status``."""
    return _duration_sample("sum", route, method, status)


def _duration_sample(suffix: str, route: str, method: str, status: int) -> float:
    labels = {"route": route, "method": method, "status": str(status)}
    return REGISTRY.get_sample_value(f"flashsale_http_request_duration_seconds_{suffix}", labels) or 0.0


def ready_shopper(make_user, sale, clock, *, user=None) -> dict:
    """The cookies of a logged-in, verified shopper who opened the sale page (a reserve ticket)."""
    client = Client()
    client.force_login(user or make_user())
    give_pass(client, sale.id, now=clock.now())
    assert client.get(reverse("reservations-sale", args=[sale.id])).status_code == 200
    return {"sessionid": client.cookies["sessionid"].value, "csrftoken": CSRF}
