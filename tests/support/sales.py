"""A loaded sale as the tests hold it, and an item's figures as Redis has them."""

from __future__ import annotations

from dataclasses import dataclass

from flashsale.store import keys
from flashsale.store.replies import as_int, as_str
from plans.models import SaleItem, SaleSession


@dataclass
class Sale:
    session: SaleSession
    items: list[SaleItem]

    @property
    def id(self) -> int:
        return self.session.pk

    @property
    def item(self) -> SaleItem:
        return self.items[0]


def item_figures(redis_conn, session_id: int, item_id: int) -> dict[str, int]:
    """The item's counts hash, plus ``remaining`` (the stock list's length)."""
    counts = {as_str(k): as_int(v) for k, v in redis_conn.hgetall(keys.counts(session_id, item_id)).items()}
    counts["remaining"] = redis_conn.llen(keys.stock(session_id, item_id))
    return counts
