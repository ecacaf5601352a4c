"""The sale page's product cards, rendered once per location cell and second, not once per request.

Shoppers standing within a few hundred metres of each other see the same order and the same
numbers, so the card list is kept per (session, cell, variant) and rebuilt only when the stock
snapshot it shows is replaced (at most once a second, ``reservations.snapshot``). What is a
shopper's own is put around it per request: the CSRF token (once, in the one form that holds
every card), and the cards of the few items the shopper already holds, rendered again with their
count. Distances are measured from the cell's centre (``reservations.availability.Cell``), so they
are right to about half a kilometre.

A card's static part (name, image, place, prices, limit, the reserve URL) is escaped once per
process per display data; Django's template engine costs several µs per tag, too much for 200 cards.
``static/js/sale.js`` and the tests rely on the ids, classes and data attributes written here:

- attribute values made of letters and digits only (ids, item ids) are written without quotes, as
  HTML allows: 4 bytes a card;
- the card's heading has the id ``n<item id>`` (``card_id``): scripts find the card by it, and the
  Reserve button's accessible name is "Reserve <product>" (``aria-labelledby`` names the page's one
  hidden "Reserve" text, ``RESERVE_LABEL_ID``, and the heading), a few bytes per card where the
  product's name again would cost its length;
- ``data-limit`` and "max N each" are written only for a limit above one (the script reads a missing
  one as 1; the page says once, above the cards, that a card without a limit means one unit);
- ``data-left`` holds the units left, ``data-yours`` the shopper's own, ``data-state`` the
  badge of a card that is not on sale (class ``sold-out``, ``limit`` or ``opens``).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.utils.formats import localize
from django.utils.html import escape

from reservations.display import ItemDisplay, SessionDisplay
from reservations.pages import countdown_label
from reservations.snapshot import StockSnapshot
from reservations.states import CardState, SalePhase

_STATE_BADGE = {
    CardState.ON_SALE: "on-sale",
    CardState.SOLD_OUT: "sold-out",
    CardState.ENDED: "sold-out",
    CardState.LIMIT: "limit",
    CardState.OPENS: "opens",
}
# The page's one hidden "Reserve" text, the first part of every Reserve button's accessible name.
RESERVE_LABEL_ID = "r"


def card_id(item_id: int) -> str:
    """The id of an item's card heading (``n<item id>``)."""
    return f"n{item_id}"


# Static card parts and card lists kept per process; each lot is dropped beyond this many.
MAX_STATIC_PARTS = 20_000
MAX_LISTS = 2_000
_ONE = Decimal(1)


@dataclass(frozen=True)
class CardView:
    """What one card shows a shopper (or anybody holding none of it): state, label, picker."""

    state: CardState
    label: str
    can_reserve: bool
    max_quantity: int


def card_view(
    item: ItemDisplay, *, remaining: int, held: int, phase: SalePhase, logged_in: bool, opens_in: float
) -> CardView:
    if phase == SalePhase.ENDED:
        return CardView(CardState.ENDED, "Sale ended", False, 0)
    if remaining <= 0:
        return CardView(CardState.SOLD_OUT, "Sold out", False, 0)
    if logged_in and held >= item.per_user_limit:
        return CardView(CardState.LIMIT, "Your limit reached", False, 0)
    if phase == SalePhase.UPCOMING:
        # While upcoming the shopper may pick up to their limit; the script has the last word.
        return CardView(CardState.OPENS, f"Opens in {countdown_label(opens_in)}", False, item.per_user_limit)
    can_take = max(0, min(item.per_user_limit - held, remaining))
    return CardView(CardState.ON_SALE, "On sale", True, max(1, can_take))


@dataclass(frozen=True)
class _StaticParts:
    head: str  # from the card's opening tag up to the place name
    price: str  # from the end of the place line to the remaining units
    limit: str  # after the remaining units
    button: str  # the reserve button's opening tag, up to its end
    picker: str  # the quantity picker's opening, "" for a fixed quantity of 1


_static: dict[tuple[int, ItemDisplay], _StaticParts] = {}
_options: dict[int, str] = {}


def _parts(session_id: int, item: ItemDisplay) -> _StaticParts:
    # Keyed by the display data itself (a frozen dataclass compares by value): an edit is never stale.
    key = (session_id, item)
    parts = _static.get(key)
    if parts is None:
        name = escape(item.name)
        # The name follows as the card's heading: the picture needs no text of its own.
        image = f'<img src="{escape(item.image_url)}" alt="" loading="lazy">' if item.image_url else ""
        list_price = f" <del>{localize(item.list_price)}</del>" if item.list_price else ""
        discount = item.discount_percent
        discount_html = f" <em>−{localize(discount)}%</em>" if discount else ""
        limit = localize(item.per_user_limit)
        limit_attribute = f" data-limit={item.per_user_limit}" if item.per_user_limit > 1 else ""
        heading = card_id(item.item_id)
        parts = _StaticParts(
            head=f"<article{limit_attribute}>{image}<h3 id={heading}>{name}</h3><p>{escape(item.place or '—')}",
            price=f"</p><p>{localize(item.sale_price)} {escape(item.currency)}{list_price}"
            f"{discount_html}</p><p><b data-left>",
            # One unit each is the rule the page states once above the cards; only other limits are repeated.
            limit=f"</b> left · max {limit} each" if item.per_user_limit > 1 else "</b> left",
            button=f'<button name=item value={item.item_id} aria-labelledby="{RESERVE_LABEL_ID} {heading}"',
            picker=f"<select name=q{item.item_id} aria-label=Units>" if item.per_user_limit > 1 else "",
        )
        if len(_static) >= MAX_STATIC_PARTS:
            _static.clear()
        _static[key] = parts
    return parts


def _picker_options(count: int) -> str:
    html = _options.get(count)
    if html is None:
        html = _options[count] = "".join(f"<option>{n}</option>" for n in range(1, count + 1))
    return html


def km(distance: float) -> str:
    """Whole kilometres, rounded half up from the float's shortest repr (the ``floatformat:0`` filter)."""
    return str(int(Decimal(repr(distance)).quantize(_ONE, rounding=ROUND_HALF_UP)))


def render_card(
    session_id: int,
    item: ItemDisplay,
    view: CardView,
    *,
    remaining: int,
    held: int,
    distance: float | None,
    forms: bool,
) -> str:
    """One card's HTML (escaped). ``forms``: the card gets its reserve button (the list is one form,
    posted to ``reservations-reserve-chosen`` with the button's ``item``; the picker is ``q<item id>``)."""
    parts = _parts(session_id, item)
    out = [parts.head]
    if distance is not None:
        out.append(f" · {km(distance)} km")
    out += [parts.price, str(remaining), parts.limit]
    if held:
        out.append(f" · you have <span data-yours>{held}</span>")
    # A card on sale says so with its button; a badge speaks for the other states only.
    if view.state != CardState.ON_SALE:
        out += [' <b class="', _STATE_BADGE[view.state], '" data-state>', escape(view.label), "</b>"]
    out.append("</p>")
    if forms:
        if parts.picker and view.max_quantity > 1:
            out += [parts.picker, _picker_options(view.max_quantity), "</select>"]
        out += [parts.button, "" if view.can_reserve else " disabled", ">Reserve</button>"]
    out.append("</article>")
    return "".join(out)


@dataclass(frozen=True)
class CardList:
    """Every card of a sale page in one cell's order, for a shopper who holds none of the items."""

    read_at: float  # the snapshot it shows
    parts: tuple[str, ...]
    position: dict[int, int]  # item id -> index in ``parts``
    html: bytes  # encoded once: the response is bytes, and 50 KB of text cost ~30 µs to encode


_lists: dict[tuple[int, str, bool, bool], CardList] = {}


def card_list(
    snapshot: StockSnapshot,
    shown: SessionDisplay,
    order: tuple[tuple[int, float | None], ...],
    *,
    cell_key: str,
    logged_in: bool,
    now: float,
) -> CardList:
    """The cards in ``order``, rendered once per snapshot, cell and variant (logged in or not)."""
    key = (snapshot.session_id, cell_key, logged_in, snapshot.phase(now) == SalePhase.ENDED)
    cached = _lists.get(key)
    if cached is not None and cached.read_at == snapshot.read_at:
        return cached
    phase = snapshot.phase(now)
    forms = logged_in and phase != SalePhase.ENDED
    opens_in = snapshot.starts_at - now
    parts: list[str] = []
    position: dict[int, int] = {}
    for item_id, distance in order:
        item = shown.items[item_id]
        remaining = snapshot.remaining.get(item_id, 0)
        view = card_view(item, remaining=remaining, held=0, phase=phase, logged_in=logged_in, opens_in=opens_in)
        position[item_id] = len(parts)
        parts.append(
            render_card(snapshot.session_id, item, view, remaining=remaining, held=0, distance=distance, forms=forms)
        )
    built = CardList(read_at=snapshot.read_at, parts=tuple(parts), position=position, html="".join(parts).encode())
    if len(_lists) >= MAX_LISTS:
        _lists.clear()
    _lists[key] = built
    return built


def personal_cards(
    cards: CardList,
    snapshot: StockSnapshot,
    shown: SessionDisplay,
    order: tuple[tuple[int, float | None], ...],
    *,
    own_counts: dict[int, int],
    now: float,
) -> bytes:
    """``cards`` with the cards of the items the shopper holds rendered again with their count (UTF-8)."""
    held = {item_id: units for item_id, units in own_counts.items() if units > 0 and item_id in cards.position}
    if not held:
        return cards.html
    distances = dict(order)
    phase = snapshot.phase(now)
    parts = list(cards.parts)
    for item_id, units in held.items():
        item = shown.items[item_id]
        remaining = snapshot.remaining.get(item_id, 0)
        view = card_view(
            item, remaining=remaining, held=units, phase=phase, logged_in=True, opens_in=snapshot.starts_at - now
        )
        parts[cards.position[item_id]] = render_card(
            snapshot.session_id,
            item,
            view,
            remaining=remaining,
            held=units,
            distance=distances.get(item_id),
            forms=phase != SalePhase.ENDED,
        )
    return "".join(parts).encode()


def forget_cards() -> None:
    _static.clear()
    _lists.clear()
