"""The merge gives the same answer whatever the page and batch sizes (chunk boundaries included)."""

from __future__ import annotations

import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from ulid import ULID

from flashsale import clock
from reconciliation.gateway import SandboxGateway
from reconciliation.matching import reconcile_day
from reconciliation.models import Discrepancy
from reservations.models import Transaction
from sandbox_gateway.store import Order, Store

Kind = Discrepancy.Kind


def gateway(sandbox, *, page_size: int) -> SandboxGateway:
    return SandboxGateway(
        base_url=sandbox.url,
        api_key=settings.FLASHSALE_GATEWAY_API_KEY,
        webhook_secret=settings.FLASHSALE_GATEWAY_WEBHOOK_SECRET,
        page_size=page_size,
    )


@pytest.fixture
def ledgers(sandbox, sale, make_user):
    """Twelve transactions of today and the gateway's view of them, with one of each difference."""
    user = make_user()
    now = clock.now()
    txn_ids = sorted(str(ULID()) for _ in range(12))
    rows = []
    for index, txn_id in enumerate(txn_ids):
        rows.append(
            Transaction(
                txn_id=txn_id,
                user=user,
                session=sale.session,
                item=sale.item,
                units=[f"u{index}"],
                quantity=1,
                amount=Decimal("49.90"),
                currency="EUR",
                status=Transaction.Status.RESERVED if index == 4 else Transaction.Status.PAID,
                reserved_at=now,
                expires_at=now + timedelta(minutes=10),
                paid_at=None if index == 4 else now,
                gateway_order_id=f"ord_{index:04x}",
                paid_after_expiry=index == 7,
            )
        )
    rows[7].status = Transaction.Status.EXPIRED
    Transaction.objects.bulk_create(rows)

    stamp = time.time()
    day = now.date().isoformat()

    def order(index: int, *, txn_id: str, order_id: str | None = None, **fields) -> Order:
        values = dict(
            order_id=order_id or f"ord_{index:04x}",
            txn_id=txn_id,
            session_id=sale.session.pk,
            item_id=sale.item.pk,
            user_id=user.pk,
            quantity=1,
            amount="49.90",
            charged_amount="49.90",
            currency="EUR",
            status="paid",
            nonce="",
            token_expires_at=int(stamp) + 600,
            created_at=stamp,
            created_date=day,
            paid_at=stamp,
            cancelled_at=None,
            refunded_at=None,
        )
        values.update(fields)
        return Order(**values)

    orders = [order(i, txn_id=t) for i, t in enumerate(txn_ids) if i not in (2, 9)]
    orders[0] = order(0, txn_id=txn_ids[0], charged_amount="59.90")  # amount mismatch
    orders.append(order(5, txn_id=txn_ids[5], order_id="ord_ffff"))  # paid twice
    orders.append(order(99, txn_id="0" * 26))  # missing here: unknown to us
    orders = [o if o.txn_id != txn_ids[11] else order(11, txn_id=txn_ids[11], quantity=2) for o in orders]  # units
    Store(sandbox.db_path).insert_orders(orders)
    expected = sorted(
        [
            (Kind.AMOUNT_MISMATCH, txn_ids[0]),
            (Kind.MISSING_AT_GATEWAY, txn_ids[2]),
            (Kind.MISSING_HERE, txn_ids[4]),
            (Kind.PAID_TWICE, txn_ids[5]),
            (Kind.PAID_AFTER_EXPIRY, txn_ids[7]),
            (Kind.MISSING_AT_GATEWAY, txn_ids[9]),
            (Kind.UNIT_MISMATCH, txn_ids[11]),
            (Kind.MISSING_HERE, "0" * 26),
        ]
    )
    return expected


@pytest.mark.parametrize(("page_size", "batch_size"), [(1000, 2000), (3, 2), (1, 1)])
def test_same_findings_whatever_the_chunking(sandbox, ledgers, page_size, batch_size):
    run = reconcile_day(
        clock.now().date(), gateway=gateway(sandbox, page_size=page_size), batch_size=batch_size, auto_compensate=False
    )
    assert sorted(run.discrepancies.values_list("kind", "txn_id")) == ledgers
    assert (run.our_count, run.our_paid_count, run.their_count, run.their_paid_count) == (12, 10, 12, 12)
    assert run.matched_count == 5  # paid on both sides with nothing to say: 1, 3, 6, 8, 10
    assert run.our_paid_amount == Decimal("499.00")


def test_listing_is_streamed_page_by_page(sandbox, ledgers):
    orders = list(gateway(sandbox, page_size=5).iter_orders(clock.now().date()))
    assert len(orders) == 12
    assert [o.txn_id for o in orders] == sorted(o.txn_id for o in orders)
    assert len({o.order_id for o in orders}) == 12
