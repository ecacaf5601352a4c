"""The sale paths on a real three-master Redis Cluster, through redis-py's cluster client.

Loading, reserving, releasing, paying, expiring, draining and rebuilding all run against the
cluster selected by settings (``FLASHSALE_REDIS_MODE="cluster"``). Every key of a session carries
the ``{s:ID}`` hash tag, so each script and pipeline stays in one slot (no CROSSSLOT), and
different sessions land on different shards.
"""

from __future__ import annotations

import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from ulid import ULID

from flashsale.store import keys
from plans.loading import load_session_into_redis, unload_session
from reservations import availability, holds, refusals, snapshot
from reservations.drain import drain_session
from reservations.models import Transaction
from reservations.rebuild import rebuild_session
from tests.factories import make_item, make_product, make_session
from tests.support.cluster import node_of
from tests.support.sales import assert_stock_invariant, item_figures

pytestmark = pytest.mark.cluster


def sale_session(quantity: int = 10, *, limit: int = 2):
    session = make_session(opens_in=timedelta(minutes=-1), lasts=timedelta(hours=1))
    item = make_item(session, make_product(), quantity=quantity, per_user_limit=limit, sale_price=Decimal("12.50"))
    return session, item


def users(count: int) -> list:
    User = get_user_model()
    return User.objects.bulk_create(User(username=f"c-{ULID()}", password="!") for _ in range(count))


def test_sessions_spread_over_shards_and_each_keeps_to_one_slot(db, cluster_sale_redis):
    client = cluster_sale_redis
    sessions = [sale_session()[0] for _ in range(8)]
    for session in sessions:
        load_session_into_redis(session)
    nodes = {node_of(client, keys.session(s.pk)) for s in sessions}
    assert len(nodes) >= 2, nodes
    for session in sessions:
        item_id = session.items.get().pk
        tagged = [
            keys.session(session.pk),
            keys.stock(session.pk, item_id),
            keys.counts(session.pk, item_id),
            keys.holds(session.pk),
            keys.stream(session.pk),
            keys.txn(session.pk, "X"),
            keys.user(session.pk, 1),
        ]
        assert len({client.keyslot(key) for key in tagged}) == 1
        # The data is where the slot map says: on that node, and readable through the cluster client.
        assert client.exists(keys.session(session.pk)) == 1
        assert_stock_invariant(client, session.pk, item_id)


def test_reserve_release_pay_expire_drain_and_rebuild_on_the_cluster(db, cluster_sale_redis, settings):
    """Every path on two sessions living on different shards; expiry one hold at a time (release_hold)."""
    client = cluster_sale_redis
    settings.FLASHSALE_RESERVATION_TTL_SECONDS = 60
    # Two sessions on different shards, worked on side by side.
    sales = []
    while len({node_of(client, keys.session(s.pk)) for s, _ in sales}) < 2:
        session, item = sale_session(quantity=10, limit=2)
        load_session_into_redis(session)
        sales.append((session, item))
    now = time.time()
    for session, item in sales:
        shoppers = users(5)
        held = [
            holds.reserve_units(session.pk, item.pk, user_id=u.pk, quantity=2, txn_id=str(ULID()), now=now)
            for u in shoppers
        ]
        with pytest.raises(refusals.SoldOut):
            holds.reserve_units(session.pk, item.pk, user_id=users(1)[0].pk, quantity=1, txn_id=str(ULID()), now=now)
        assert holds.release_hold(session.pk, held[0].txn_id, now=now)  # cancelled
        paid = holds.confirm_payment(session.pk, held[1].txn_id, gateway_order_id="ord_c", amount="25.00", now=now)
        assert paid.outcome == "paid"
        assert_stock_invariant(client, session.pk, item.pk)
        # The stock poll's and own counts' scripts build the stock and user keys themselves, in the slot.
        assert snapshot.read_snapshot(session.pk, now=now).remaining == {item.pk: 2}
        assert availability.own_counts(session.pk, user_id=shoppers[2].pk).units == {item.pk: 2}
        # The other three holds run out (expire_holds' batch is the next test's subject).
        assert not holds.release_hold(session.pk, held[2].txn_id, reason="expired", now=now + 59)  # not due yet
        for hold in held[2:]:
            assert holds.release_hold(session.pk, hold.txn_id, reason="expired", now=now + 61)
        figures = assert_stock_invariant(client, session.pk, item.pk)
        assert (figures["remaining"], figures["held"], figures["paid"]) == (8, 0, 2)

        assert drain_session(session.pk, batch_size=4) == 10  # 5 reserved, 1 cancelled, 1 paid, 3 expired
        rows = dict(Transaction.objects.filter(session=session).values_list("txn_id", "status"))
        assert rows == {
            held[0].txn_id: "cancelled",
            held[1].txn_id: "paid",
            **{h.txn_id: "expired" for h in held[2:]},
        }
        assert client.xlen(keys.stream(session.pk)) == 0

    # Redis lost one session: rebuilt from PostgreSQL, in one MULTI on its shard.
    session, item = sales[0]
    before = item_figures(client, session.pk, item.pk)
    unload_session(session.pk)
    assert not client.exists(keys.session(session.pk))
    report = rebuild_session(session.pk)
    assert not report.problems
    after = assert_stock_invariant(client, session.pk, item.pk)
    assert (after["remaining"], after["held"], after["paid"]) == (before["remaining"], before["held"], before["paid"])
    again = holds.reserve_units(session.pk, item.pk, user_id=users(1)[0].pk, quantity=2, txn_id=str(ULID()), now=now)
    assert len(again.units) == 2
    assert_stock_invariant(client, session.pk, item.pk)


def test_the_expiry_job_releases_due_holds_on_the_cluster(db, cluster_sale_redis, settings):
    """``expire_holds`` (the beat task's work) on a cluster: due holds go back, the others stay."""
    client = cluster_sale_redis
    settings.FLASHSALE_RESERVATION_TTL_SECONDS = 60
    session, item = sale_session(quantity=6, limit=1)
    load_session_into_redis(session)
    now = time.time()
    for user in users(4):
        holds.reserve_units(session.pk, item.pk, user_id=user.pk, quantity=1, txn_id=str(ULID()), now=now)
    late = users(1)[0]
    holds.reserve_units(session.pk, item.pk, user_id=late.pk, quantity=1, txn_id=str(ULID()), now=now + 30)

    assert holds.expire_holds(session.pk, now=now + 61) == 4
    figures = assert_stock_invariant(client, session.pk, item.pk)
    assert (figures["remaining"], figures["held"]) == (5, 1)
