"""How long loading a large session into Redis takes (``make bench``'s ``session_load_s``).

By hand: ``python -m bench session-load --items 1000 --units 10000``.
"""

from __future__ import annotations

import time
import uuid
from datetime import timedelta
from decimal import Decimal

from catalog.models import Product, Provider
from flashsale import clock
from plans.loading import load_session_into_redis, unload_session
from plans.models import SaleItem, SaleSession


def measure_session_load(items: int = 1000, units: int = 10000) -> float:
    """Seconds to load a fresh session of ``items`` items × ``units`` units each.

    Creates its own provider, products and session, and removes them and the session's Redis
    keys afterwards, whatever happens.
    """
    tag = uuid.uuid4().hex[:12]
    provider = Provider.objects.create(name=f"Load benchmark {tag}", slug=f"bench-load-{tag}")
    session = None
    try:
        products = Product.objects.bulk_create(
            Product(
                provider=provider,
                external_id=f"{tag}-{n}",
                name=f"Benchmark product {n}",
                list_price=Decimal("100.00"),
                latitude=Decimal("48.856600") + Decimal(n % 100) / 1000,
                longitude=Decimal("2.352200") + Decimal(n // 100) / 1000,
                place="Paris",
            )
            for n in range(items)
        )
        starts_at = clock.now() + timedelta(days=1)
        session = SaleSession.objects.create(
            name=f"Load benchmark {tag}", starts_at=starts_at, ends_at=starts_at + timedelta(hours=1)
        )
        SaleItem.objects.bulk_create(
            SaleItem(session=session, product=product, quantity=units, sale_price=Decimal("50.00"), display_order=n)
            for n, product in enumerate(products)
        )
        started = time.perf_counter()
        result = load_session_into_redis(session)
        elapsed = time.perf_counter() - started
        if result.units_pushed != items * units:
            raise RuntimeError(f"loaded {result.units_pushed} units, expected {items * units}")
        return elapsed
    finally:
        if session is not None:
            unload_session(session.pk)
            # Back to draft first: the model refuses to delete a loaded session.
            SaleSession.objects.filter(pk=session.pk).update(state=SaleSession.State.DRAFT, loaded_at=None)
            SaleItem.objects.filter(session=session).delete()
            SaleSession.objects.filter(pk=session.pk).delete()
        Product.objects.filter(provider=provider).delete()
        provider.delete()
