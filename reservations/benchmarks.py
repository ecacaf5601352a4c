"""Measuring the waiting room at scale (the benchmark runs it; not part of the test suite).

python manage.py shell -c "from reservations.benchmarks import measure_waiting_room; print(measure_waiting_room())"
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal

from catalog.models import Product, Provider
from flashsale import clock
from plans.loading import load_session_into_redis, unload_session
from plans.models import SaleItem, SaleSession
from reservations.waiting_room import reset_waiting_room, simulate_admissions


def measure_waiting_room(shoppers: int = 5000, rate: int = 100) -> dict:
    """``shoppers`` wait for a session that opens half-way through two minutes of simulated time
    and are admitted at ``rate`` per second through the real Lua scripts.

    Returns ``{"value": admissions per second (mean while the queue was not empty), ...}`` with
    the largest single second, whether admissions kept the queue's order, and the wall-clock cost.
    Creates its own session and removes it (rows and Redis keys) afterwards.
    """
    tag = uuid.uuid4().hex[:12]
    provider = Provider.objects.create(name=f"Waiting benchmark {tag}", slug=f"bench-wait-{tag}")
    session = None
    try:
        product = Product.objects.create(
            provider=provider,
            external_id=tag,
            name="Waiting benchmark product",
            list_price=Decimal("10.00"),
            latitude=Decimal("48.8566"),
            longitude=Decimal("2.3522"),
            place="Paris",
        )
        starts_at = clock.now() + timedelta(minutes=1)
        session = SaleSession.objects.create(
            name=f"Waiting benchmark {tag}", starts_at=starts_at, ends_at=starts_at + timedelta(hours=1)
        )
        SaleItem.objects.create(session=session, product=product, quantity=shoppers, sale_price=Decimal("5.00"))
        load_session_into_redis(session)
        result = simulate_admissions(session.pk, shoppers=shoppers, rate=float(rate), seconds=120.0, seed=1)
        return {
            "value": result["admissions_per_second_mean"],
            "rate": rate,
            "shoppers": shoppers,
            "admitted": result["admitted"],
            "max_per_second": result["admissions_per_second_max"],
            "in_queue_order": result["admitted_in_queue_order"],
            "script_calls_per_wall_second": result["script_calls_per_wall_second"],
        }
    finally:
        if session is not None:
            reset_waiting_room(session.pk)
            unload_session(session.pk)
            SaleSession.objects.filter(pk=session.pk).update(state=SaleSession.State.DRAFT, loaded_at=None)
            SaleItem.objects.filter(session=session).delete()
            session.delete()
        Product.objects.filter(provider=provider).delete()
        provider.delete()
