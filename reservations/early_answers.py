"""Which hot requests this process can answer from memory, before Django's handler runs.

Two requests make most of a sale's crowd and are answered from what the process already holds:

- the shared stock poll (``GET /sessions/<id>/stock.json``) while the session's snapshot is
  fresh (``reservations.snapshot``): 304 when ``If-None-Match`` names its ETag, else its body;
- a Reserve click on an item the sold-out memo holds (``reservations.sold_out``): the 409 page,
  on the item's own URL (``POST /sessions/<id>/items/<item>/reserve/``) and on the sale page's
  one form (``POST /sessions/<id>/reserve/``, the item named by a short form body).

``predict`` says which answer a request will get (an ``EarlyAnswer``) from the WSGI environ alone;
the views mark the answer they built from memory with the same ``EarlyAnswer`` (``mark``). The hot
routes' WSGI application (``flashsale.hot_routes``) records the first such answer Django builds
and replays its bytes to the next requests predicted the same, as long as its ``source`` (the
snapshot) is still the current one. A stale snapshot, an expired memo or anything else goes to
Django, which reads Redis again as before.
"""

from __future__ import annotations

import io
import re
from collections.abc import MutableMapping
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from reservations import snapshot, sold_out

# The URL patterns of reservations/urls.py (``<int:...>`` is ``[0-9]+``), matched whole.
STOCK_PATH = re.compile(r"/sessions/([0-9]+)/stock\.json")
RESERVE_PATH = re.compile(r"/sessions/([0-9]+)/items/([0-9]+)/reserve/")
CHOSEN_PATH = re.compile(r"/sessions/([0-9]+)/reserve/")
STOCK_ROUTE = "reservations-stock"
RESERVE_ROUTE = "reservations-reserve"
CHOSEN_ROUTE = "reservations-reserve-chosen"
# The sale page's one form posts a few short fields; a larger body is left to Django.
MAX_CHOSEN_BODY = 1024
FORM = "application/x-www-form-urlencoded"
ITEM_ID = re.compile(r"[0-9]+")


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


def sold_out_answer(session_id: int, item_id: int, *, route: str = RESERVE_ROUTE) -> EarlyAnswer:
    # The 409 page is the session's, whichever item was clicked and through which form.
    return EarlyAnswer(route, ("sold_out", session_id), item_id=item_id)


def predict(method: str, path: str, environ: MutableMapping, *, now: float) -> EarlyAnswer | None:
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
    if method != "POST":
        return None
    found = RESERVE_PATH.fullmatch(path)
    if found is not None:
        session_id, item_id, route = int(found[1]), int(found[2]), RESERVE_ROUTE
    else:
        found = CHOSEN_PATH.fullmatch(path)
        chosen = _chosen_item(environ) if found is not None else None
        if found is None or chosen is None:
            return None
        session_id, item_id, route = int(found[1]), chosen, CHOSEN_ROUTE
    if sold_out.is_sold_out(session_id, item_id, now=now):
        return sold_out_answer(session_id, item_id, route=route)
    return None


def _chosen_item(environ: MutableMapping) -> int | None:
    """The item the sale page's form names (``item``, its last value, as ``request.POST`` reads it).

    The body is read here and handed on to Django unchanged, as ``flashsale.chunked_bodies`` does.
    Anything but a short plain form with a plain number goes to Django.
    """
    try:
        length = int(environ.get("CONTENT_LENGTH") or "")
    except ValueError:
        return None
    if environ.get("CONTENT_TYPE") != FORM or not 0 < length <= MAX_CHOSEN_BODY:
        return None
    body = environ["wsgi.input"].read(length)
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
    try:
        fields = parse_qsl(body.decode("ascii"), keep_blank_values=True)
    except (UnicodeDecodeError, ValueError):
        return None
    item = next((value for name, value in reversed(fields) if name == "item"), "")
    return int(item) if ITEM_ID.fullmatch(item) else None


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
