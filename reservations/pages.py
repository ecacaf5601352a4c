"""Turning Redis reads into what the shopper pages show: phases, item states, countdown labels."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import localize
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from plans.models import SaleSession
from plans.states import SessionState
from reservations.availability import ItemView, SalePage, SessionInfo, sessions_between
from reservations.display import ItemDisplay
from reservations.states import CardState, SalePhase


def countdown_label(seconds: float) -> str:
    """'2 h 05 min', '4 min 09 s', '12 s' (the JavaScript keeps it ticking)."""
    seconds = max(0, int(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    if minutes:
        return f"{minutes} min {secs:02d} s"
    return f"{secs} s"


@dataclass(frozen=True)
class ItemCard:
    item: ItemView
    state: CardState
    label: str
    can_reserve: bool
    max_quantity: int

    @property
    def quantity_choices(self) -> range:
        # While upcoming the shopper may pick up to their limit; the script has the last word.
        return range(1, max(1, self.max_quantity or self.item.per_user_limit) + 1)


def item_card(item: ItemView, session: SessionInfo, *, now: float, logged_in: bool) -> ItemCard:
    phase = session.phase(now)
    if phase == SalePhase.ENDED:
        return ItemCard(item, CardState.ENDED, "Sale ended", False, 0)
    if item.remaining <= 0:
        return ItemCard(item, CardState.SOLD_OUT, "Sold out", False, 0)
    if logged_in and item.held_by_user >= item.per_user_limit:
        return ItemCard(item, CardState.LIMIT, "Your limit reached", False, 0)
    if phase == SalePhase.UPCOMING:
        return ItemCard(item, CardState.OPENS, f"Opens in {countdown_label(session.starts_at - now)}", False, 0)
    return ItemCard(item, CardState.ON_SALE, "On sale", True, max(1, item.user_can_take))


def sale_cards(page: SalePage, *, now: float, logged_in: bool) -> list[ItemCard]:
    return [item_card(item, page.session, now=now, logged_in=logged_in) for item in page.items]


# --- the product cards' HTML ---------------------------------------------------------------------
#
# A sale page shows up to a few hundred cards and Django's template engine costs several µs per
# tag, so the cards are rendered here instead: the part of a card only a reload of the session can
# change (name, image, place, prices, limit, the reserve URL) is built and escaped once per process
# and kept, keyed by those very values, so an edit is never served stale; the rest (state, remaining
# units, the shopper's count, distance, CSRF token) is filled in per request. The markup is the one
# ``templates/reservations/sale.html`` used to produce with a loop; ``static/js/sale.js`` and the
# tests rely on its classes and data attributes.

_STATE_BADGE = {
    CardState.ON_SALE: "on-sale",
    CardState.SOLD_OUT: "sold-out",
    CardState.ENDED: "sold-out",
    CardState.LIMIT: "limit",
}
# Static card parts kept per process; the whole lot is dropped beyond this many.
_CARD_CACHE_MAX = 20_000
_ONE = Decimal(1)


@dataclass(frozen=True)
class _CardParts:
    head: str  # after the state class, up to the place name
    price: str  # from the end of the place line to the remaining units
    limit: str  # after the remaining units, up to the shopper's count
    form_open: str  # the reserve form's opening tag
    multi: bool  # a quantity picker rather than a fixed quantity of 1


_card_parts: dict[tuple, _CardParts] = {}
_quantity_options: dict[int, str] = {}
_labels: dict[str, str] = {}


def _parts_for(item: ItemDisplay, session_id: int) -> _CardParts:
    # Keyed by the display data itself (a frozen dataclass compares by value): an edit is never stale.
    key = (session_id, item)
    parts = _card_parts.get(key)
    if parts is None:
        name = escape(item.name)
        image = f'<img src="{escape(item.image_url)}" alt="{name}" loading="lazy">' if item.image_url else ""
        list_price = f" <del>{localize(item.list_price)}</del>" if item.list_price else ""
        discount = item.discount_percent
        discount_html = f' <span class="discount">−{localize(discount)}%</span>' if discount else ""
        limit = localize(item.per_user_limit)
        url = escape(reverse("reservations-reserve", args=[session_id, item.item_id]))
        parts = _CardParts(
            head=(
                f'" data-item="{localize(item.item_id)}" data-limit="{limit}">\n      {image}\n'
                f'      <h3>{name}</h3>\n      <p class="muted">{escape(item.place or "—")}'
            ),
            price=(
                f'</p>\n      <p class="price">{localize(item.sale_price)} {escape(item.currency)}'
                f"{list_price}{discount_html}</p>\n"
                '      <p><span class="remaining" data-remaining>'
            ),
            limit=f"</span> left · at most {limit} per shopper",
            form_open=f'\n      <form method="post" action="{url}" class="reserve-form">\n        ',
            multi=item.per_user_limit > 1,
        )
        if len(_card_parts) >= _CARD_CACHE_MAX:
            _card_parts.clear()
        _card_parts[key] = parts
    return parts


def _options(count: int) -> str:
    html = _quantity_options.get(count)
    if html is None:
        html = "".join(f'<option value="{n}">{n}</option>' for n in range(1, count + 1))
        _quantity_options[count] = html
    return html


def _escaped_label(label: str) -> str:
    # A handful of labels ("On sale", "Sold out", "Opens in 4 min 09 s"...) repeat over the cards.
    html = _labels.get(label)
    if html is None:
        if len(_labels) >= 1000:
            _labels.clear()
        html = _labels[label] = escape(label)
    return html


def _km(distance: float) -> str:
    # What the ``floatformat:0`` filter shows: rounded half up from the float's shortest repr.
    return str(int(Decimal(repr(distance)).quantize(_ONE, rounding=ROUND_HALF_UP)))


def city_options(cities: list[tuple[str, float, float]], *, selected: str | None) -> SafeString:
    """The city picker's ``<option>``s (escaped); ``selected`` is the chosen city's name, if any."""
    out = []
    for name, _lat, _lon in cities:
        value = escape(name)
        out.append(f'<option value="{value}"{" selected" if name == selected else ""}>{value}</option>')
    # Every value above went through escape().
    return mark_safe("".join(out))  # noqa: S308


def render_cards(cards: list[ItemCard], *, session_id: int, csrf_token: str, with_forms: bool) -> SafeString:
    """The product cards of the sale page, escaped; ``with_forms`` adds each card's reserve form.

    ``csrf_token`` is the page's token (``django.middleware.csrf.get_token``), in every form.
    """
    number = localize if settings.USE_THOUSAND_SEPARATOR else str
    csrf_input = f'<input type="hidden" name="csrfmiddlewaretoken" value="{escape(csrf_token)}">'
    fixed_quantity = '<input type="hidden" name="quantity" value="1">'
    out: list[str] = []
    append = out.append
    for card in cards:
        item = card.item
        parts = _parts_for(item.display, session_id)
        append('\n    <article class="card product state-')
        append(card.state.value)
        append(parts.head)
        if item.distance_km is not None:
            append(f' · <span class="distance">{_km(item.distance_km)} km</span> away')
        append(parts.price)
        append(number(item.remaining))
        append(parts.limit)
        if item.held_by_user:
            append(f" · you have <span data-yours>{number(item.held_by_user)}</span>")
        append('</p>\n      <p><span class="badge state ')
        append(_STATE_BADGE.get(card.state, ""))
        append('" data-state>')
        append(_escaped_label(card.label))
        append("</span></p>\n      ")
        if with_forms:
            append(parts.form_open)
            append(csrf_input)
            append("\n        ")
            if parts.multi:
                choices = card.quantity_choices
                append(
                    f'\n        <label>Units <select name="quantity">{_options(len(choices))}</select></label>\n        '
                )
            else:
                append(fixed_quantity)
            append('\n        <button class="button" data-reserve')
            append("" if card.can_reserve else " disabled")
            append(">Reserve</button>\n      </form>\n      ")
        append("\n    </article>\n    ")
    # Every value above went through escape() or is a number or markup written here.
    return mark_safe("".join(out))  # noqa: S308


@dataclass(frozen=True)
class HomeSessions:
    live: list[SessionInfo]
    upcoming: list[SessionInfo]
    ended: list[SessionInfo]


def todays_sessions(now: datetime) -> HomeSessions:
    """Loaded sessions overlapping today (in the site's time zone), by phase."""
    local = timezone.localtime(now)
    start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    end = start + timedelta(days=1)
    ts = now.timestamp()
    found = sessions_between(start.timestamp(), end.timestamp())
    loaded = {info.session_id for info in found}
    found += [info for info in scheduled_sessions(start, end) if info.session_id not in loaded]
    grouped: dict[str, list[SessionInfo]] = {phase.value: [] for phase in SalePhase}
    for info in found:
        grouped[info.phase(ts)].append(info)
    grouped[SalePhase.UPCOMING].sort(key=lambda s: s.starts_at)
    grouped[SalePhase.LIVE].sort(key=lambda s: s.ends_at)
    grouped[SalePhase.ENDED].sort(key=lambda s: s.ends_at, reverse=True)
    return HomeSessions(**grouped)


def scheduled_sessions(start: datetime, end: datetime) -> list[SessionInfo]:
    """Today's scheduled sessions not loaded into Redis yet (their sale page opens once loaded).

    Read from PostgreSQL at most once per ``FLASHSALE_HOME_SCHEDULE_CACHE_SECONDS`` for the whole
    site (the Redis cache holds the answer), so a crowd on the home page costs no SQL.
    """

    def read() -> list[SessionInfo]:
        rows = SaleSession.objects.filter(
            state=SaleSession.State.SCHEDULED, starts_at__lt=end, ends_at__gt=start
        ).values_list("pk", "name", "starts_at", "ends_at")
        return [
            SessionInfo(
                session_id=pk, name=name, starts_at=s.timestamp(), ends_at=e.timestamp(), state=SessionState.SCHEDULED
            )
            for pk, name, s, e in rows
        ]

    key = f"home:scheduled:{start:%Y-%m-%d}"
    found: list[SessionInfo] = cache.get_or_set(key, read, settings.FLASHSALE_HOME_SCHEDULE_CACHE_SECONDS) or []
    return found
