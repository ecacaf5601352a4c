"""What the bench sells and who buys it: catalog rows, sale sessions, peer stock rows and shoppers.

Shoppers are created ahead of time with a logged-in Django session in the cache session store
(the auth keys, a CAPTCHA pass, a location) and a CSRF token, written as one
"<session key> <csrf token>" line each for wrk.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.contrib.auth.hashers import make_password
from django.core.cache import cache
from django.utils.crypto import get_random_string

from bench import hotpath
from catalog.models import Product, Provider
from flashsale import clock
from flashsale.auth import user_cache_key
from plans.models import SaleItem, SaleSession

if TYPE_CHECKING:
    from bench.models import PeerStock

# Where every bench shopper is (the sale page sorts items by distance from here): Paris.
SHOPPER_LATITUDE, SHOPPER_LONGITUDE = hotpath.SHOPPER_LATITUDE, hotpath.SHOPPER_LONGITUDE
# The decision-engine runs draw user ids from 10,000: a per-user limit there must never bind.
UNLIMITED_PER_USER = 1_000_000
BACKEND = "django.contrib.auth.backends.ModelBackend"
# Rows per INSERT and sessions per pipelined write.
WRITE_BATCH = 2000


@dataclass(frozen=True)
class Shopper:
    user_id: int
    session_key: str
    csrf_token: str


def bench_provider() -> Provider:
    provider, _ = Provider.objects.get_or_create(slug="bench", defaults={"name": "Bench provider"})
    return provider


def make_products(count: int, *, prefix: str) -> list[Product]:
    """Products spread over a few hundred km around Paris, so distances differ."""
    provider = bench_provider()
    products = [
        Product(
            provider=provider,
            external_id=f"{prefix}-{n}",
            name=f"{prefix.title()} product {n}",
            description="A product on sale in the benchmark.",
            list_price=Decimal("100.00"),
            latitude=Decimal(f"{SHOPPER_LATITUDE + ((n * 37) % 400 - 200) / 100:.6f}"),
            longitude=Decimal(f"{SHOPPER_LONGITUDE + ((n * 53) % 600 - 300) / 100:.6f}"),
            place=f"Town {n % 50}",
        )
        for n in range(count)
    ]
    return Product.objects.bulk_create(products)


def live_session(name: str, items: list[tuple[int, int]], *, load: bool = True) -> tuple[SaleSession, list[SaleItem]]:
    """A session open now for two hours with one item per (quantity, per-user limit), loaded into Redis.

    With ``load=False`` the quantities may still change (``load_with_quantity``) before loading.
    """
    now = clock.now()
    session = SaleSession.objects.create(
        name=name,
        starts_at=now - timedelta(minutes=1),
        ends_at=now + timedelta(hours=2),
        state=SaleSession.State.SCHEDULED,
    )
    products = make_products(len(items), prefix=f"{name}-s{session.pk}")
    sale_items = SaleItem.objects.bulk_create(
        SaleItem(
            session=session,
            product=product,
            quantity=quantity,
            sale_price=Decimal("49.90"),
            per_user_limit=limit,
            display_order=position,
        )
        for position, (product, (quantity, limit)) in enumerate(zip(products, items, strict=True))
    )
    if load:
        hotpath.load_session(session)
    return session, sale_items


def take_every_unit(session: SaleSession, item: SaleItem) -> None:
    """Reserve all of ``item``'s units (for bench users that do not exist): it is sold out from now on."""
    from reservations.holds import reserve_units

    for n in range(item.quantity):
        txn_id = f"SOLDOUT{session.pk:08d}{n:011d}"
        reserve_units(session.pk, item.pk, user_id=10**9 + n, quantity=1, txn_id=txn_id, now=clock.now())


def load_with_quantity(session: SaleSession, quantity: int) -> None:
    """Give every item of a not yet loaded session ``quantity`` units, then load it."""
    SaleItem.objects.filter(session=session).update(quantity=quantity)
    hotpath.load_session(session)


def peer_stock(name: str, units: int) -> PeerStock:
    # Imported here: the bench's own models exist only under bench.settings, and the other helpers
    # here (live_session) also serve measurements run under the site's settings (tests).
    from bench.models import PeerStock

    return PeerStock.objects.create(name=name, allocated=units, remaining=units)


def create_shoppers(count: int, *, prepare: Callable | None, sale_session_ids: list[int], path: Path) -> list[Shopper]:
    """``count`` logged-in users, their sessions filled by ``prepare`` (passes, location); writes the wrk file.

    Sessions are written straight into the session store's cache keys, many per round trip: they
    hold exactly what ``SessionStore`` would save (the cache backend stores the session dict).
    """
    User = get_user_model()
    password = make_password(get_random_string(24))  # hashed once: the shoppers never log in by form
    users = User.objects.bulk_create(
        (User(username=f"bench-shopper-{n:06d}", password=password, is_active=True) for n in range(count)),
        batch_size=WRITE_BATCH,
    )
    store_class = import_module(settings.SESSION_ENGINE).SessionStore
    shoppers = []
    for start in range(0, len(users), WRITE_BATCH):
        batch = users[start : start + WRITE_BATCH]
        sessions = {}
        tickets = []
        for user in batch:
            data = {
                SESSION_KEY: str(user.pk),
                BACKEND_SESSION_KEY: BACKEND,
                HASH_SESSION_KEY: user.get_session_auth_hash(),
            }
            # 128 random bits in hex, whose characters are valid in session keys and CSRF tokens
            # alike: get_random_string draws each character with a urandom call of its own,
            # which made these two strings about a third of the time it took to create shoppers.
            session_key = secrets.token_hex(16)
            if prepare is not None:
                tickets += prepare(
                    data,
                    user_id=user.pk,
                    session_key=session_key,
                    sale_session_ids=sale_session_ids,
                    latitude=SHOPPER_LATITUDE,
                    longitude=SHOPPER_LONGITUDE,
                )
            sessions[store_class.cache_key_prefix + session_key] = data
            shoppers.append(Shopper(user_id=user.pk, session_key=session_key, csrf_token=secrets.token_hex(16)))
        cache.set_many(sessions, settings.SESSION_COOKIE_AGE)
        # What each shopper's last visit of the sale pages wrote for the reserve request.
        hotpath.store_tickets(tickets)
        # request.user comes from the cache; warming it keeps even the first request free of SQL.
        cache.set_many({user_cache_key(user.pk): user for user in batch}, settings.FLASHSALE_USER_CACHE_TIMEOUT)
    _check_one_session(store_class, shoppers[0])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{s.session_key} {s.csrf_token}\n" for s in shoppers))
    return shoppers


def _check_one_session(store_class, shopper: Shopper) -> None:
    """The session store reads back what was written (a changed session format would show here)."""
    store = store_class(session_key=shopper.session_key)
    if store.get(SESSION_KEY) != str(shopper.user_id):
        raise RuntimeError("a bench shopper's session does not load through the session store")
