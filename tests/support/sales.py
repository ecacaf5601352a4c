"""A loaded sale as the tests hold it, an item's figures as Redis has them, and the stock invariant
every stock test ends with."""

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


def assert_stock_invariant(redis_conn, session_id: int, item_id: int) -> dict[str, int]:
    """remaining (LLEN stock) + held + paid == allocated + adjusted, no count below zero (nothing
    oversold), and every unit on the list once."""
    figures = item_figures(redis_conn, session_id, item_id)
    assert figures["remaining"] + figures["held"] + figures["paid"] == figures["allocated"] + figures["adjusted"], (
        figures
    )
    assert figures["held"] >= 0 and figures["paid"] >= 0 and figures["remaining"] >= 0, figures
    on_list = [as_str(u) for u in redis_conn.lrange(keys.stock(session_id, item_id), 0, -1)]
    assert len(on_list) == len(set(on_list)), "a unit is twice on the list"
    return figures
