"""Property: any interleaving of reserve / release / expire / pay keeps every unit accounted for.

After each step: remaining + held + paid == allocated, no unit in two places, no user above the
limit, and each outcome is the one a simple model of the rules predicts.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from flashsale.store import keys
from flashsale.store.replies import as_int, as_str
from reservations.holds import confirm_payment, expire_holds, release_hold, reserve_units, transaction_state
from reservations.refusals import LimitReached, SoldOut
from tests.support.sales import assert_stock_invariant

TTL = 100

steps = st.lists(
    st.one_of(
        st.tuples(st.just("reserve"), st.integers(1, 4), st.integers(1, 3)),
        st.tuples(st.just("release"), st.integers(0, 30)),
        st.tuples(st.just("pay"), st.integers(0, 30)),
        st.tuples(st.just("advance"), st.integers(1, 120)),
        st.tuples(st.just("expire")),
    ),
    max_size=25,
)


@pytest.mark.django_db
@hypothesis_settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(stock=st.integers(1, 8), limit=st.integers(1, 3), ops=steps)
def test_every_interleaving_keeps_the_invariant(load_sale, redis_conn, clock, stock, limit, ops, settings):
    settings.FLASHSALE_RESERVATION_TTL_SECONDS = TTL
    redis_conn.flushdb()
    sale = load_sale(quantities=[stock], limit=limit)
    sid, iid = sale.id, sale.item.pk
    model = {"remaining": stock, "holds": {}, "paid": set(), "per_user": {}}
    txns: list[str] = []

    for n, op in enumerate(ops):
        now = clock.now().timestamp()
        if op[0] == "reserve":
            _, user, quantity = op
            txn_id = f"{n:026d}"
            expect_ok = model["per_user"].get(user, 0) + quantity <= limit and model["remaining"] >= quantity
            try:
                held = reserve_units(sid, iid, user_id=user, quantity=quantity, txn_id=txn_id, now=now)
            except LimitReached:
                assert model["per_user"].get(user, 0) + quantity > limit
            except SoldOut:
                assert model["per_user"].get(user, 0) + quantity <= limit and model["remaining"] < quantity
            else:
                assert expect_ok
                model["remaining"] -= quantity
                model["per_user"][user] = model["per_user"].get(user, 0) + quantity
                model["holds"][txn_id] = (user, quantity, held.expires_at)
                txns.append(txn_id)
        elif op[0] == "release" and txns:
            txn_id = txns[op[1] % len(txns)]
            released = release_hold(sid, txn_id, reason="cancelled", now=now)
            assert released == (txn_id in model["holds"])
            if released:
                _free(model, txn_id)
        elif op[0] == "pay" and txns:
            txn_id = txns[op[1] % len(txns)]
            amount = transaction_state(sid, txn_id)["amount"]
            outcome = confirm_payment(sid, txn_id, gateway_order_id=f"g{n}", amount=amount, now=now)
            if txn_id in model["holds"] and now < model["holds"][txn_id][2]:
                assert outcome.outcome == "paid"
                model["paid"].add(txn_id)
                model["holds"].pop(txn_id)
            elif txn_id in model["holds"]:
                assert outcome.outcome == "paid_after_expiry"
                _free(model, txn_id)
            else:
                assert outcome.changed is (outcome.outcome == "paid_after_expiry")
        elif op[0] == "advance":
            clock.advance(seconds=op[1])
        elif op[0] == "expire":
            due = [t for t, (_, _, expires) in model["holds"].items() if expires <= now]
            assert expire_holds(sid, now=now) == len(due)
            for txn_id in due:
                _free(model, txn_id)

        figures = assert_stock_invariant(redis_conn, sid, iid)
        held_units = sum(q for _, q, _ in model["holds"].values())
        assert (figures["remaining"], figures["held"]) == (model["remaining"], held_units)
        _assert_units_in_one_place(redis_conn, sid, iid, txns, stock)
        for user, count in model["per_user"].items():
            assert count <= limit
            assert as_int(redis_conn.hget(keys.user(sid, user), str(iid))) == count


def _free(model: dict, txn_id: str) -> None:
    user, quantity, _ = model["holds"].pop(txn_id)
    model["remaining"] += quantity
    model["per_user"][user] -= quantity


def _assert_units_in_one_place(redis_conn, sid: int, iid: int, txns: list[str], stock: int) -> None:
    places = [as_str(u) for u in redis_conn.lrange(keys.stock(sid, iid), 0, -1)]
    for txn_id in txns:
        state = transaction_state(sid, txn_id)
        if state["status"] in {"reserved", "paid"}:
            places += json.loads(state["units"])
    assert sorted(places) == sorted(f"{iid}:{n}" for n in range(1, stock + 1))


def test_units_stay_in_one_place_after_a_long_sequence(load_sale, redis_conn, clock, settings):
    settings.FLASHSALE_RESERVATION_TTL_SECONDS = TTL
    sale = load_sale(quantities=[6], limit=3)
    txns = []
    for n in range(6):
        txns.append(
            reserve_units(sale.id, sale.item.pk, user_id=n, quantity=1, txn_id=f"{n:026d}", now=clock.now()).txn_id
        )
    release_hold(sale.id, txns[0], now=clock.now())
    confirm_payment(sale.id, txns[1], gateway_order_id="g", amount="49.90", now=clock.now())
    clock.advance(seconds=TTL)
    expire_holds(sale.id, now=clock.now())
    _assert_units_in_one_place(redis_conn, sale.id, sale.item.pk, txns, 6)
    assert assert_stock_invariant(redis_conn, sale.id, sale.item.pk)["paid"] == 1
