"""Product records as providers send them, for the catalog tests."""

from __future__ import annotations

import csv
import io
import json

CSV_FIELDS = ["external_id", "name", "description", "category", "price", "currency", "latitude", "longitude", "place"]


def product_record(n: int, **overrides) -> dict:
    record = {
        "external_id": f"sku-{n}",
        "name": f"Dinner for two #{n}",
        "description": "Three courses and a bottle of wine.",
        "category": "restaurant",
        "price": "89.00",
        "currency": "EUR",
        "latitude": 48.8519,
        "longitude": 2.3387,
        "place": "Paris",
        "image_url": f"https://picsum.photos/seed/sku-{n}/400/300",
    }
    record.update(overrides)
    return record


def as_json(records: list) -> bytes:
    return json.dumps(records).encode()


def as_csv(records: list[dict]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_FIELDS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(records)
    return out.getvalue().encode()
