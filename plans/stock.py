"""Reading live stock figures of loaded sessions from Redis (admin list, live page, final counts).

Invariant of every loaded item (see ``flashsale.store.keys``): units in the list, held, paid, or on their way
back to the list account for every unit put on sale,
``remaining + held + paid + returning == allocated + adjusted``.
``returned`` counts units given back to the list so far (expired or cancelled holds); they are in
``remaining`` again, so they are shown but not added. ``returning`` is absent (0) unless units are
on their way back. An audit repair restores the invariant without changing either side's totals,
so it has no counter of its own (it is recorded as an Adjustment, see ``flashsale.store.keys``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from flashsale.store import keys
from flashsale.store.client import is_cluster, sale_redis
from flashsale.store.replies import as_int, text


class ItemCounts(NamedTuple):
    allocated: int
    adjusted: int
    remaining: int
    held: int
    paid: int
    returned: int
    rejected_sold_out: int
    rejected_limit: int
    rejected_rate_limited: int
    rejected_closed: int
    returning: int = 0

    @property
    def rejected(self) -> int:
        return self.rejected_sold_out + self.rejected_limit + self.rejected_rate_limited + self.rejected_closed

    @property
    def accounted(self) -> int:
        """Units the list, the holds, the payments and the returns in flight account for."""
        return self.remaining + self.held + self.paid + self.returning

    @property
    def on_sale(self) -> int:
        """Units the item may sell in total: allocated plus operators' adjustments."""
        return self.allocated + self.adjusted

    @property
    def balanced(self) -> bool:
        return self.accounted == self.on_sale

    def as_dict(self) -> dict[str, int]:
        data = self._asdict()
        data["rejected"] = self.rejected
        return data


def _counts_from(remaining, raw: dict) -> ItemCounts:
    values = {text(k): as_int(v) for k, v in raw.items()}
    return ItemCounts(
        allocated=values.get("allocated", 0),
        adjusted=values.get("adjusted", 0),
        remaining=as_int(remaining),
        held=values.get("held", 0),
        paid=values.get("paid", 0),
        returned=values.get("returned", 0),
        rejected_sold_out=values.get("rejected_sold_out", 0),
        rejected_limit=values.get("rejected_limit", 0),
        rejected_rate_limited=values.get("rejected_rate_limited", 0),
        rejected_closed=values.get("rejected_closed", 0),
        returning=values.get("returning", 0),
    )


def counts_for_items(pairs: Iterable[tuple[int, int]]) -> dict[tuple[int, int], ItemCounts]:
    """Counts of many (session id, item id) pairs in one pipelined round trip.

    On Redis Cluster a pipeline stays within one slot, so there is one per session instead.
    Pairs whose item has no counts hash (not loaded, or expired) are left out.
    """
    pairs = list(pairs)
    if not pairs:
        return {}
    groups = [pairs]
    if is_cluster():
        by_session: dict[int, list[tuple[int, int]]] = {}
        for pair in pairs:
            by_session.setdefault(pair[0], []).append(pair)
        groups = list(by_session.values())
    result = {}
    r = sale_redis()
    for group in groups:
        pipe = r.pipeline(transaction=False)
        for session_id, item_id in group:
            pipe.llen(keys.stock(session_id, item_id))
            pipe.hgetall(keys.counts(session_id, item_id))
        replies = pipe.execute()
        for index, pair in enumerate(group):
            remaining, raw = replies[2 * index], replies[2 * index + 1]
            if raw:
                result[pair] = _counts_from(remaining, raw)
    return result


def session_counts(session_id: int, item_ids: Iterable[int] | None = None) -> dict[int, ItemCounts]:
    """Item id -> counts of a loaded session; empty when the session is not in Redis.

    Without ``item_ids`` the items are those recorded in the session's ``loaded`` hash.
    """
    if item_ids is None:
        item_ids = [as_int(k) for k in sale_redis().hkeys(keys.loaded(session_id))]
    found = counts_for_items((session_id, item_id) for item_id in item_ids)
    return {item_id: counts for (_, item_id), counts in found.items()}


def session_totals(counts: Iterable[ItemCounts]) -> ItemCounts:
    """The sum of many items' counts (a session's totals)."""
    totals = [0] * len(ItemCounts._fields)
    for item_counts in counts:
        for index, value in enumerate(item_counts):
            totals[index] += value
    return ItemCounts(*totals)


def timeline(session_id: int) -> dict[int, int]:
    """Minute bucket (epoch seconds // 60) -> reservations made in that minute, sorted."""
    raw = sale_redis().hgetall(keys.timeline(session_id))
    return dict(sorted((as_int(k), as_int(v)) for k, v in raw.items()))
