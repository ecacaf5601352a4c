"""Fixtures of the reservation tests: a sale session loaded into the real Redis by plans.loading."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from plans.loading import load_session_into_redis
from tests.factories import make_item, make_product, make_session
from tests.support.sales import Sale


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


@pytest.fixture
def shopper(client, make_user):
    """A logged-in shopper's test client; ``shopper.user`` is their User."""
    user = make_user()
    client.force_login(user)
    client.user = user
    return client
