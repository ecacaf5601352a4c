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

from catalog.demo import DEMO_DIR, FEED_DIR, IMAGE_DIR, MANIFEST, PUSH_DIR, SITE_PLACEHOLDER

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
                    "image_url": f"{SITE_PLACEHOLDER}/static/demo/{category}.svg",
                }
            )
        catalog[provider["slug"]] = records
    return catalog


# Each category's picture: a colour and a simple figure (SVG path data on a 400 x 300 canvas).
PICTURES = {
    "hotel": ("#2f5d8a", "M120 230V110l80-50 80 50v120H230v-60h-60v60z"),
    "experience": ("#7a4fb0", "M200 60l30 70 75 5-57 48 18 73-66-40-66 40 18-73-57-48 75-5z"),
    "restaurant": (
        "#b0502f",
        "M150 70v70c0 15 10 25 20 25v75h20V165c10 0 20-10 20-25V70h-12v60h-8V70h-12v60h-8V70zM250 70c-25 0-30 40-30 70h20v100h20V70z",
    ),
    "wine": ("#7b1f3a", "M165 70h70c5 50-5 85-30 95v55h30v15h-80v-15h30v-55c-25-10-35-45-20-95z"),
    "concert": ("#1f6f6f", "M170 210a25 20 0 1 1-1-4V90l100-25v120a25 20 0 1 1-1-4V95l-78 20z"),
    "show": (
        "#a3361f",
        "M110 90h180v20c0 60-40 110-90 110s-90-50-90-110zM160 140a12 12 0 1 0 1 0zM240 140a12 12 0 1 0 1 0zM160 180c20 25 60 25 80 0z",
    ),
    "museum": (
        "#5a5a2a",
        "M110 110l90-45 90 45zM125 120h20v90h-20zM175 120h20v90h-20zM225 120h20v90h-20zM255 120h20v90h-20zM110 215h180v15H110z",
    ),
    "massage": (
        "#2f7a55",
        "M200 80c40 30 40 80 0 140-40-60-40-110 0-140zM120 150c30 0 60 20 80 70-50 0-80-30-80-70zM280 150c-30 0-60 20-80 70 50 0 80-30 80-70z",
    ),
    "spa": (
        "#2a6f8f",
        "M140 200c-20-30 0-50 15-70 10 20 35 40 15 70zM200 200c-20-30 0-60 15-80 10 20 35 50 15 80zM260 200c-20-30 0-50 15-70 10 20 35 40 15 70zM110 215h180v12H110z",
    ),
    "fitness": ("#8a5a1f", "M110 135h20v-25h20v80h-20v-25h-20zM290 135h-20v-25h-20v80h20v-25h20zM150 143h100v14H150z"),
}


def picture(category: str) -> str:
    """A small SVG for a category: its colour, its figure and its name."""
    colour, figure = PICTURES[category]
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 400 300" width="400" height="300">'
        f'<rect width="400" height="300" fill="{colour}"/>'
        f'<path d="{figure}" fill="#fff" fill-opacity=".9"/>'
        '<text x="200" y="275" text-anchor="middle" font-family="sans-serif" font-size="22" fill="#fff">'
        f"{category.capitalize()}</text></svg>\n"
    )


def write_pictures() -> None:
    IMAGE_DIR.mkdir(parents=True, exist_ok=True)
    for category in PICTURES:
        (IMAGE_DIR / f"{category}.svg").write_text(picture(category))


def write() -> None:
    write_pictures()
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
