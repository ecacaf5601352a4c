"""Each fault the sandbox can inject: reconciliation finds exactly it, and the compensation fixes it."""

from __future__ import annotations

import pytest

from flashsale import clock
from flashsale.store import keys
from reconciliation.compensation import compensate
from reconciliation.matching import reconcile_day
from reconciliation.models import Compensation, Discrepancy, ReconciliationRun
from reservations.drain import drain_session
from reservations.models import Transaction
from tests.support.payments import buy, delivered, kinds, txn_row
from tests.support.polling import wait_until
from tests.support.smtp import body_of

Kind = Discrepancy.Kind


def reconcile_today(**options) -> ReconciliationRun:
    return reconcile_day(clock.now().date(), **options)


def assert_clean_rerun(previous: ReconciliationRun) -> None:
    rerun = reconcile_today()
    assert rerun.status == ReconciliationRun.Status.CLEAN, kinds(rerun)
    assert rerun.previous_run_id == previous.pk


def test_dropped_webhook_is_missing_here_and_refunded(sandbox, sale, make_user):
    first, second = make_user(), make_user()
    sandbox.add_fault("drop_webhook")  # global: every order
    lost = [buy(sale, first, sandbox), buy(sale, second, sandbox)]
    assert [d for d in sandbox.deliveries()] == []
    drain_session(sale.session.pk)
    assert {txn_row(p.txn_id).status for p in lost} == {Transaction.Status.RESERVED}

    run = reconcile_today()
    assert kinds(run) == sorted((Kind.MISSING_HERE, p.txn_id) for p in lost)
    assert run.their_paid_count == 2 and run.our_paid_count == 0

    for discrepancy in run.discrepancies.all():
        compensate(discrepancy)
    assert {sandbox.order(p.order_id)["status"] for p in lost} == {"refunded"}
    assert_clean_rerun(run)


def test_duplicate_webhook_changes_nothing(sandbox, sale, make_user, redis_conn):
    purchase = buy(
        sale,
        make_user(),
        sandbox,
        quantity=2,
        before_pay=lambda c: sandbox.add_fault("duplicate_webhook", txn_id=c.txn_id),
    )
    deliveries = delivered(sandbox, purchase.order_id, count=2)
    assert len({d["event_id"] for d in deliveries}) == 1
    assert sorted(d["last_status"] for d in deliveries) == [200, 409]

    row = txn_row(purchase.txn_id)
    assert row.status == Transaction.Status.PAID
    counts = redis_conn.hgetall(keys.counts(sale.session.pk, sale.item.pk))
    assert int(counts[b"paid"]) == 2

    drain_session(sale.session.pk)
    run = reconcile_today()
    assert run.status == ReconciliationRun.Status.CLEAN, kinds(run)
    assert run.matched_count == 1


def test_late_webhook_is_paid_after_expiry_and_refunded_automatically(sandbox, sale, make_user, clock, client):
    shopper = make_user()

    def late_and_expired(checkout):
        sandbox.add_fault("late_webhook", txn_id=checkout.txn_id, delay_seconds=1)
        # The hold's expiry passes before the gateway's webhook reaches us.
        clock.advance(seconds=settings_ttl() + 60)

    purchase = buy(sale, shopper, sandbox, before_pay=late_and_expired)
    row = wait_until(
        lambda: (r := txn_row(purchase.txn_id)) is not None and r.paid_after_expiry and r,
        what="the late webhook to be recorded",
    )
    assert row.gateway_order_id == purchase.order_id
    assert row.status == Transaction.Status.PAID_AFTER_EXPIRY
    client.force_login(shopper)
    assert (
        b'data-payment-state="paid_after_expiry"' in client.get("/payments/return/", {"txn": purchase.txn_id}).content
    )

    drain_session(sale.session.pk)
    run = reconcile_today()
    assert kinds(run) == [(Kind.PAID_AFTER_EXPIRY, purchase.txn_id)]
    discrepancy = run.discrepancies.get()
    # paid_after_expiry is in FLASHSALE_AUTO_COMPENSATE by default: the run refunded it itself.
    assert discrepancy.resolution == Discrepancy.Resolution.COMPENSATED
    compensation = discrepancy.compensations.get()
    assert compensation.kind == Compensation.Kind.REFUND and compensation.automatic and compensation.created_by is None
    assert sandbox.order(purchase.order_id)["status"] == "refunded"
    assert txn_row(purchase.txn_id).status == Transaction.Status.REFUNDED
    assert_clean_rerun(run)


def settings_ttl() -> int:
    from django.conf import settings

    return settings.FLASHSALE_RESERVATION_TTL_SECONDS


def test_different_amount_is_an_amount_mismatch_and_refunded(sandbox, sale, make_user, smtp_server, eager_celery):
    purchase = buy(
        sale,
        make_user("ines", email="ines@example.com"),
        sandbox,
        before_pay=lambda c: sandbox.add_fault("charge_amount", txn_id=c.txn_id, delta="5.00"),
    )
    assert sandbox.order(purchase.order_id)["amount"] == "54.90"
    delivered(sandbox, purchase.order_id)
    drain_session(sale.session.pk)
    # Our side refuses to confirm a payment of the wrong amount: the reservation is refused, its
    # units are back on sale, the charge is due for refund.
    assert txn_row(purchase.txn_id).status == Transaction.Status.REFUSED

    run = reconcile_today()
    assert kinds(run) == [(Kind.AMOUNT_MISMATCH, purchase.txn_id)]
    discrepancy = run.discrepancies.get()
    assert "54.90" in discrepancy.their_value and "49.90" in discrepancy.our_value
    assert discrepancy.resolution == Discrepancy.Resolution.OPEN  # not an automatic kind

    compensate(discrepancy)
    assert sandbox.order(purchase.order_id)["status"] == "refunded"
    # The shopper's record follows the money: refunded, and they are told by mail.
    assert txn_row(purchase.txn_id).status == Transaction.Status.REFUNDED
    (mail,) = smtp_server.wait_for("ines@example.com", subject_contains="Refund made")
    # What the gateway gave back: the whole (wrong) charge.
    assert str(mail["Subject"]).startswith("Refund made: 54.90 EUR for ")
    assert purchase.order_id in body_of(mail)
    assert_clean_rerun(run)
    compensate(discrepancy)  # pressed again: no second refund, no second mail
    assert len(smtp_server.to("ines@example.com")) == 1


def test_our_amount_in_another_currency_is_refused_and_an_amount_mismatch(sandbox, sale, make_user):
    purchase = buy(
        sale,
        make_user(),
        sandbox,
        before_pay=lambda c: sandbox.add_fault("charge_currency", txn_id=c.txn_id, currency="usd"),
    )
    order = sandbox.order(purchase.order_id)
    assert (order["amount"], order["currency"]) == ("49.90", "USD")
    delivered(sandbox, purchase.order_id)
    drain_session(sale.session.pk)
    # 49.90 USD does not pay for 49.90 EUR: refused at the webhook, units back on sale.
    assert txn_row(purchase.txn_id).status == Transaction.Status.REFUSED

    run = reconcile_today()
    assert kinds(run) == [(Kind.AMOUNT_MISMATCH, purchase.txn_id)]
    compensate(run.discrepancies.get())
    assert sandbox.order(purchase.order_id)["status"] == "refunded"
    assert_clean_rerun(run)


def test_double_charge_is_paid_twice_and_the_extra_charge_refunded(sandbox, sale, make_user):
    purchase = buy(sale, make_user(), sandbox, before_pay=lambda c: sandbox.add_fault("double_charge", txn_id=c.txn_id))
    delivered(sandbox, purchase.order_id)
    wait_until(lambda: txn_row(purchase.txn_id).status == Transaction.Status.PAID, what="payment")
    orders = [o for o in sandbox.orders_on(clock.now().date()) if o["txn_id"] == purchase.txn_id]
    assert len(orders) == 2 and {o["status"] for o in orders} == {"paid"}
    twin = next(o["id"] for o in orders if o["id"] != purchase.order_id)

    drain_session(sale.session.pk)
    run = reconcile_today()
    assert kinds(run) == [(Kind.PAID_TWICE, purchase.txn_id)]
    assert run.discrepancies.get().gateway_order_id == twin

    compensate(run.discrepancies.get())
    assert sandbox.order(twin)["status"] == "refunded"
    assert sandbox.order(purchase.order_id)["status"] == "paid"
    assert txn_row(purchase.txn_id).status == Transaction.Status.PAID
    assert_clean_rerun(run)


def test_refund_made_at_the_gateway_alone_is_missing_there_and_units_come_back(sandbox, sale, make_user, redis_conn):
    purchase = buy(sale, make_user(), sandbox, quantity=2)
    delivered(sandbox, purchase.order_id)
    drain_session(sale.session.pk)
    assert txn_row(purchase.txn_id).status == Transaction.Status.PAID
    sandbox.api.post(f"{sandbox.url}/api/orders/{purchase.order_id}/refund", timeout=5).raise_for_status()
    on_sale_before = redis_conn.llen(keys.stock(sale.session.pk, sale.item.pk))

    run = reconcile_today()
    assert kinds(run) == [(Kind.MISSING_AT_GATEWAY, purchase.txn_id)]
    results = compensate(run.discrepancies.get())
    assert [(r.kind, r.done) for r in results] == [(Compensation.Kind.INVENTORY, True)]
    # The session is still open: the two units are back on sale through plans' adjustment.
    assert redis_conn.llen(keys.stock(sale.session.pk, sale.item.pk)) == on_sale_before + 2
    assert sale.item.adjustments.get().delta == 2
    assert txn_row(purchase.txn_id).status == Transaction.Status.CANCELLED
    assert_clean_rerun(run)


@pytest.mark.parametrize("scope", ["order", "global"])
def test_fault_applies_to_its_target_only(sandbox, sale, make_user, scope):
    shopper, other = make_user(), make_user()
    if scope == "global":
        sandbox.add_fault("charge_amount", amount="1.00")
        target = buy(sale, shopper, sandbox)
        bystander = buy(sale, other, sandbox)
        expected = {target.order_id: "1.00", bystander.order_id: "1.00"}
    else:
        target = buy(
            sale,
            shopper,
            sandbox,
            before_pay=lambda c: sandbox.add_fault("charge_amount", txn_id=c.txn_id, amount="1.00"),
        )
        bystander = buy(sale, other, sandbox)
        expected = {target.order_id: "1.00", bystander.order_id: "49.90"}
    assert {order_id: sandbox.order(order_id)["amount"] for order_id in expected} == expected


def test_yesterday_is_reconciled_the_next_day(sandbox, sale, make_user, clock):
    """The daily job runs after midnight: the period is the reservation's day, not the run's."""
    purchase = buy(sale, make_user(), sandbox)
    delivered(sandbox, purchase.order_id)
    drain_session(sale.session.pk)
    day = clock.now().date()
    clock.advance(days=1)
    run = reconcile_day(day)
    assert run.status == ReconciliationRun.Status.CLEAN
    assert run.period == day and run.matched_count == 1
    assert reconcile_day(clock.now().date()).their_count == 0


def test_gateway_ledger_with_another_unit_count_is_a_unit_mismatch(sandbox, sale, make_user, redis_conn):
    import sqlite3

    purchase = buy(sale, make_user(), sandbox, quantity=2)
    delivered(sandbox, purchase.order_id)
    drain_session(sale.session.pk)
    # The gateway's own ledger disagrees on the units (no sandbox fault can make a token lie about them).
    with sqlite3.connect(sandbox.db_path) as ledger:
        ledger.execute("UPDATE orders SET quantity = 1 WHERE order_id = ?", (purchase.order_id,))
    on_sale_before = redis_conn.llen(keys.stock(sale.session.pk, sale.item.pk))

    run = reconcile_today()
    assert kinds(run) == [(Kind.UNIT_MISMATCH, purchase.txn_id)]
    results = compensate(run.discrepancies.get())
    assert [r.kind for r in results] == [Compensation.Kind.REFUND, Compensation.Kind.INVENTORY]
    assert sandbox.order(purchase.order_id)["status"] == "refunded"
    assert redis_conn.llen(keys.stock(sale.session.pk, sale.item.pk)) == on_sale_before + 2
    assert txn_row(purchase.txn_id).status == Transaction.Status.REFUNDED
    assert_clean_rerun(run)


def test_units_of_a_closed_session_are_recorded_not_put_back_on_sale(sandbox, sale, make_user, redis_conn):
    from plans.models import SaleSession

    purchase = buy(sale, make_user(), sandbox)
    delivered(sandbox, purchase.order_id)
    drain_session(sale.session.pk)
    sandbox.api.post(f"{sandbox.url}/api/orders/{purchase.order_id}/refund", timeout=5).raise_for_status()
    SaleSession.objects.filter(pk=sale.session.pk).update(state=SaleSession.State.ENDED)
    on_sale_before = redis_conn.llen(keys.stock(sale.session.pk, sale.item.pk))

    run = reconcile_today()
    (result,) = compensate(run.discrepancies.get())
    assert result.kind == Compensation.Kind.INVENTORY and result.compensation.units == 1
    assert "closed session" in result.compensation.detail
    assert sale.item.adjustments.get().delta == 1
    assert redis_conn.llen(keys.stock(sale.session.pk, sale.item.pk)) == on_sale_before
