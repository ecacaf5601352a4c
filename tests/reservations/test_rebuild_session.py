"""rebuild_session after FLUSHDB: stock, holds, per-user counts and payments come back from PostgreSQL."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from flashsale.store import keys
from plans.adjusting import adjust_stock
from reservations.drain import drain_session
from reservations.holds import confirm_payment, expire_holds, release_hold, reserve_units, transaction_state
from reservations.refusals import LimitReached
from tests.support.sales import assert_stock_invariant, item_figures


def test_a_flushed_session_is_rebuilt_from_the_transactions(load_sale, make_user, redis_conn, clock, settings):
    settings.FLASHSALE_RESERVATION_TTL_SECONDS = 600
    sale = load_sale(quantities=[10, 4], limit=2)
    a, b = sale.items
    adjust_stock(a, delta=3, reason="found more")
    users = [make_user() for _ in range(4)]
    held = reserve_units(sale.id, a.pk, user_id=users[0].pk, quantity=2, txn_id="A" * 26, now=clock.now())
    paid = reserve_units(sale.id, a.pk, user_id=users[1].pk, quantity=1, txn_id="B" * 26, now=clock.now())
    confirm_payment(sale.id, paid.txn_id, gateway_order_id="g", amount=paid.amount, now=clock.now())
    gone = reserve_units(sale.id, b.pk, user_id=users[2].pk, quantity=1, txn_id="C" * 26, now=clock.now())
    release_hold(sale.id, gone.txn_id, now=clock.now())
    reserve_units(sale.id, b.pk, user_id=users[3].pk, quantity=2, txn_id="D" * 26, now=clock.now())
    drain_session(sale.id)
    before = {item.pk: item_figures(redis_conn, sale.id, item.pk) for item in sale.items}

    redis_conn.flushdb()
    out = StringIO()
    call_command("rebuild_session", str(sale.id), stdout=out)

    for item in sale.items:
        after = assert_stock_invariant(redis_conn, sale.id, item.pk)
        for name in ("remaining", "held", "paid", "allocated", "adjusted"):
            assert after[name] == before[item.pk][name], (item.pk, name)
    on_list = {u.decode() for u in redis_conn.lrange(keys.stock(sale.id, a.pk), 0, -1)}
    assert not on_list & (set(held.units) | set(paid.units))
    assert f"item {a.pk}: allocated 10 adjusted +3 -> remaining 10, held 2, paid 1" in out.getvalue()
    # The user's limit and the hold's expiry survive the rebuild.
    with pytest.raises(LimitReached):
        reserve_units(sale.id, a.pk, user_id=users[0].pk, quantity=1, txn_id="E" * 26, now=clock.now())
    assert transaction_state(sale.id, paid.txn_id)["status"] == "paid"
    clock.advance(seconds=601)
    assert expire_holds(sale.id, now=clock.now()) == 2
    assert assert_stock_invariant(redis_conn, sale.id, a.pk)["remaining"] == 12
    assert confirm_payment(sale.id, paid.txn_id, gateway_order_id="g", amount=paid.amount, now=clock.now()).outcome == (
        "already_paid"
    )


def test_a_rebuilt_sessions_stock_version_is_above_every_version_pages_saw(load_sale, make_user, redis_conn, clock):
    # Open pages ignore a stock snapshot older than one they showed, and caches key the poll by
    # version: after Redis lost the session, its version must not start again from the bottom.
    sale = load_sale(quantities=[50], limit=1)
    for n in range(20):
        txn = reserve_units(
            sale.id, sale.item.pk, user_id=make_user().pk, quantity=1, txn_id=f"{n:026d}", now=clock.now()
        )
        release_hold(sale.id, txn.txn_id, now=clock.now())
    drain_session(sale.id)
    seen = int(redis_conn.hget(keys.session(sale.id), "stock_version"))

    redis_conn.flushdb()
    call_command("rebuild_session", str(sale.id), stdout=StringIO())

    assert int(redis_conn.hget(keys.session(sale.id), "stock_version")) > seen


def test_rebuild_refuses_a_session_still_in_redis_and_reports_oversold(load_sale, make_user, redis_conn, clock):
    sale = load_sale(quantities=[2], limit=2)
    user = make_user()
    reserve_units(sale.id, sale.item.pk, user_id=user.pk, quantity=2, txn_id="A" * 26, now=clock.now())
    drain_session(sale.id)
    with pytest.raises(CommandError, match="still in Redis"):
        call_command("rebuild_session", str(sale.id))
    # Someone shrank the allocation in the database after the sale started.
    type(sale.item).objects.filter(pk=sale.item.pk).update(quantity=1)
    out, err = StringIO(), StringIO()
    call_command("rebuild_session", str(sale.id), "--force", stdout=out, stderr=err)
    assert "oversold" in out.getvalue() and "problem" in err.getvalue()
    assert item_figures(redis_conn, sale.id, sale.item.pk)["remaining"] == 0


def test_rebuild_of_an_unknown_session_fails_cleanly(db):
    with pytest.raises(CommandError, match="No session"):
        call_command("rebuild_session", "999")


def test_all_live_rebuilds_every_loaded_session_and_skips_those_still_in_redis(load_sale, make_user, redis_conn, clock):
    sales = [load_sale(quantities=[5]), load_sale(quantities=[3])]
    for n, sale in enumerate(sales):
        reserve_units(sale.id, sale.item.pk, user_id=make_user().pk, quantity=1, txn_id=f"{n}" * 26, now=clock.now())
        drain_session(sale.id)
    redis_conn.flushdb()

    out = StringIO()
    call_command("rebuild_session", "--all-live", "--quiet", stdout=out)

    for sale, quantity in zip(sales, (5, 3), strict=True):
        figures = assert_stock_invariant(redis_conn, sale.id, sale.item.pk)
        assert (figures["remaining"], figures["held"]) == (quantity - 1, 1)
        assert f"item {sale.item.pk}: allocated {quantity}" in out.getvalue()

    again = StringIO()
    call_command("rebuild_session", "--all-live", "--quiet", stdout=again)
    for sale in sales:
        assert f"session {sale.id}: skipped: The session is still in Redis" in again.getvalue()


def test_one_session_or_all_live_but_not_both(load_sale):
    sale = load_sale(quantities=[5])
    for args in ((), (str(sale.id), "--all-live")):
        with pytest.raises(CommandError, match="Name one session id, or --all-live"):
            call_command("rebuild_session", *args)


def test_refused_and_late_payments_come_back_with_their_status_and_units_on_sale(
    load_sale, make_user, redis_conn, clock, settings
):
    settings.FLASHSALE_RESERVATION_TTL_SECONDS = 600
    sale = load_sale(quantities=[5])
    users = [make_user() for _ in range(2)]
    refused = reserve_units(sale.id, sale.item.pk, user_id=users[0].pk, quantity=1, txn_id="R" * 26, now=clock.now())
    confirm_payment(sale.id, refused.txn_id, gateway_order_id="g-wrong", amount="1.00", now=clock.now())
    late = reserve_units(sale.id, sale.item.pk, user_id=users[1].pk, quantity=1, txn_id="L" * 26, now=clock.now())
    clock.advance(seconds=601)
    expire_holds(sale.id, now=clock.now())
    confirm_payment(sale.id, late.txn_id, gateway_order_id="g-late", amount=late.amount, now=clock.now())
    drain_session(sale.id)

    redis_conn.flushdb()
    call_command("rebuild_session", str(sale.id), stdout=StringIO())

    assert assert_stock_invariant(redis_conn, sale.id, sale.item.pk)["remaining"] == 5
    for txn, status, released_as in ((refused, "refused", "refused"), (late, "paid_after_expiry", "expired")):
        state = transaction_state(sale.id, txn.txn_id)
        assert (state["status"], state["refund_due"], state["released_as"]) == (status, "1", released_as)
    # Paying either again changes nothing.
    again = confirm_payment(sale.id, late.txn_id, gateway_order_id="g-late", amount=late.amount, now=clock.now())
    assert again.outcome == "already_paid_after_expiry"
