"""Demo sale sessions around now: one live now, one opening in about half an hour, one later."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction

from catalog.models import Product
from flashsale import clock
from plans.loading import load_session_into_redis
from plans.models import SaleItem, SaleSession

log = logging.getLogger(__name__)
State = SaleSession.State

ITEMS_PER_SESSION = 20
DISCOUNT = Decimal("0.60")


@dataclass(frozen=True)
class DemoSlot:
    key: str
    name: str
    opens_in: timedelta
    lasts: timedelta


SLOTS = (
    DemoSlot("live", "Flash sale: live now", timedelta(minutes=-10), timedelta(hours=1)),
    DemoSlot("soon", "Flash sale: opening soon", timedelta(minutes=30), timedelta(hours=1)),
    DemoSlot("later", "Flash sale: later", timedelta(hours=3), timedelta(hours=1)),
)


def _marker(slot: DemoSlot) -> str:
    return f"demo:{slot.key}"


def _still_fits(session: SaleSession, slot: DemoSlot, now: datetime) -> bool:
    if session.state in {State.ENDED, State.CANCELLED}:
        return False
    if slot.key == "live":
        return session.starts_at <= now < session.ends_at
    return session.starts_at > now


def seed_demo_sessions(*, now: datetime | None = None) -> list[SaleSession]:
    """Create the demo sessions unless suitable ones exist, and load the live one into Redis.

    Idempotent: a demo session created earlier is reused while its window still fits its role
    (the live one still open, the others not yet started). Returns the three sessions, or an
    empty list when there are no active products to sell.
    """
    now = now or clock.now()
    products = list(Product.objects.filter(is_active=True).order_by("pk")[: ITEMS_PER_SESSION * len(SLOTS)])
    if not products:
        log.warning("no active products: demo sessions not created")
        return []
    sessions = []
    for index, slot in enumerate(SLOTS):
        # By window, not by calendar date: late in the day "later" starts tomorrow, and just after
        # midnight "live" started yesterday.
        existing = SaleSession.objects.filter(notes=_marker(slot), ends_at__gt=now).order_by("-pk")
        session = next((s for s in existing if _still_fits(s, slot, now)), None)
        if session is None:
            session = _create(slot, _pick(products, index), now)
        sessions.append(session)
    live = sessions[0]
    if live.state in {State.SCHEDULED, State.LOADED}:
        # Demo data is disposable: what an earlier demo database left under this id is replaced.
        load_session_into_redis(live, now=now, replace_foreign=True)
        live.refresh_from_db()
    return sessions


def _pick(products: list[Product], index: int) -> list[Product]:
    # Rotate through the products so sessions differ when there are enough of them; a product
    # appears at most once per session either way.
    count = min(ITEMS_PER_SESSION, len(products))
    start = (index * ITEMS_PER_SESSION) % len(products)
    return [products[(start + offset) % len(products)] for offset in range(count)]


@transaction.atomic
def _create(slot: DemoSlot, products: list[Product], now: datetime) -> SaleSession:
    starts_at = (now + slot.opens_in).replace(second=0, microsecond=0)
    session = SaleSession.objects.create(
        name=slot.name,
        starts_at=starts_at,
        ends_at=starts_at + slot.lasts,
        state=State.SCHEDULED,
        notes=_marker(slot),
    )
    SaleItem.objects.bulk_create(
        SaleItem(
            session=session,
            product=product,
            quantity=20 + (position * 37) % 180,
            sale_price=(product.list_price * DISCOUNT).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP),
            currency=product.currency,
            per_user_limit=1 + position % 3,
            display_order=position,
        )
        for position, product in enumerate(products)
    )
    return session


def seed_demo_plans() -> list[str]:
    """``seed_demo``'s plans step: the demo sessions, one line each for the command's summary."""
    return [
        f"sale session {s.pk}: {s.name}, {s.starts_at:%H:%M}–{s.ends_at:%H:%M} UTC, {s.get_state_display().lower()}"
        for s in seed_demo_sessions()
    ]
