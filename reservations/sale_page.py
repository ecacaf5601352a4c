"""The sale page's HTML: the template renders the page around the cards once per variant, each request joins bytes.

Django's template engine costs about 300 µs for this page (inheritance, a dozen conditions, the
context processors), the same for every shopper who sees the same variant. So the page is
rendered once per process and ``SaleVariant`` (session load, phase, what the shopper may do
there) with a marker where each per-request value goes, split at the markers and encoded; each
request joins the pieces with its values (the card list is kept encoded too, so the response is
never encoded whole): the CSRF token, the instants and countdowns, the stock version, the
shopper's name and location, the city picker's selection and the cards (``reservations.cards``).
Like the other hot routes (``flashsale.hot_routes``) the page shows no ``django.contrib.messages``:
one waiting is shown by the next page that does.
"""

from __future__ import annotations

import functools
import secrets
from typing import Any, NamedTuple
from urllib.parse import quote

from django.conf import settings
from django.core.signals import setting_changed
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import mark_safe

from reservations import cards, pages
from reservations.admission import admission_required
from reservations.services import SaleVisit
from reservations.states import SalePhase

TEMPLATE = "reservations/sale.html"
# Shells kept per process; all are dropped beyond this many (a variant is a handful per session).
MAX_SHELLS = 1_000
# Brackets a per-request value's name while the shell renders: random per process, so no
# product, session or shopper name can contain it.
_MARK = f"\ue000{secrets.token_hex(8)}\ue001"


class SaleVariant(NamedTuple):
    """What decides the page's markup apart from per-request values: the key of its shell."""

    session_id: int
    loaded_at: str
    name: str
    starts: str  # the instants the page's script reads, as the template writes them
    ends: str
    phase: str
    logged_in: bool
    has_pass: bool
    admitted: bool
    on_turn: bool  # admitted for a turn that runs out: the page says how long it lasts
    location_is_city: bool
    has_name: bool
    has_cards: bool
    has_cities: bool


def variant_of(visit: SaleVisit, *, now: float) -> SaleVariant:
    snapshot = visit.snapshot
    return SaleVariant(
        session_id=snapshot.session_id,
        loaded_at=snapshot.loaded_at,
        name=snapshot.name,
        starts=f"{snapshot.starts_at:f}",
        ends=f"{snapshot.ends_at:f}",
        phase=snapshot.phase(now),
        logged_in=visit.logged_in,
        has_pass=visit.has_pass(now),
        admitted=visit.admitted(now),
        on_turn=_turn_ends(visit) > now,
        location_is_city=visit.location.source == "city",
        has_name=bool(visit.username),
        has_cards=bool(visit.shown.item_ids),
        has_cities=bool(visit.shown.cities),
    )


def _turn_ends(visit: SaleVisit) -> float:
    return visit.ticket.admitted_until if visit.ticket is not None and admission_required() else 0.0


def page_values(visit: SaleVisit, *, csrf_token: str, now: float) -> dict[str, bytes]:
    """The per-request values, escaped and encoded: what the shell's markers are replaced with."""
    snapshot, location = visit.snapshot, visit.location
    turn_ends = _turn_ends(visit)
    selected = location.name if location.source == "city" else None
    values = {
        "csrf_token": csrf_token,
        "server_now": f"{now:f}",
        "version": str(snapshot.version),
        "opens_in": pages.countdown_label(snapshot.starts_at - now),
        "ends_in": pages.countdown_label(snapshot.ends_at - now),
        "pass_until": f"{turn_ends:f}",
        "pass_left": pages.countdown_label(turn_ends - now),
        "pass_minutes": str(settings.FLASHSALE_ADMISSION_PASS_SECONDS // 60),
        "location_name": escape(location.name),
        "shopper_name": escape(visit.username),
        "city_options": pages.city_options(snapshot.session_id, visit.shown, selected=selected),
    }
    encoded = {name: value.encode() for name, value in values.items()}
    encoded["cards_html"] = visit.cards_html
    return encoded


@functools.lru_cache(maxsize=1024)
def page_urls(session_id: int) -> dict[str, str]:
    """The sale page's own links, reversed once per session and process (a reverse costs ~20 µs)."""
    sale = reverse("reservations-sale", args=[session_id])
    return {
        "sale": sale,
        "login_next": quote(sale, safe="/"),
        "stock": reverse("reservations-stock", args=[session_id]),
        "mine": reverse("reservations-mine-counts", args=[session_id]),
        "location": reverse("reservations-location", args=[session_id]),
        "captcha": reverse("reservations-captcha", args=[session_id]),
        "waiting": reverse("reservations-waiting", args=[session_id]),
        "reserve": reverse("reservations-reserve-chosen", args=[session_id]),
        "script": static("js/sale.js"),
        "captcha_script": static("js/captcha.js"),
    }


def page_context(variant: SaleVariant, markers: dict[str, str]) -> dict[str, Any]:
    """The template's context: the variant's fields, the page's links and a marker for each per-request value."""
    safe = {name: mark_safe(marker) for name, marker in markers.items()}  # noqa: S308  (no data in a marker)
    return {
        **variant._asdict(),
        "with_forms": variant.logged_in and variant.phase != SalePhase.ENDED,
        "shopper_nav": {"logged_in": variant.logged_in},
        "urls": page_urls(variant.session_id),
        "reserve_label_id": cards.RESERVE_LABEL_ID,
        **safe,
        "messages": (),
    }


class _Shell(NamedTuple):
    first: bytes
    rest: tuple[tuple[str, bytes], ...]  # (value name, the markup after it), UTF-8


_shells: dict[SaleVariant, _Shell] = {}


def _shell(request: Any, variant: SaleVariant, names: list[str]) -> _Shell:
    markers = {name: f"{_MARK}{name}{_MARK}" for name in names}
    html = render_to_string(TEMPLATE, page_context(variant, markers), request=request)
    pieces = html.split(_MARK)
    rest = zip(pieces[1::2], (piece.encode() for piece in pieces[2::2]), strict=True)
    return _Shell(pieces[0].encode(), tuple(rest))


def render_page(request: Any, variant: SaleVariant, values: dict[str, bytes]) -> bytes:
    """The page for ``variant`` with ``values`` in place: the template runs once per variant and process."""
    shell = _shells.get(variant)
    if shell is None:
        shell = _shell(request, variant, list(values))
        if len(_shells) >= MAX_SHELLS:
            _shells.clear()
        _shells[variant] = shell
    out = [shell.first]
    for name, markup in shell.rest:
        out.append(values[name])
        out.append(markup)
    return b"".join(out)


def forget_shells(**_kwargs: Any) -> None:
    """Drop every shell and link (a changed setting may change the markup: static URLs, the site's links)."""
    _shells.clear()
    page_urls.cache_clear()


setting_changed.connect(forget_shells, dispatch_uid="reservations.sale_page.forget_shells")
