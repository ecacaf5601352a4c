"""Confirming a payment: atomic against expiry, idempotent, late payments flagged, never dropped."""

from __future__ import annotations

from decimal import Decimal

from flashsale.store import keys
from flashsale.store.replies import decode_map
from reservations.drain import reservation_event
from reservations.holds import confirm_payment, expire_holds, release_hold, reserve_units, transaction_state
from tests.support.sales import assert_stock_invariant


def _reserve(sale, user, clock, txn="A" * 26, quantity=1):
    return reserve_units(sale.id, sale.item.pk, user_id=user.pk, quantity=quantity, txn_id=txn, now=clock.now())


def test_paying_an_active_hold_marks_it_paid_once(load_sale, make_user, redis_conn, clock):
    sale = load_sale(quantities=[5], limit=2)
    held = _reserve(sale, make_user(), clock, quantity=2)
    clock.advance(seconds=60)

    outcome = confirm_payment(sale.id, held.txn_id, gateway_order_id="ord-1", amount=held.amount, now=clock.now())
    again = confirm_payment(sale.id, held.txn_id, gateway_order_id="ord-1", amount=held.amount, now=clock.now())

    assert (outcome.outcome, outcome.status, outcome.changed) == ("paid", "paid", True)
    assert (again.outcome, again.changed) == ("already_paid", False)
    figures = assert_stock_invariant(redis_conn, sale.id, sale.item.pk)
    assert (figures["held"], figures["paid"], figures["remaining"]) == (0, 2, 3)
    assert redis_conn.zscore(keys.holds(sale.id), held.txn_id) is None
    txn = transaction_state(sale.id, held.txn_id)
    assert txn["gateway_order_id"] == "ord-1" and float(txn["paid_at"]) == clock.now().timestamp()
    # A paid hold never expires.
    clock.advance(seconds=3600)
    assert expire_holds(sale.id, now=clock.now()) == 0
    assert assert_stock_invariant(redis_conn, sale.id, sale.item.pk)["paid"] == 2


def test_a_payment_after_the_job_released_the_hold_is_flagged(load_sale, make_user, redis_conn, clock, settings):
    settings.FLASHSALE_RESERVATION_TTL_SECONDS = 600
    sale = load_sale(quantities=[5])
    held = _reserve(sale, make_user(), clock)
    clock.advance(seconds=601)
    assert expire_holds(sale.id, now=clock.now()) == 1

    outcome = confirm_payment(sale.id, held.txn_id, gateway_order_id="ord-2", amount="49.90", now=clock.now())
    again = confirm_payment(sale.id, held.txn_id, gateway_order_id="ord-2", amount="49.90", now=clock.now())

    assert (outcome.outcome, outcome.refund_due, outcome.changed) == ("paid_after_expiry", True, True)
    assert (again.outcome, again.changed) == ("already_paid_after_expiry", False)
    figures = assert_stock_invariant(redis_conn, sale.id, sale.item.pk)
    assert (figures["paid"], figures["remaining"], figures["paid_after_expiry"]) == (0, 5, 1)
    txn = transaction_state(sale.id, held.txn_id)
    assert (txn["status"], txn["released_as"], txn["refund_due"]) == ("paid_after_expiry", "expired", "1")
    types = [reservation_event(decode_map(f))["type"] for _, f in redis_conn.xrange(keys.stream(sale.id))]
    assert types == ["reserved", "expired", "paid_after_expiry"]


def test_a_payment_past_expiry_before_the_job_ran_releases_and_flags(load_sale, make_user, redis_conn, clock):
    sale = load_sale(quantities=[5])
    user = make_user()
    held = _reserve(sale, user, clock)
    clock.set(clock.now().fromtimestamp(held.expires_at, tz=clock.now().tzinfo))

    outcome = confirm_payment(sale.id, held.txn_id, gateway_order_id="ord-3", amount=held.amount, now=clock.now())

    assert outcome.outcome == "paid_after_expiry"
    figures = assert_stock_invariant(redis_conn, sale.id, sale.item.pk)
    assert (figures["held"], figures["paid"], figures["remaining"], figures["returned"]) == (0, 0, 5, 1)
    assert redis_conn.hget(keys.user(sale.id, user.pk), str(sale.item.pk)) is None
    assert expire_holds(sale.id, now=clock.now()) == 0  # nothing left for the job: released once


def test_a_payment_for_a_cancelled_hold_is_flagged(load_sale, make_user, clock):
    sale = load_sale(quantities=[5])
    held = _reserve(sale, make_user(), clock)
    release_hold(sale.id, held.txn_id, reason="cancelled", now=clock.now())
    outcome = confirm_payment(sale.id, held.txn_id, gateway_order_id="o", amount=held.amount, now=clock.now())
    assert outcome.outcome == "paid_after_expiry"
    assert transaction_state(sale.id, held.txn_id)["released_as"] == "cancelled"


def test_a_wrong_amount_refuses_the_reservation_once_and_gives_its_units_back(load_sale, make_user, redis_conn, clock):
    sale = load_sale(quantities=[5], limit=2)
    user = make_user()
    held = _reserve(sale, user, clock, quantity=2)
    wrong = confirm_payment(sale.id, held.txn_id, gateway_order_id="o", amount=Decimal("1.00"), now=clock.now())
    again = confirm_payment(sale.id, held.txn_id, gateway_order_id="o", amount=Decimal("1.00"), now=clock.now())

    assert (wrong.outcome, wrong.changed, wrong.status, wrong.refund_due) == ("amount_mismatch", True, "refused", True)
    assert (again.outcome, again.changed, again.status) == ("already_refused", False, "refused")
    figures = assert_stock_invariant(redis_conn, sale.id, sale.item.pk)
    assert (figures["held"], figures["paid"], figures["remaining"], figures["returned"]) == (0, 0, 5, 2)
    assert redis_conn.zscore(keys.holds(sale.id), held.txn_id) is None
    # The shopper's per-user count is free again, so they can reserve afresh.
    assert redis_conn.hget(keys.user(sale.id, user.pk), str(sale.item.pk)) is None
    txn = transaction_state(sale.id, held.txn_id)
    assert (txn["status"], txn["refund_due"], txn["gateway_order_id"], txn["refused_amount"]) == (
        "refused",
        "1",
        "o",
        "1.00",
    )
    # The expiry job finds nothing left to release.
    clock.advance(seconds=3600)
    assert expire_holds(sale.id, now=clock.now()) == 0
    assert assert_stock_invariant(redis_conn, sale.id, sale.item.pk)["remaining"] == 5


def test_a_wrong_amount_after_the_hold_expired_is_refused_without_giving_units_twice(
    load_sale, make_user, redis_conn, clock
):
    sale = load_sale(quantities=[5])
    held = _reserve(sale, make_user(), clock)
    clock.advance(seconds=3600)
    assert expire_holds(sale.id, now=clock.now()) == 1
    wrong = confirm_payment(sale.id, held.txn_id, gateway_order_id="o", amount=Decimal("1.00"), now=clock.now())
    assert (wrong.outcome, wrong.status) == ("amount_mismatch", "refused")
    assert transaction_state(sale.id, held.txn_id)["released_as"] == "expired"
    assert assert_stock_invariant(redis_conn, sale.id, sale.item.pk)["remaining"] == 5


def test_an_unknown_transaction_changes_nothing(load_sale, make_user, redis_conn, clock):
    sale = load_sale(quantities=[5])
    _reserve(sale, make_user(), clock)
    unknown = confirm_payment(sale.id, "Z" * 26, gateway_order_id="o", amount=Decimal("1.00"), now=clock.now())
    assert (unknown.outcome, unknown.changed) == ("unknown", False)
    assert assert_stock_invariant(redis_conn, sale.id, sale.item.pk)["held"] == 1


def test_the_right_amount_in_another_currency_refuses_the_reservation(load_sale, make_user, redis_conn, clock):
    """49.90 USD is not 49.90 EUR: the hold is refused and flagged for refund, its units back on sale."""
    sale = load_sale(quantities=[5])
    held = _reserve(sale, make_user(), clock)
    assert held.currency == "EUR"
    wrong = confirm_payment(
        sale.id, held.txn_id, gateway_order_id="o", amount=held.amount, currency="USD", now=clock.now()
    )

    assert (wrong.outcome, wrong.status, wrong.refund_due) == ("amount_mismatch", "refused", True)
    assert assert_stock_invariant(redis_conn, sale.id, sale.item.pk)["remaining"] == 5
    txn = transaction_state(sale.id, held.txn_id)
    assert (txn["refused_amount"], txn["refused_currency"]) == (str(held.amount), "USD")


def test_the_currency_is_compared_whatever_its_case(load_sale, make_user, redis_conn, clock):
    sale = load_sale(quantities=[5])
    held = _reserve(sale, make_user(), clock)
    paid = confirm_payment(
        sale.id, held.txn_id, gateway_order_id="o", amount=held.amount, currency="eur", now=clock.now()
    )
    assert (paid.outcome, paid.status) == ("paid", "paid")
