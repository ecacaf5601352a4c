"""A shopper cancels a hold from "My reservations": units back at once, exactly once, only their own."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from reservations.holds import confirm_payment, reserve_units, transaction_state
from reservations.states import ReservationStatus
from tests.support.sales import assert_stock_invariant


@pytest.fixture
def held(shopper, load_sale, clock):
    sale = load_sale(quantities=[3], limit=2)
    reservation = reserve_units(
        sale.id, sale.item.pk, user_id=shopper.user.pk, quantity=2, txn_id="K" * 26, now=clock.now()
    )
    return sale, reservation


def _cancel(client, sale, reservation):
    return client.post(reverse("reservations-cancel", args=[sale.id, reservation.txn_id]), follow=True)


def test_cancelling_gives_the_units_back_once(shopper, held, redis_conn):
    sale, reservation = held
    first = _cancel(shopper, sale, reservation)
    assert first.redirect_chain == [(reverse("reservations-mine"), 303)]
    assert "Reservation cancelled: its units are back on sale." in first.content.decode()
    figures = assert_stock_invariant(redis_conn, sale.id, sale.item.pk)
    assert (figures["remaining"], figures["held"], figures["returned"]) == (3, 0, 2)
    assert transaction_state(sale.id, reservation.txn_id)["status"] == ReservationStatus.CANCELLED

    again = _cancel(shopper, sale, reservation)
    assert "no longer held" in again.content.decode()
    figures = assert_stock_invariant(redis_conn, sale.id, sale.item.pk)
    assert (figures["remaining"], figures["returned"]) == (3, 2)  # not given back twice
    assert '<tr class="status-cancelled ' in again.content.decode()


def test_nobody_else_can_cancel_it(held, client, make_user, redis_conn):
    sale, reservation = held
    client.force_login(make_user("mallory"))
    response = _cancel(client, sale, reservation)
    assert "We cannot find that reservation among yours." in response.content.decode()
    assert transaction_state(sale.id, reservation.txn_id)["status"] == ReservationStatus.RESERVED
    assert assert_stock_invariant(redis_conn, sale.id, sale.item.pk)["held"] == 2


def test_cancel_is_a_csrf_protected_post(held, make_user):
    sale, reservation = held
    url = reverse("reservations-cancel", args=[sale.id, reservation.txn_id])
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(reservation_owner(reservation))
    assert browser.get(url).status_code == 405
    assert browser.post(url).status_code == 403  # no CSRF token
    assert transaction_state(sale.id, reservation.txn_id)["status"] == ReservationStatus.RESERVED


def reservation_owner(reservation):
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(pk=reservation.user_id)


def test_a_payment_of_a_cancelled_hold_is_recorded_for_refund(shopper, held, clock, redis_conn):
    """The token still verifies at the sandbox gateway: the payment is taken, flagged, never confirmed."""
    sale, reservation = held
    _cancel(shopper, sale, reservation)
    late = confirm_payment(
        sale.id, reservation.txn_id, gateway_order_id="g", amount=reservation.amount, now=clock.now()
    )
    assert (late.outcome, late.status, late.refund_due) == ("paid_after_expiry", "paid_after_expiry", True)
    state = transaction_state(sale.id, reservation.txn_id)
    assert state["released_as"] == ReservationStatus.CANCELLED
    figures = assert_stock_invariant(redis_conn, sale.id, sale.item.pk)
    assert (figures["remaining"], figures["paid"]) == (3, 0)
