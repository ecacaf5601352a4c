"""Fixtures of the reservation tests: a sale session loaded into the real Redis by plans.loading."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from flashsale.store import keys
from flashsale.store.replies import as_str
from plans.loading import load_session_into_redis
from tests.factories import make_item, make_product, make_session
from tests.support.sales import Sale, item_figures  # noqa: F401  (re-exported to the suite's tests)


@pytest.fixture
def load_sale(db, clock):
    """``load_sale(quantities=[10], limit=1, opens_in=..., lasts=..., cities=[...])`` -> Sale."""

    def load(
        *,
        quantities=(10,),
        limit: int = 1,
        opens_in: timedelta = timedelta(0),
        lasts: timedelta = timedelta(hours=1),
        cities=None,
        price: Decimal = Decimal("49.90"),
    ) -> Sale:
        session = make_session(opens_in=opens_in, lasts=lasts)
        cities = cities or ["Paris"] * len(quantities)
        items = [
            make_item(
                session,
                make_product(city=city, list_price=Decimal("100.00")),
                quantity=quantity,
                per_user_limit=limit,
                sale_price=price,
                display_order=index,
            )
            for index, (quantity, city) in enumerate(zip(quantities, cities, strict=True))
        ]
        load_session_into_redis(session)
        return Sale(session=session, items=items)

    return load


def assert_stock_invariant(redis_conn, session_id: int, item_id: int) -> dict[str, int]:
    """remaining + held + paid == allocated + adjusted, and every unit is in exactly one place."""
    figures = item_figures(redis_conn, session_id, item_id)
    assert figures["remaining"] + figures["held"] + figures["paid"] == figures["allocated"] + figures["adjusted"], (
        figures
    )
    on_list = [as_str(u) for u in redis_conn.lrange(keys.stock(session_id, item_id), 0, -1)]
    assert len(on_list) == len(set(on_list)), "a unit is twice on the list"
    return figures


@pytest.fixture
def shopper(client, make_user):
    """A logged-in shopper's test client; ``shopper.user`` is their User."""
    user = make_user()
    client.force_login(user)
    client.user = user
    return client


def give_pass(client, session_id: int, *, now, admitted: bool = True) -> None:
    """What solving the CAPTCHA grants, written into the client's server-side session, and (unless
    ``admitted`` is False) the waiting room's admission pass that lets reserve requests through."""
    from flashsale.clock import as_timestamp
    from reservations.admission import pass_for_admission
    from reservations.shopper import ShopperSession

    store = client.session
    shopper = ShopperSession(store)
    shopper.grant_captcha_pass(session_id, now=as_timestamp(now))
    if admitted:
        admission = pass_for_admission(shopper.user_id, session_id, admitted_at=as_timestamp(now))
        shopper.store_admission_pass(session_id, admission)
    store.save()
