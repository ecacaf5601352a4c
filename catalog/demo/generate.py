"""Write the demo catalog files (deterministic: the same seed gives byte-identical files).

Run ``python -m catalog.demo.generate`` after changing the tables below.
"""

from __future__ import annotations

import csv
import io
import json
import random
from decimal import Decimal
from typing import Any

from catalog.demo import DEMO_DIR, FEED_DIR, MANIFEST, PUSH_DIR

SEED = 20261126

# City centres (degrees); products are scattered within about 3 km of them.
CITIES = {
    "Paris": (48.8566, 2.3522),
    "Lyon": (45.7640, 4.8357),
    "Berlin": (52.5200, 13.4050),
    "Madrid": (40.4168, -3.7038),
    "Rome": (41.9028, 12.4964),
    "Amsterdam": (52.3676, 4.9041),
    "Barcelona": (41.3874, 2.1686),
    "Lisbon": (38.7223, -9.1393),
    "Vienna": (48.2082, 16.3738),
    "Prague": (50.0755, 14.4378),
    "Milan": (45.4642, 9.1900),
    "Munich": (48.1351, 11.5820),
}

PROVIDERS: list[dict[str, Any]] = [
    {
        "slug": "city-escapes",
        "name": "City Escapes",
        "delivery": "push",
        "count": 100,
        "prefix": "ce",
        "offers": [
            (
                "hotel",
                "{adj} {noun} Hotel: 2 nights for two",
                ("Grand", "Little", "Old Town", "Riverside", "Garden", "Boutique"),
                ("Palace", "House", "Lodge", "Residence", "Suites"),
                (180, 520),
            ),
            (
                "hotel",
                "{adj} {noun}: weekend in a suite",
                ("Royal", "Hidden", "Skyline", "Artist's", "Quiet"),
                ("Loft", "Courtyard", "Atelier", "Terrace"),
                (240, 690),
            ),
            (
                "experience",
                "{adj} {noun} by night",
                ("Private", "Guided", "Electric", "Historic"),
                ("Bike Tour", "Boat Ride", "Walking Tour", "Rooftop Tour"),
                (35, 120),
            ),
        ],
    },
    {
        "slug": "gourmet-tables",
        "name": "Gourmet Tables",
        "delivery": "pull",
        "feed_format": "json",
        "sync_interval_minutes": 30,
        "count": 90,
        "prefix": "gt",
        "offers": [
            (
                "restaurant",
                "Tasting menu at {adj} {noun}",
                ("La Petite", "Casa", "Chez", "Osteria", "The Copper", "Bistro"),
                ("Table", "Cuisine", "Fourchette", "Forno", "Kitchen", "Mercado"),
                (59, 190),
            ),
            (
                "restaurant",
                "Brunch for two at {adj} {noun}",
                ("Sunny", "Corner", "Green", "Blue Door"),
                ("Café", "Bakery", "Deli", "Canteen"),
                (32, 75),
            ),
            (
                "wine",
                "{adj} wine tasting: {noun}",
                ("Natural", "Old World", "Sommelier's", "Cellar"),
                ("six glasses", "regional reds", "sparkling flight", "cheese pairing"),
                (29, 95),
            ),
        ],
    },
    {
        "slug": "urban-wellness",
        "name": "Urban Wellness",
        "delivery": "pull",
        "feed_format": "csv",
        "sync_interval_minutes": 60,
        "count": 80,
        "prefix": "uw",
        "offers": [
            (
                "spa",
                "{adj} {noun} day pass",
                ("Thermal", "Hammam", "Nordic", "Rooftop", "Zen"),
                ("Spa", "Baths", "Retreat", "Wellness Club"),
                (39, 140),
            ),
            (
                "massage",
                "{adj} massage, {noun}",
                ("Deep tissue", "Hot stone", "Thai", "Aromatherapy"),
                ("60 minutes", "90 minutes", "for two"),
                (55, 180),
            ),
            (
                "fitness",
                "{adj} {noun}: 10-class pass",
                ("Sunrise", "Urban", "Power", "Flow"),
                ("Yoga", "Pilates", "Boxing", "Spinning"),
                (69, 160),
            ),
        ],
    },
    {
        "slug": "live-tickets",
        "name": "Live Tickets",
        "delivery": "push",
        "count": 70,
        "prefix": "lt",
        "offers": [
            (
                "concert",
                "{adj} {noun}: two tickets",
                ("Jazz", "Chamber", "Indie", "Symphony", "Organ"),
                ("Night", "Evening", "Festival", "Sessions"),
                (40, 210),
            ),
            (
                "museum",
                "{adj} {noun} skip-the-line entry",
                ("Modern Art", "Natural History", "Design", "Photography"),
                ("Museum", "Gallery", "Collection"),
                (14, 45),
            ),
            (
                "show",
                "{adj} {noun} show",
                ("Comedy", "Cabaret", "Circus", "Magic"),
                ("Club", "Theatre", "Hall"),
                (25, 110),
            ),
        ],
    },
]

FIELDS = [
    "external_id",
    "name",
    "description",
    "category",
    "price",
    "currency",
    "latitude",
    "longitude",
    "place",
    "image_url",
]


def build() -> dict[str, list[dict]]:
    rng = random.Random(SEED)
    cities = list(CITIES)
    catalog: dict[str, list[dict]] = {}
    for provider in PROVIDERS:
        records = []
        for n in range(1, provider["count"] + 1):
            category, template, adjectives, nouns, (low, high) = rng.choice(provider["offers"])
            # Round-robin over cities so every provider covers every city.
            city = cities[(n - 1) % len(cities)]
            lat, lon = CITIES[city]
            external_id = f"{provider['prefix']}-{n:04d}"
            name = template.format(adj=rng.choice(adjectives), noun=rng.choice(nouns))
            price = Decimal(rng.randint(low * 100, high * 100)) / 100
            price = price.quantize(Decimal("1")) - Decimal("0.10") if price > 20 else price
            records.append(
                {
                    "external_id": external_id,
                    "name": f"{name} ({city})",
                    "description": f"{name} in {city}. Offered by {provider['name']}; valid for six months.",
                    "category": category,
                    "price": str(price),
                    "currency": "EUR",
                    "latitude": str(round(lat + rng.uniform(-0.027, 0.027), 6)),
                    "longitude": str(round(lon + rng.uniform(-0.04, 0.04), 6)),
                    "place": city,
                    "image_url": f"https://picsum.photos/seed/{external_id}/400/300",
                }
            )
        catalog[provider["slug"]] = records
    return catalog


def write() -> None:
    catalog = build()
    manifest = []
    for provider in PROVIDERS:
        records = catalog[provider["slug"]]
        entry = {"slug": provider["slug"], "name": provider["name"], "delivery": provider["delivery"]}
        if provider["delivery"] == "pull":
            fmt = provider["feed_format"]
            path = FEED_DIR / f"{provider['slug']}.{fmt}"
            entry.update(feed_format=fmt, sync_interval_minutes=provider["sync_interval_minutes"])
            path.write_text(_csv(records) if fmt == "csv" else json.dumps(records, indent=1) + "\n")
        else:
            path = PUSH_DIR / f"{provider['slug']}.json"
            path.write_text(json.dumps(records, indent=1) + "\n")
        entry["file"] = str(path.relative_to(DEMO_DIR))
        manifest.append(entry)
    MANIFEST.write_text(json.dumps(manifest, indent=2) + "\n")


def _csv(records: list[dict]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=FIELDS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(records)
    return out.getvalue()


if __name__ == "__main__":
    write()
