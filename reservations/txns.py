"""The txn hash as its readers see it: the reserve script's packed ``placed`` field spread out.

``reserve.lua`` writes what only the drainer and "my reservations" read (when the hold was made,
when the shopper arrived, where they stood, which key signed their token) as one field,
``placed`` = ``reserved_at|entered_at|latitude|longitude|kid``: each field of a new hash costs
Redis a search and a reallocation, on the one core that decides every reservation. Hashes
written field by field (a session rebuilt from PostgreSQL, holds made before the field existed)
read the same.
"""

from __future__ import annotations

PLACED = "placed"
PLACED_FIELDS = ("reserved_at", "entered_at", "latitude", "longitude", "kid")


def spread(stored: dict[str, str]) -> dict[str, str]:
    """``stored`` with ``placed`` replaced by its parts (an empty part is left out: not known)."""
    packed = stored.get(PLACED)
    if packed is None:
        return stored
    parts = packed.split("|", len(PLACED_FIELDS) - 1)
    fields = {name: value for name, value in zip(PLACED_FIELDS, parts, strict=False) if value}
    fields.update((name, value) for name, value in stored.items() if name != PLACED)
    return fields
