"""Which hot requests this process can answer from memory, before Django's handler runs.

Two requests make most of a sale's crowd and are answered from what the process already holds:

- the shared stock poll (``GET /sessions/<id>/stock.json``) while the session's snapshot is
  fresh (``reservations.snapshot``): 304 when ``If-None-Match`` names its ETag, else its body;
- a Reserve click on an item the sold-out memo holds (``POST /sessions/<id>/items/<item>/reserve/``,
  ``reservations.sold_out``): the 409 page.

``predict`` says which answer a request will get (an ``EarlyAnswer``) from the WSGI environ alone;
the views mark the answer they built from memory with the same ``EarlyAnswer`` (``mark``). The hot
routes' WSGI application (``flashsale.hot_routes``) records the first such answer Django builds
and replays its bytes to the next requests predicted the same, as long as its ``source`` (the
snapshot) is still the current one. A stale snapshot, an expired memo or anything else goes to
Django, which reads Redis again as before.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from reservations import snapshot, sold_out

# The URL patterns of reservations/urls.py (``<int:...>`` is ``[0-9]+``), matched whole.
STOCK_PATH = re.compile(r"/sessions/([0-9]+)/stock\.json")
RESERVE_PATH = re.compile(r"/sessions/([0-9]+)/items/([0-9]+)/reserve/")
STOCK_ROUTE = "reservations-stock"
RESERVE_ROUTE = "reservations-reserve"


@dataclass(frozen=True)
class EarlyAnswer:
    """An answer from memory: its route (for the request metrics), what it is keyed by, and the
    object it was built from (a snapshot; None for the sold-out page, which never changes)."""

    route: str
    key: tuple
    source: object = field(default=None, compare=False)
    item_id: int | None = field(default=None, compare=False)  # the refused item, counted on replay

    def same_as(self, other: object) -> bool:
        return isinstance(other, EarlyAnswer) and other.key == self.key and other.source is self.source


def stock_answer(current: snapshot.StockSnapshot, *, not_modified: bool) -> EarlyAnswer:
    return EarlyAnswer(STOCK_ROUTE, ("stock", current.session_id, not_modified), source=current)


def sold_out_answer(session_id: int, item_id: int) -> EarlyAnswer:
    # The 409 page is the session's, whichever item was clicked.
    return EarlyAnswer(RESERVE_ROUTE, ("sold_out", session_id), item_id=item_id)


def predict(method: str, path: str, environ: Mapping[str, object], *, now: float) -> EarlyAnswer | None:
    """The answer memory gives this request now, or None when Django must decide."""
    if method == "GET":
        found = STOCK_PATH.fullmatch(path)
        if found is None:
            return None
        current = snapshot.fresh_snapshot(int(found[1]), now=now)
        if current is None:
            return None
        given = environ.get("HTTP_IF_NONE_MATCH")
        return stock_answer(current, not_modified=isinstance(given, str) and snapshot.etag_matches(given, current.etag))
    if method == "POST":
        found = RESERVE_PATH.fullmatch(path)
        if found is None:
            return None
        session_id, item_id = int(found[1]), int(found[2])
        if sold_out.is_sold_out(session_id, item_id, now=now):
            return sold_out_answer(session_id, item_id)
    return None


def replayed(answer: EarlyAnswer) -> None:
    """What the view does besides answering, done for a replayed answer too."""
    if answer.item_id is not None:
        sold_out.count_refusal(answer.key[1], answer.item_id)


def mark(response, answer: EarlyAnswer):
    """The view built ``response`` from memory alone, as ``answer``: the hot routes may replay it."""
    response.early_answer = answer
    return response


def marked(response) -> EarlyAnswer | None:
    return getattr(response, "early_answer", None)
