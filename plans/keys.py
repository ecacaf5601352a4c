"""The Redis key layout of a loaded sale session: one function per key.

Every key of one session carries the hash tag ``{s:ID}``, so each Lua script touches one
cluster slot and sessions spread over Redis Cluster shards. Nothing else in the code base
formats these names.

Layout (``ID`` = SaleSession.pk, ``I`` = SaleItem.pk, ``U`` = user id, ``T`` = TransactionID):

- ``session(ID)``      hash   id, name, starts_at, ends_at (epoch seconds, float), state, loaded_at
- ``items(ID)``        zset   item ids scored by display order
- ``item(ID, I)``      hash   display data: name, description, image_url, place, latitude, longitude,
                              sale_price, list_price, currency, per_user_limit, product_id
- ``geo(ID)``          geo    item ids at their product's location
- ``stock(ID, I)``     list   one element per unit still on sale ("<I>:<n>", unique per unit)
- ``counts(ID, I)``    hash   allocated, adjusted, held, paid, returned, rejected_sold_out,
                              rejected_limit, rejected_rate_limited, rejected_closed
- ``user(ID, U)``      hash   item id -> units the user holds or has paid in this session
- ``txn(ID, T)``       hash   user, item, units (JSON list), quantity, amount, currency, status,
                              reserved_at, expires_at, paid_at
- ``holds(ID)``        zset   TransactionID -> expiry (epoch seconds) of unpaid holds
- ``stream(ID)``       stream reservation events for the transaction drainer
- ``loaded(ID)``       hash   item id -> units loaded (makes loading idempotent)
- ``timeline(ID)``     hash   minute bucket (epoch // 60) -> reservations made in that minute
- ``sessions_index()`` zset   session id -> starts_at for the home page (no hash tag: not used by Lua)
"""

from __future__ import annotations

PREFIX = "fs"


def tag(session_id: int) -> str:
    return f"{PREFIX}:{{s:{session_id}}}"


def session(session_id: int) -> str:
    return f"{tag(session_id)}:session"


def items(session_id: int) -> str:
    return f"{tag(session_id)}:items"


def item(session_id: int, item_id: int) -> str:
    return f"{tag(session_id)}:item:{item_id}"


def geo(session_id: int) -> str:
    return f"{tag(session_id)}:geo"


def stock(session_id: int, item_id: int) -> str:
    return f"{tag(session_id)}:stock:{item_id}"


def counts(session_id: int, item_id: int) -> str:
    return f"{tag(session_id)}:counts:{item_id}"


def user(session_id: int, user_id: int) -> str:
    return f"{tag(session_id)}:user:{user_id}"


def txn(session_id: int, txn_id: str) -> str:
    return f"{tag(session_id)}:txn:{txn_id}"


def holds(session_id: int) -> str:
    return f"{tag(session_id)}:holds"


def stream(session_id: int) -> str:
    return f"{tag(session_id)}:stream"


def loaded(session_id: int) -> str:
    return f"{tag(session_id)}:loaded"


def timeline(session_id: int) -> str:
    return f"{tag(session_id)}:timeline"


def sessions_index() -> str:
    return f"{PREFIX}:sessions"
