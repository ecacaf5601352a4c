"""Which hot requests this process can answer from memory, before Django's handler runs.

Two requests make most of a sale's crowd and are answered from what the process already holds:

- the shared stock poll (``GET /sessions/<id>/stock.json``) while the session's snapshot is
  fresh (``reservations.snapshot``): 304 when ``If-None-Match`` names its ETag, else its body;
- a Reserve click on an item the sold-out memo holds (``reservations.sold_out``): the 409 page,
  on the item's own URL (``POST /sessions/<id>/items/<item>/reserve/``) and on the sale page's
  one form (``POST /sessions/<id>/reserve/``, the item named by a short form body).

Any other Reserve click is decided before the stack too (``flashsale.quick_reserve``): a new
hold gets the stack's recorded 303 (``WINNER``) with its own Location; every other decision is
handed to the stack in the environ (``DECISION``), whose view answers it without deciding again.

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
    target = reserve_target(path, environ)
    return None if target is None else sold_out_click(target, now=now)


@dataclass(frozen=True)
class ReserveTarget:
    """A Reserve click's route, sale and item, read from its path (and the sale page's short form)."""

    route: str
    session_id: int
    item_id: int

    @property
    def quantity_fields(self) -> tuple[str, ...]:
        """The form fields naming the quantity, in the order the route's view reads them."""
        return quantity_fields(self.route, self.item_id)


def quantity_fields(route: str, item_id: int) -> tuple[str, ...]:
    # The sale page's one form names each item's picker; an item's own form says "quantity".
    return (f"q{item_id}",) if route == CHOSEN_ROUTE else (f"q{item_id}", "quantity")


def reserve_target(path: str, environ: MutableMapping) -> ReserveTarget | None:
    """The click a POST to ``path`` is, or None (not a Reserve route, or a form Django must read)."""
    found = RESERVE_PATH.fullmatch(path)
    if found is not None:
        return ReserveTarget(RESERVE_ROUTE, int(found[1]), int(found[2]))
    found = CHOSEN_PATH.fullmatch(path)
    chosen = _chosen_item(environ) if found is not None else None
    if found is None or chosen is None:
        return None
    return ReserveTarget(CHOSEN_ROUTE, int(found[1]), chosen)


def sold_out_click(target: ReserveTarget, *, now: float) -> EarlyAnswer | None:
    """The sold-out page when the memo holds the clicked item, else None."""
    if sold_out.is_sold_out(target.session_id, target.item_id, now=now):
        return sold_out_answer(target.session_id, target.item_id, route=target.route)
    return None


def form_body(environ: MutableMapping, *, max_length: int) -> bytes | None:
    """A short plain form's body, read once and handed on to Django unchanged (as
    ``flashsale.chunked_bodies`` does); None for a longer body, another encoding or a bad length."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or "0")
    except ValueError:
        return None
    if not 0 <= length <= max_length or (length and environ.get("CONTENT_TYPE") != FORM):
        return None
    body = environ["wsgi.input"].read(length) if length else b""
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
    return body


def _chosen_item(environ: MutableMapping) -> int | None:
    """The item the sale page's form names (``item``, its last value, as ``request.POST`` reads it).

    Anything but a short plain form with a plain number goes to Django.
    """
    body = form_body(environ, max_length=MAX_CHOSEN_BODY)
    if not body:
        return None
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


# --- clicks decided before the stack (flashsale.quick_reserve) ----------------------------------

# A new hold's 303 to the gateway: the same for every winner but its Location (and request id).
WINNER = EarlyAnswer(RESERVE_ROUTE, ("reserved",))
# The WSGI environ key under which the hot routes hand the stack a click they decided before it.
# No request can set it: a WSGI server puts request headers under HTTP_* keys.
DECISION = "flashsale.reserve_decision"


@dataclass(frozen=True)
class Decision:
    """What a click got before the stack: a ``services`` outcome, ``services.TicketDeclined``,
    or the exception the store raised (the view raises it, so the stack answers it as before)."""

    outcome: object


def decision_of(request) -> object | None:
    """The decision the hot routes took for this request before the stack, or None (decide now)."""
    decision = request.META.pop(DECISION, None)  # read once: nothing of it stays in error reports
    if not isinstance(decision, Decision):
        return None
    if isinstance(decision.outcome, Exception):
        raise decision.outcome
    return decision.outcome
