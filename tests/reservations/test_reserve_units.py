"""A successful reservation: units popped, counted against the user, held, streamed, timed."""

from __future__ import annotations

import json
from decimal import Decimal

from flashsale.store import keys
from flashsale.store.replies import as_str
from reservations.drain import drain_session, reservation_event
from reservations.holds import reserve_units, transaction_state
from tests.support.sales import assert_stock_invariant

TXN = "01JDZX3YQ8M7T5V0A2B4C6D8E0"


def test_reserving_pops_units_and_records_the_hold(load_sale, make_user, redis_conn, clock, settings):
    settings.FLASHSALE_RESERVATION_TTL_SECONDS = 600
    sale = load_sale(quantities=[5], limit=3, price=Decimal("19.99"))
    user = make_user()
    now = clock.now().timestamp()

    reservation = reserve_units(sale.id, sale.item.pk, user_id=user.pk, quantity=2, txn_id=TXN, now=clock.now())

    assert reservation.units == (f"{sale.item.pk}:1", f"{sale.item.pk}:2")
    assert reservation.amount == Decimal("39.98") and reservation.currency == "EUR"
    assert reservation.expires_at == now + 600
    assert not reservation.replayed
    figures = assert_stock_invariant(redis_conn, sale.id, sale.item.pk)
    assert (figures["remaining"], figures["held"], figures["paid"]) == (3, 2, 0)
    assert int(redis_conn.hget(keys.user(sale.id, user.pk), str(sale.item.pk))) == 2
    assert redis_conn.zscore(keys.holds(sale.id), TXN) == now + 600
    # The user's page lists it from their user hash (no set of its own any more).
    assert redis_conn.hget(keys.user(sale.id, user.pk), keys.user_txn_field(TXN)) == str(sale.item.pk).encode()
    assert not redis_conn.exists(keys.user_txns(sale.id, user.pk))
    txn = transaction_state(sale.id, TXN)
    assert txn["status"] == "reserved" and json.loads(txn["units"]) == list(reservation.units)
    assert txn["amount"] == "39.98" and txn["user"] == str(user.pk)
    ((_, event),) = redis_conn.xrange(keys.stream(sale.id))
    event = {as_str(k): as_str(v) for k, v in event.items()}
    # The hot path appends the TransactionID only; the drainer reads the rest from the hash.
    assert event == {"reserved": TXN}
    assert reservation_event(event) == {"type": "reserved", "txn": TXN}
    assert reservation_event({"type": "reserved", "txn": TXN}) == {"type": "reserved", "txn": TXN}  # older form
    assert txn["quantity"] == "2"
    # The live page's reservations per minute are counted by the drainer, not on the hot path.
    minute = str(int(now // 60))
    assert redis_conn.hget(keys.timeline(sale.id), minute) is None
    assert drain_session(sale.id) == 1
    assert redis_conn.hget(keys.timeline(sale.id), minute) == b"1"


def test_prices_are_computed_in_exact_decimal(load_sale, make_user, clock):
    sale = load_sale(quantities=[5], limit=3, price=Decimal("0.10"))
    reservation = reserve_units(sale.id, sale.item.pk, user_id=make_user().pk, quantity=3, txn_id=TXN, now=clock.now())
    assert reservation.amount == Decimal("0.30")
