"""Small factories shared by the tests of every app."""

from __future__ import annotations

import itertools
from datetime import timedelta
from decimal import Decimal

from catalog.models import Product, Provider
from flashsale import clock
from plans.models import SaleItem, SaleSession

_seq = itertools.count(1)

CITIES = {
    "Paris": (Decimal("48.856600"), Decimal("2.352200")),
    "Lyon": (Decimal("45.764000"), Decimal("4.835700")),
    "Berlin": (Decimal("52.520000"), Decimal("13.405000")),
    "Madrid": (Decimal("40.416800"), Decimal("-3.703800")),
    "Rome": (Decimal("41.902800"), Decimal("12.496400")),
    "Amsterdam": (Decimal("52.367600"), Decimal("4.904100")),
}


def make_provider(slug: str | None = None, **fields) -> Provider:
    n = next(_seq)
    slug = slug or f"provider-{n}"
    fields.setdefault("name", slug.replace("-", " ").title())
    return Provider.objects.create(slug=slug, **fields)


def make_product(provider: Provider | None = None, *, city: str = "Paris", **fields) -> Product:
    n = next(_seq)
    lat, lon = CITIES[city]
    fields.setdefault("external_id", f"ext-{n}")
    fields.setdefault("name", f"Product {n}")
    fields.setdefault("list_price", Decimal("100.00"))
    fields.setdefault("latitude", lat)
    fields.setdefault("longitude", lon)
    fields.setdefault("place", city)
    return Product.objects.create(provider=provider or make_provider(), **fields)


def make_session(*, opens_in: timedelta = timedelta(0), lasts: timedelta = timedelta(hours=1), **fields) -> SaleSession:
    starts = clock.now() + opens_in
    fields.setdefault("name", f"Session {next(_seq)}")
    return SaleSession.objects.create(starts_at=starts, ends_at=starts + lasts, **fields)


def make_item(session: SaleSession, product: Product | None = None, **fields) -> SaleItem:
    fields.setdefault("quantity", 10)
    fields.setdefault("sale_price", Decimal("49.90"))
    fields.setdefault("per_user_limit", 1)
    return SaleItem.objects.create(session=session, product=product or make_product(), **fields)


def make_staff(username: str, **fields):
    """A staff user with no usable password: tests sign in with ``force_login``, and skipping the hash
    keeps fixtures fast."""
    from django.contrib.auth import get_user_model

    user = get_user_model()(username=username, is_staff=True, **fields)
    user.set_unusable_password()
    user.save()
    return user


def make_operator(username: str = "operator"):
    """A staff user in the ``operators`` group (the sale operator's permissions, not a superuser's)."""
    from django.contrib.auth.models import Group

    user = make_staff(username)
    user.groups.add(Group.objects.get(name="operators"))
    return user


def load_live_session() -> tuple[SaleSession, SaleItem, SaleItem]:
    """A session open since a minute ago with two items (10 and 5 units), loaded into Redis."""
    from plans.loading import load_session_into_redis

    session = make_session(opens_in=timedelta(minutes=-1), name="Live now")
    first = make_item(session, quantity=10, display_order=0)
    second = make_item(session, quantity=5, display_order=1)
    load_session_into_redis(session)
    session.refresh_from_db()
    return session, first, second
