"""The gateway client retries what may succeed next time (no answer, 429, 5xx) with backoff, and nothing else.

The gateway is a real HTTP server on loopback that fails as scripted (tests/support/scripted_http.py).
"""

from __future__ import annotations

import socket

import pytest

from reconciliation.gateway import GatewayError, SandboxGateway
from tests.support.scripted_http import ScriptedServer

ORDER = {"id": "ord_1", "txn_id": "T" * 26, "status": "refunded", "quantity": 1, "amount": "49.90", "currency": "EUR"}
UNAVAILABLE = (503, {"error": "unavailable"})


def client(url: str, *, retries: int = 3) -> SandboxGateway:
    return SandboxGateway(
        base_url=url, api_key="k", webhook_secret="w", timeout=5, retries=retries, retry_backoff_seconds=0.01
    )


def test_a_gateway_that_fails_twice_then_answers_is_retried_to_success():
    with ScriptedServer([UNAVAILABLE, (502, {}), (200, ORDER)]) as server:
        order = client(server.url).get_order("ord_1")
    assert order.order_id == "ord_1"
    assert server.requests == [("GET", "/api/orders/ord_1")] * 3


def test_a_refund_is_retried_too_the_gateway_makes_it_idempotent():
    with ScriptedServer([UNAVAILABLE, (429, {}), (200, ORDER)]) as server:
        order = client(server.url).refund("ord_1")
    assert order.status == "refunded"
    assert server.requests == [("POST", "/api/orders/ord_1/refund")] * 3


def test_retries_stop_after_the_configured_count_and_say_what_the_gateway_answered():
    with ScriptedServer([UNAVAILABLE]) as server, pytest.raises(GatewayError) as failed:
        client(server.url, retries=2).refund("ord_1")
    assert failed.value.status == 503 and failed.value.transient
    assert len(server.requests) == 3  # the first try and two retries


def test_a_refusal_is_not_retried():
    with ScriptedServer([(409, {"error": "not_paid", "message": "Order ord_1 is not paid."})]) as server:
        with pytest.raises(GatewayError) as refused:
            client(server.url).refund("ord_1")
    assert (refused.value.status, refused.value.code, refused.value.transient) == (409, "not_paid", False)
    assert len(server.requests) == 1


def test_no_answer_at_all_is_retried_then_reported_as_transient():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # nothing listens here once the probe is closed
    with pytest.raises(GatewayError) as failed:
        client(f"http://127.0.0.1:{port}", retries=1).get_order("ord_1")
    assert failed.value.status is None and failed.value.transient
