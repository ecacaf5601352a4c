"""A refund the gateway does not take is kept, asked again by beat until it is done, or marked for an operator.

The gateway is a real HTTP server on loopback that fails as scripted; HTTP-level retries are off
here (FLASHSALE_GATEWAY_RETRIES=0) so each attempt is one request.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from reconciliation.compensation import compensate, retry_due_refunds
from reconciliation.models import Compensation, Discrepancy, ReconciliationRun
from reconciliation.tasks import retry_refunds
from tests.support.scripted_http import ScriptedServer

pytestmark = pytest.mark.django_db

ORDER = {"id": "ord_7", "txn_id": "T" * 26, "status": "refunded", "quantity": 1, "amount": "49.90", "currency": "EUR"}
UNAVAILABLE = (503, {"error": "unavailable", "message": "try later"})


@pytest.fixture
def discrepancy(clock):
    run = ReconciliationRun.objects.create(period=clock.now().date(), started_at=clock.now())
    return Discrepancy.objects.create(
        run=run,
        kind=Discrepancy.Kind.MISSING_HERE,
        txn_id="T" * 26,
        gateway_order_id="ord_7",
        amount=Decimal("49.90"),
        currency="EUR",
    )


@pytest.fixture
def gateway_at(settings):
    settings.FLASHSALE_GATEWAY_RETRIES = 0
    settings.FLASHSALE_REFUND_MAX_ATTEMPTS = 3
    settings.FLASHSALE_REFUND_RETRY_SECONDS = 60

    def point(server: ScriptedServer) -> None:
        settings.FLASHSALE_GATEWAY_URL = server.url
        settings.FLASHSALE_GATEWAY_INTERNAL_URL = ""

    return point


def test_a_failed_refund_is_retried_by_beat_until_it_succeeds(discrepancy, gateway_at, clock):
    with ScriptedServer([UNAVAILABLE, UNAVAILABLE, (200, ORDER)]) as server:
        gateway_at(server)
        [first] = compensate(discrepancy)
        refund = first.compensation
        assert (first.done, refund.state, refund.attempts) == (False, Compensation.State.RETRYING, 1)
        assert refund.next_attempt_at == clock.now() + timedelta(seconds=60)
        assert "try later" in refund.last_error
        discrepancy.refresh_from_db()
        assert discrepancy.resolution == Discrepancy.Resolution.OPEN

        assert retry_due_refunds() == []  # not due yet: nothing asked
        clock.advance(seconds=60)
        assert retry_refunds.apply().get() == 0  # the second attempt fails too; the wait doubles
        refund.refresh_from_db()
        assert (refund.state, refund.attempts) == (Compensation.State.RETRYING, 2)
        assert refund.next_attempt_at == clock.now() + timedelta(seconds=120)

        clock.advance(seconds=120)
        assert retry_refunds.apply().get() == 1
        assert retry_refunds.apply().get() == 0  # twice: nothing more
    refund.refresh_from_db()
    discrepancy.refresh_from_db()
    assert (refund.state, refund.attempts, refund.amount) == (Compensation.State.DONE, 3, Decimal("49.90"))
    assert refund.next_attempt_at is None
    assert discrepancy.resolution == Discrepancy.Resolution.COMPENSATED
    assert server.requests == [("POST", "/api/orders/ord_7/refund")] * 3
    assert Compensation.objects.count() == 1


def test_a_refund_that_keeps_failing_is_marked_for_an_operator_and_shown_in_admin(
    discrepancy, gateway_at, clock, admin_client
):
    with ScriptedServer([UNAVAILABLE]) as server:
        gateway_at(server)
        compensate(discrepancy)
        for wait in (60, 120):
            clock.advance(seconds=wait)
            retry_due_refunds()
        clock.advance(days=1)
        assert retry_due_refunds() == []  # given up: beat asks no more
    refund = Compensation.objects.get()
    assert (refund.state, refund.attempts, refund.next_attempt_at) == (Compensation.State.NEEDS_OPERATOR, 3, None)
    assert len(server.requests) == 3
    discrepancy.refresh_from_db()
    assert discrepancy.resolution == Discrepancy.Resolution.OPEN
    assert "needs an operator" in discrepancy.note

    page = admin_client.get(reverse("admin:reconciliation_compensation_changelist"))
    text = page.content.decode()
    assert "Needs an operator" in text and "need an operator" in text
    filtered = admin_client.get(reverse("admin:reconciliation_compensation_changelist"), {"state": "needs_operator"})
    assert "T" * 26 in filtered.content.decode()


def test_a_refusal_goes_to_an_operator_at_once_and_the_operator_can_retry(discrepancy, gateway_at, admin_client):
    refusal = (409, {"error": "not_paid", "message": "Order ord_7 is not paid."})
    with ScriptedServer([refusal, (200, ORDER)]) as server:
        gateway_at(server)
        [first] = compensate(discrepancy)
        assert (first.compensation.state, first.compensation.attempts) == (Compensation.State.NEEDS_OPERATOR, 1)
        response = admin_client.post(
            reverse("admin:reconciliation_compensation_changelist"),
            {"action": "retry_refunds_now", "_selected_action": [first.compensation.pk]},
            follow=True,
        )
    assert response.status_code == 200
    refund = Compensation.objects.get()
    assert (refund.state, refund.attempts) == (Compensation.State.DONE, 2)
    discrepancy.refresh_from_db()
    assert discrepancy.resolution == Discrepancy.Resolution.COMPENSATED
    assert len(server.requests) == 2
