"""What the reserve script writes for a hold: only fields somebody reads, amounts exact either way."""

from __future__ import annotations

from decimal import Decimal

import pytest

from flashsale.store import keys
from flashsale.store.replies import as_str
from reservations.drain import drain_session
from reservations.holds import KnownShopper, ReserveRequest, reserve, reserve_units, transaction_state
from reservations.models import Transaction
from reservations.txns import spread

TXN = "01JDZX3YQ8M7T5V0A2B4C6D8E1"


def test_a_hold_without_arrival_or_location_writes_neither(load_sale, make_user, redis_conn, clock):
    sale = load_sale(quantities=[3])
    user = make_user()

    reserve_units(sale.id, sale.item.pk, user_id=user.pk, quantity=1, txn_id=TXN, now=clock.now())

    stored = {as_str(k) for k in redis_conn.hgetall(keys.txn(sale.id, TXN))}
    # What only the drainer and "my reservations" read is one packed field; the key names the
    # TransactionID (readers add it: holds.transaction_state, the stream entries).
    assert stored == {
        "user",
        "item",
        "units",
        "quantity",
        "amount",
        "currency",
        "status",
        "expires_at",
        "placed",
    }
    txn = transaction_state(sale.id, TXN)
    assert set(txn) == {
        "txn", "user", "item", "units", "quantity", "amount", "currency", "status", "reserved_at", "expires_at", "kid",
    }  # fmt: skip
    assert drain_session(sale.id) == 1
    row = Transaction.objects.get(txn_id=TXN)
    assert (row.entered_at, row.latitude, row.longitude) == (None, None, None)
    assert row.session_id == sale.id and row.user_id == user.pk


def test_a_hold_with_arrival_and_location_keeps_them(load_sale, make_user, clock):
    sale = load_sale(quantities=[3])
    user = make_user()
    now = clock.now().timestamp()
    shopper = KnownShopper(user_id=user.pk, txn_id=TXN, entered_at=now - 30, latitude=48.8566, longitude=2.3522)

    reserve(ReserveRequest(session_id=sale.id, item_id=sale.item.pk, quantity=1, now=now, shopper=shopper))

    txn = transaction_state(sale.id, TXN)
    assert (float(txn["entered_at"]), txn["latitude"], txn["longitude"]) == (now - 30, "48.8566", "2.3522")
    assert drain_session(sale.id) == 1
    row = Transaction.objects.get(txn_id=TXN)
    assert (row.latitude, row.longitude) == (Decimal("48.856600"), Decimal("2.352200"))
    assert row.entered_at is not None and row.entered_at.timestamp() == pytest.approx(now - 30)


@pytest.mark.parametrize(
    ("price", "quantity", "amount"),
    [
        ("19.99", 1, "19.99"),  # one unit at a two-decimal price: the price as written
        ("19.99", 2, "39.98"),
        ("7", 1, "7.00"),  # a price written otherwise is computed in cents
        ("7.5", 1, "7.50"),
        ("7.5", 3, "22.50"),
    ],
)
def test_amounts_are_exact_whatever_the_price_looks_like(
    load_sale, make_user, redis_conn, clock, price, quantity, amount
):
    sale = load_sale(quantities=[5], limit=5)
    redis_conn.hset(keys.item(sale.id, sale.item.pk), "sale_price", price)

    held = reserve_units(sale.id, sale.item.pk, user_id=make_user().pk, quantity=quantity, txn_id=TXN, now=clock.now())

    assert str(held.amount) == amount
    assert transaction_state(sale.id, TXN)["amount"] == amount


def test_a_hash_written_field_by_field_reads_the_same():
    """A session rebuilt from PostgreSQL writes every field; the packed form spreads to the same."""
    packed = {"txn": "T", "status": "reserved", "placed": "1900000000.5||48.8566|2.3522|k1"}
    separate = {"txn": "T", "status": "reserved", "reserved_at": "1900000000.5", "latitude": "48.8566",
                "longitude": "2.3522", "kid": "k1"}  # fmt: skip
    assert spread(packed) == spread(separate) == separate


def test_holds_made_by_the_previous_release_are_drained_and_released(load_sale, make_user, redis_conn, clock):
    """In flight across a deploy: a txn hash with its "txn" field and a type/txn stream entry."""
    from reservations.holds import release_hold

    sale = load_sale(quantities=[5], limit=2)
    user = make_user()
    reserve_units(sale.id, sale.item.pk, user_id=user.pk, quantity=1, txn_id=TXN, now=clock.now())
    # Rewrite what this release wrote into what the previous one did.
    redis_conn.hset(keys.txn(sale.id, TXN), "txn", TXN)
    redis_conn.delete(keys.stream(sale.id))
    redis_conn.xadd(keys.stream(sale.id), {"type": "reserved", "txn": TXN})

    assert drain_session(sale.id) == 1
    assert Transaction.objects.get(txn_id=TXN).status == "reserved"
    assert release_hold(sale.id, TXN, reason="cancelled", now=clock.now())
    assert drain_session(sale.id) == 1
    assert Transaction.objects.get(txn_id=TXN).status == "cancelled"


def test_a_release_names_the_transaction_in_its_stream_entry(load_sale, make_user, redis_conn, clock):
    from reservations.holds import release_hold

    sale = load_sale(quantities=[5], limit=2)
    reserve_units(sale.id, sale.item.pk, user_id=make_user().pk, quantity=1, txn_id=TXN, now=clock.now())
    assert drain_session(sale.id) == 1
    assert release_hold(sale.id, TXN, reason="cancelled", now=clock.now())
    ((_, entry),) = redis_conn.xrange(keys.stream(sale.id))
    assert (as_str(entry[b"type"]), as_str(entry[b"txn"])) == ("cancelled", TXN)
    assert drain_session(sale.id) == 1
    assert Transaction.objects.get(txn_id=TXN).status == "cancelled"
