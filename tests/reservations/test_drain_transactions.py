"""The drainer persists the stream to PostgreSQL: one row per TransactionID, status only forward."""

from __future__ import annotations

from decimal import Decimal

from flashsale.store import keys
from reservations.drain import drain_session, persist_events
from reservations.holds import (
    KnownShopper,
    ReserveRequest,
    confirm_payment,
    expire_holds,
    release_hold,
    reserve,
    reserve_units,
)
from reservations.models import Transaction
from reservations.tokens import verify_for_site


def test_reservations_become_rows_with_their_later_statuses(load_sale, make_user, redis_conn, clock, settings):
    settings.FLASHSALE_RESERVATION_TTL_SECONDS = 600
    sale = load_sale(quantities=[10], limit=2)
    users = [make_user() for _ in range(4)]
    held = [
        reserve(
            ReserveRequest(
                session_id=sale.id,
                item_id=sale.item.pk,
                quantity=1,
                now=clock.now().timestamp(),
                shopper=KnownShopper(
                    user_id=u.pk,
                    txn_id=f"{n:026d}",
                    entered_at=clock.now().timestamp() - 30,
                    latitude=48.8566,
                    longitude=2.3522,
                ),
            )
        )
        for n, u in enumerate(users)
    ]
    confirm_payment(sale.id, held[0].txn_id, gateway_order_id="ord-0", amount=held[0].amount, now=clock.now())
    release_hold(sale.id, held[1].txn_id, reason="cancelled", now=clock.now())
    clock.advance(seconds=601)
    expire_holds(sale.id, now=clock.now())  # held[2] and held[3] expire
    confirm_payment(sale.id, held[3].txn_id, gateway_order_id="ord-3", amount=held[3].amount, now=clock.now())

    assert drain_session(sale.id) == 9  # 4 reserved, paid, cancelled, 2 expired, paid_after_expiry
    assert redis_conn.xlen(keys.stream(sale.id)) == 0

    rows = {t.txn_id: t for t in Transaction.objects.all()}
    assert len(rows) == 4
    paid = rows[held[0].txn_id]
    assert (paid.status, paid.gateway_order_id, paid.amount, paid.quantity) == ("paid", "ord-0", Decimal("49.90"), 1)
    assert paid.units == list(held[0].units) and paid.user_id == users[0].pk and paid.item_id == sale.item.pk
    assert paid.latitude == Decimal("48.856600") and paid.entered_at.timestamp() == clock.now().timestamp() - 631
    assert verify_for_site(paid.token, now=held[0].expires_at - 1).txn_id == held[0].txn_id
    assert rows[held[1].txn_id].status == "cancelled"
    assert rows[held[2].txn_id].status == "expired" and not rows[held[2].txn_id].paid_after_expiry
    late = rows[held[3].txn_id]
    assert (late.status, late.paid_after_expiry, late.gateway_order_id) == ("paid_after_expiry", True, "ord-3")


def test_draining_twice_writes_nothing_twice(load_sale, make_user, clock):
    sale = load_sale(quantities=[10])
    reserve_units(sale.id, sale.item.pk, user_id=make_user().pk, quantity=1, txn_id="A" * 26, now=clock.now())
    assert drain_session(sale.id) == 1
    assert drain_session(sale.id) == 0
    assert Transaction.objects.count() == 1


def test_replaying_events_never_moves_a_status_backwards(load_sale, make_user, clock):
    sale = load_sale(quantities=[10])
    user = make_user()
    held = reserve_units(sale.id, sale.item.pk, user_id=user.pk, quantity=1, txn_id="A" * 26, now=clock.now())
    confirm_payment(sale.id, held.txn_id, gateway_order_id="g", amount=held.amount, now=clock.now())
    drain_session(sale.id)
    base = {
        "txn": held.txn_id,
        "user": str(user.pk),
        "item": str(sale.item.pk),
        "quantity": "1",
        "amount": "49.90",
        "currency": "EUR",
        "reserved_at": "1",
        "expires_at": "2",
        "units": "[]",
    }
    # A stale "reserved" and an impossible "expired" after paid are both ignored.
    persist_events(sale.id, [("1-0", {**base, "status": "reserved"}), ("2-0", {**base, "status": "expired"})])
    assert Transaction.objects.get().status == "paid"
    persist_events(sale.id, [("3-0", {**base, "status": "refunded"})])
    assert Transaction.objects.get().status == "refunded"


def test_a_session_without_a_stream_drains_nothing(load_sale):
    sale = load_sale(quantities=[1])
    assert drain_session(sale.id) == 0
    assert drain_session(sale.id + 1000) == 0


def test_a_poisoned_event_does_not_block_the_good_ones(load_sale, make_user, redis_conn, clock):
    sale = load_sale(quantities=[10], limit=2)
    good = make_user()
    reserve_units(sale.id, sale.item.pk, user_id=good.pk, quantity=1, txn_id="A" * 26, now=clock.now())
    # A user id with no row (cannot happen through the site) makes its insert fail.
    reserve_units(sale.id, sale.item.pk, user_id=good.pk + 10_000, quantity=1, txn_id="B" * 26, now=clock.now())
    reserve_units(sale.id, sale.item.pk, user_id=good.pk, quantity=1, txn_id="C" * 26, now=clock.now())
    assert drain_session(sale.id) == 3
    assert sorted(Transaction.objects.values_list("txn_id", flat=True)) == ["A" * 26, "C" * 26]
    assert redis_conn.xpending(keys.stream(sale.id), "drainer")["pending"] == 0
