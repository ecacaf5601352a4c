"""Loading a session into Redis: the key layout, and loading twice gives the allocated stock once."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from flashsale.store import keys
from plans.exceptions import SessionNotLoadable
from plans.loading import load_session_into_redis, unload_session
from plans.models import SaleSession
from plans.stock import session_counts
from tests.factories import make_item, make_product, make_session

pytestmark = pytest.mark.django_db


def _s(value) -> str:
    return value.decode() if isinstance(value, bytes) else value


def test_load_writes_the_documented_layout(redis_conn, clock):
    session = make_session(opens_in=timedelta(minutes=5), name="Morning")
    product = make_product(city="Lyon", name="Lamp", list_price=Decimal("80.00"))
    item = make_item(session, product, quantity=3, sale_price=Decimal("39.90"), per_user_limit=2)

    result = load_session_into_redis(session)

    assert (result.items, result.units_pushed, result.units_allocated) == (1, 3, 3)
    sid = session.pk
    hash_ = {_s(k): _s(v) for k, v in redis_conn.hgetall(keys.session(sid)).items()}
    assert float(hash_["starts_at"]) == session.starts_at.timestamp()
    assert float(hash_["ends_at"]) == session.ends_at.timestamp()
    assert hash_["state"] == "loaded"
    assert hash_["name"] == "Morning"
    assert [_s(m) for m in redis_conn.zrange(keys.items(sid), 0, -1)] == [str(item.pk)]
    display = {_s(k): _s(v) for k, v in redis_conn.hgetall(keys.item(sid, item.pk)).items()}
    assert display["name"] == "Lamp"
    assert display["sale_price"] == "39.90"
    assert display["list_price"] == "80.00"
    assert display["per_user_limit"] == "2"
    assert display["place"] == "Lyon"
    assert display["product_id"] == str(product.pk)
    assert Decimal(display["latitude"]) == product.latitude
    assert [_s(u) for u in redis_conn.lrange(keys.stock(sid, item.pk), 0, -1)] == [
        f"{item.pk}:1",
        f"{item.pk}:2",
        f"{item.pk}:3",
    ]
    counts = {_s(k): int(v) for k, v in redis_conn.hgetall(keys.counts(sid, item.pk)).items()}
    assert counts["allocated"] == 3
    assert counts["adjusted"] == counts["held"] == counts["paid"] == counts["returned"] == 0
    assert counts["rejected_sold_out"] == counts["rejected_limit"] == 0
    assert int(redis_conn.hget(keys.loaded(sid), str(item.pk))) == 3
    assert redis_conn.geopos(keys.geo(sid), str(item.pk))[0] is not None
    assert redis_conn.zscore(keys.sessions_index(), str(sid)) == session.starts_at.timestamp()
    session.refresh_from_db()
    assert session.state == SaleSession.State.LOADED
    assert session.loaded_at == clock.now()


def test_loading_twice_gives_the_allocated_stock_once(redis_conn, clock):
    session = make_session(opens_in=timedelta(minutes=5))
    first = make_item(session, quantity=7)
    second = make_item(session, quantity=12_345)

    load_session_into_redis(session)
    again = load_session_into_redis(session)

    assert again.units_pushed == 0
    assert redis_conn.llen(keys.stock(session.pk, first.pk)) == 7
    assert redis_conn.llen(keys.stock(session.pk, second.pk)) == 12_345
    units = redis_conn.lrange(keys.stock(session.pk, second.pk), 0, -1)
    assert len(set(units)) == 12_345
    counts = session_counts(session.pk)
    assert counts[first.pk].remaining == 7 and counts[first.pk].allocated == 7
    assert counts[second.pk].balanced


def test_reload_refreshes_display_data_but_not_stock(redis_conn, clock):
    session = make_session(opens_in=timedelta(minutes=5))
    item = make_item(session, quantity=4, sale_price=Decimal("10.00"))
    load_session_into_redis(session)
    redis_conn.lpop(keys.stock(session.pk, item.pk))  # a shopper took one unit

    item.sale_price = Decimal("9.50")
    item.save(update_fields=["sale_price"])
    load_session_into_redis(session)

    assert _s(redis_conn.hget(keys.item(session.pk, item.pk), "sale_price")) == "9.50"
    assert redis_conn.llen(keys.stock(session.pk, item.pk)) == 3


def test_a_started_session_loads_live(redis_conn, clock):
    session = make_session(opens_in=timedelta(minutes=-1))
    make_item(session)
    assert load_session_into_redis(session).state == SaleSession.State.LIVE
    assert _s(redis_conn.hget(keys.session(session.pk), "state")) == "live"


@pytest.mark.parametrize(
    ("state", "opens_in", "with_item", "message"),
    [
        (SaleSession.State.CANCELLED, timedelta(minutes=5), True, "cancelled session cannot be loaded"),
        (SaleSession.State.SCHEDULED, timedelta(hours=-2), True, "window is already over"),
        (SaleSession.State.SCHEDULED, timedelta(minutes=5), False, "at least one item"),
    ],
)
def test_unloadable_sessions_are_refused(redis_conn, clock, state, opens_in, with_item, message):
    session = make_session(opens_in=opens_in, state=state)
    if with_item:
        make_item(session)
    with pytest.raises(SessionNotLoadable, match=message):
        load_session_into_redis(session)
    assert not redis_conn.exists(keys.session(session.pk))


def test_unload_removes_every_key(redis_conn, clock):
    session = make_session(opens_in=timedelta(minutes=5))
    make_item(session, quantity=3)
    make_item(session, quantity=2)
    load_session_into_redis(session)

    removed = unload_session(session.pk)

    assert removed >= 9
    assert list(redis_conn.scan_iter(match=keys.session_pattern(session.pk))) == []
    assert redis_conn.zscore(keys.sessions_index(), str(session.pk)) is None
