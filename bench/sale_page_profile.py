"""Time the sale page in-process: ``python -m bench.sale_page_profile [--items 200] [--requests 300]``.

Seeds a live session of ``--items`` items (as the bench's sale-page scenario does), a logged-in
shopper with a CAPTCHA pass and a location, then times ``--requests`` GETs of the sale page with
Django's test client (no HTTP server, no wrk): the figure is the view's own cost per request.
Uses ``DATABASE_URL`` / ``REDIS_URL`` as they are (not the bench's databases); the rows and Redis
keys it writes are removed at the end (the
loaded session's rows stay: a loaded session cannot be deleted). ``--dump FILE`` writes the last page's HTML with the
per-request parts (CSRF tokens, server time) blanked, to compare the markup of two versions.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=200)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--dump", help="write the normalised HTML of the last page here")
    parser.add_argument("--profile", help="write a cProfile of the timed requests here")
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "flashsale.settings")
    import django

    django.setup()
    from django.conf import settings

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]

    from datetime import timedelta
    from decimal import Decimal

    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.urls import reverse

    from catalog.models import Product, Provider
    from flashsale import clock
    from plans.loading import load_session_into_redis, unload_session
    from plans.models import SaleItem, SaleSession
    from reservations.holds import reserve_units
    from reservations.shopper import ShopperSession

    # Where the shopper is: Paris; the products spread over a few hundred km around it.
    lat, lon = 48.8566, 2.3522
    now = clock.now()
    session = SaleSession.objects.create(
        name="Profile <sale>", starts_at=now - timedelta(minutes=1), ends_at=now + timedelta(hours=2)
    )
    provider, _ = Provider.objects.get_or_create(slug="profile", defaults={"name": "Profile provider"})
    products = Product.objects.bulk_create(
        Product(
            provider=provider,
            external_id=f"profile-{session.pk}-{n}",
            name=f"Product {n} & <friends>",
            description="A product on sale.",
            list_price=Decimal("100.00") if n % 5 else Decimal("20.00"),
            latitude=Decimal(f"{lat + ((n * 37) % 400 - 200) / 100:.6f}"),
            longitude=Decimal(f"{lon + ((n * 53) % 600 - 300) / 100:.6f}"),
            place=f"Town {n % 50}" if n % 7 else "",
            image_url=f"https://img.example/{n}.jpg" if n % 2 else "",
        )
        for n in range(args.items)
    )
    # A mix of per-user limits and stock levels, so every card state shows up.
    items = SaleItem.objects.bulk_create(
        SaleItem(
            session=session,
            product=product,
            quantity=1 if n % 17 == 0 else 100,
            sale_price=Decimal("49.90") if n % 3 else Decimal("1234.5"),
            per_user_limit=1 + n % 3,
            display_order=n,
        )
        for n, product in enumerate(products)
    )
    load_session_into_redis(session)
    user = get_user_model().objects.create_user(f"profile-{session.pk}", password="x")
    try:
        for n in range(0, len(items), 17):  # sold out to someone else
            reserve_units(session.pk, items[n].pk, user_id=10**9, quantity=1, txn_id=f"{n:026d}", now=clock.now())
        reserve_units(session.pk, items[1].pk, user_id=user.pk, quantity=1, txn_id="P" * 26, now=clock.now())
        reserve_units(session.pk, items[3].pk, user_id=user.pk, quantity=1, txn_id="Q" * 26, now=clock.now())
        client = Client()
        client.force_login(user)
        store = client.session
        ShopperSession(store).grant_captcha_pass(session.pk, now=clock.now_ts())
        store.save()
        client.post(
            reverse("reservations-location", args=[session.pk]),
            {"latitude": lat, "longitude": lon},
        )
        path = reverse("reservations-sale", args=[session.pk])
        for _ in range(args.warmup):
            response = client.get(path)
            assert response.status_code == 200, response.status_code
        timings = []
        profiler = None
        if args.profile:
            import cProfile

            profiler = cProfile.Profile()
            profiler.enable()
        for _ in range(args.requests):
            started = time.perf_counter()
            response = client.get(path)
            timings.append((time.perf_counter() - started) * 1000)
        if profiler:
            profiler.disable()
            profiler.dump_stats(args.profile)
        timings.sort()
        print(
            f"{args.items} items, {args.requests} requests: mean {statistics.fmean(timings):.2f} ms, "
            f"median {statistics.median(timings):.2f} ms, p90 {timings[int(len(timings) * 0.9)]:.2f} ms, "
            f"{len(response.content)} bytes"
        )
        if args.dump:
            html = response.content.decode()
            html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', 'name="csrfmiddlewaretoken" value=""', html)
            html = re.sub(r'data-server-now="[^"]*"', 'data-server-now=""', html)
            html = html.replace(f"/sessions/{session.pk}/", "/sessions/S/")
            for n, item in enumerate(items):
                html = html.replace(f'"{item.pk}"', f'"item{n}"').replace(f"/{item.pk}/", f"/item{n}/")
            with open(args.dump, "w") as out:
                out.write(html)
    finally:
        unload_session(session.pk)
        user.delete()


if __name__ == "__main__":
    main()
