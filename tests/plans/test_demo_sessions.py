"""The demo seeds three sessions for today (live, soon, later), idempotently, and loads the live one."""

from __future__ import annotations

import pytest

from flashsale.store import keys
from plans.demo import ITEMS_PER_SESSION, seed_demo_sessions
from plans.models import SaleSession
from tests.factories import make_product

pytestmark = pytest.mark.django_db
State = SaleSession.State


@pytest.mark.parametrize(
    "time_of_day", [None, (12, 0), (21, 45), (23, 58), (0, 3)], ids=["now", "12:00", "21:45", "23:58", "00:03"]
)
def test_seed_twice_creates_three_sessions_once(clock, redis_conn, time_of_day):
    if time_of_day is not None:
        # Windows cross midnight late and early in the day; the second seed must still find them.
        hour, minute = time_of_day
        clock.set(clock.now().replace(hour=hour, minute=minute, second=30))
    for n in range(25):
        make_product(city=["Paris", "Lyon", "Berlin"][n % 3])
    make_product(is_active=False)

    first = seed_demo_sessions()
    clock.advance(minutes=1)
    second = seed_demo_sessions()

    assert [s.pk for s in first] == [s.pk for s in second]
    assert SaleSession.objects.count() == 3
    live, soon, later = second
    assert live.state == State.LIVE and live.starts_at <= clock.now() < live.ends_at
    assert soon.state == State.SCHEDULED and soon.starts_at > clock.now()
    assert later.state == State.SCHEDULED and later.starts_at > soon.starts_at
    for session in second:
        products = list(session.items.values_list("product_id", flat=True))
        assert len(products) == ITEMS_PER_SESSION == len(set(products))
        assert not session.items.filter(product__is_active=False).exists()
    live_item = live.items.first()
    assert redis_conn.llen(keys.stock(live.pk, live_item.pk)) == live_item.quantity
    assert not redis_conn.exists(keys.session(soon.pk))


def test_no_products_no_sessions(clock):
    assert seed_demo_sessions() == []
    assert not SaleSession.objects.exists()
