"""What the shopper pages ask of the domain, one function per request: they return outcomes, never HTTP.

``reserve_for_shopper`` is the reserve request: one Redis round trip when the shopper's ticket says
everything, else the Django session decides (and the ticket is stored afresh). Each outcome is a
small dataclass; ``reservations.views`` maps every one to its page or redirect in one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from reservations import availability, cards, display, holds, refusals, sold_out, tickets
from reservations.admission import admission_required
from reservations.checkout import checkout_url_for
from reservations.display import SessionDisplay
from reservations.holds import KnownShopper, Reservation, ReserveRequest, TicketHolder
from reservations.models import Transaction
from reservations.pages import countdown_label, status_words
from reservations.shopper import Entry, Location, ShopperSession, item_txn_id, location_of, new_visit
from reservations.snapshot import StockSnapshot, stock_snapshot
from reservations.states import ReservationStatus, SalePhase
from reservations.tickets import Ticket

# The largest quantity one reserve request may ask for (per-user limits are usually far lower).
MAX_QUANTITY = 1000


@dataclass(frozen=True)
class ReserveClick:
    """A Reserve button press as the view parsed it; ``quantity`` None when it was not understood."""

    session_id: int
    item_id: int
    quantity: int | None
    now: float
    session_key: str | None
    client_ip: str | None


# --- outcomes ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reserved:
    reservation: Reservation


@dataclass(frozen=True)
class Refused:
    rejection: refusals.ReservationRejected


@dataclass(frozen=True)
class LoginRequired:
    pass


@dataclass(frozen=True)
class CaptchaRequired:
    pass


@dataclass(frozen=True)
class AdmissionRequired:
    pass


@dataclass(frozen=True)
class InvalidQuantity:
    pass


@dataclass(frozen=True)
class NoSuchSale:
    pass


ReserveOutcome = Reserved | Refused | LoginRequired | CaptchaRequired | AdmissionRequired | InvalidQuantity | NoSuchSale


def parse_quantity(raw: str | None) -> int | None:
    """The requested units from the form (``"1"`` when absent); None when it is not 1..MAX_QUANTITY."""
    try:
        quantity = int(raw if raw is not None else "1")
    except ValueError:
        return None
    return quantity if 1 <= quantity <= MAX_QUANTITY else None


@dataclass(frozen=True)
class TicketDeclined:
    """The ticket could not decide the click (nothing was written): the session decides.

    ``keep_visit``: the ticket may hold the current visit, which a retry must reuse.
    """

    keep_visit: bool


def decide_by_ticket(click: ReserveClick) -> ReserveOutcome | TicketDeclined:
    """The click decided from the shopper's ticket alone: one EVALSHA, no session read.

    ``TicketDeclined`` when it cannot (no ticket, a pass missing from it, a bad quantity, a
    TransactionID that names another hold): nothing was changed then.
    """
    if not click.session_key or click.quantity is None:
        return TicketDeclined(keep_visit=True)
    request = ReserveRequest(
        session_id=click.session_id,
        item_id=click.item_id,
        quantity=click.quantity,
        now=click.now,
        shopper=TicketHolder(session_key=click.session_key, require_admission=admission_required()),
        client_ip=click.client_ip,
        rate_limits=holds.reserve_rate_limits(),
    )
    try:
        return Reserved(holds.reserve(request))
    except refusals.TicketNotAccepted as refused:
        # With no ticket at all there is no visit to keep either.
        return TicketDeclined(keep_visit=refused.reason != "no_ticket")
    except refusals.TransactionConflict:
        return TicketDeclined(keep_visit=True)  # the session renews the visit
    except refusals.ReservationRejected as rejected:
        return _refused(click, rejected)


def reserve_for_shopper(
    click: ReserveClick, shopper: ShopperSession, *, decided: ReserveOutcome | TicketDeclined | None = None
) -> ReserveOutcome:
    """Decide the click: from the ticket alone when it can (no session read), else from the session.

    ``shopper`` wraps the request's lazy session: it is only read on the fallback path. An item
    this process saw sold out less than a second ago is refused from memory (``reservations.sold_out``),
    before anything else: nobody is asked to log in or pass a check for units that are gone.
    ``decided``: what ``decide_by_ticket`` said of this click already (the hot routes decide a
    click before the middleware, ``flashsale.quick_reserve``): it is not asked again.
    """
    if decided is None:
        if sold_out.refuses(click.session_id, click.item_id, now=click.now):
            return Refused(_gone(click))
        decided = decide_by_ticket(click)
    if isinstance(decided, TicketDeclined):
        return _reserve_from_session(click, shopper, keep_visit=decided.keep_visit)
    return decided


def _gone(click: ReserveClick) -> refusals.SoldOut:
    return refusals.SoldOut(
        session_id=click.session_id, item_id=click.item_id, remaining=0, requested=click.quantity or 1
    )


def _refused(click: ReserveClick, rejected: refusals.ReservationRejected) -> Refused:
    if isinstance(rejected, refusals.SoldOut) and rejected.remaining == 0:
        sold_out.remember(click.session_id, click.item_id, now=click.now)
    return Refused(rejected)


def _reserve_from_session(click: ReserveClick, shopper: ShopperSession, *, keep_visit: bool) -> ReserveOutcome:
    """The ticket could not decide: read the session, say what is missing, or reserve and store a ticket.

    ``keep_visit``: a ticket may hold the current visit, which a retry must reuse (else a new one).
    """
    sid, now = click.session_id, click.now
    session_key = shopper.session_key
    if shopper.user_id is None or session_key is None:
        return LoginRequired()
    if not shopper.has_captcha_pass(sid, now=now):
        # Rare path, so one more read is fine: no CAPTCHA for a sale that is over or unknown.
        info = availability.session_info(sid)
        if info is None:
            return NoSuchSale()
        if info.phase(now) == SalePhase.ENDED:
            return Refused(refusals.SessionClosed(session_id=sid, item_id=click.item_id, ends_at=info.ends_at))
        return CaptchaRequired()
    if admission_required() and not shopper.is_admitted(sid, now=now):
        return AdmissionRequired()
    if click.quantity is None:
        return InvalidQuantity()
    visit = shopper.current_visit(sid, now=now) if keep_visit else new_visit(now=now)
    ticket = shopper.ticket(sid, now=now, visit=visit)
    request = ReserveRequest(
        session_id=sid,
        item_id=click.item_id,
        quantity=click.quantity,
        now=now,
        # One TransactionID per item and sale-page visit: a double submit replays it, and a
        # reservation needs no session write (the next visit of the sale page mints anew). The
        # script stores the ticket too, so the shopper's next click takes the one-round-trip path.
        shopper=KnownShopper(
            user_id=ticket.user_id,
            txn_id=item_txn_id(Entry(ticket.visit_txn, ticket.entered_at), click.item_id),
            entered_at=ticket.entered_at,
            latitude=ticket.latitude,
            longitude=ticket.longitude,
            ticket=(session_key, ticket),
        ),
        client_ip=click.client_ip,
        rate_limits=holds.reserve_rate_limits(),
    )
    try:
        return Reserved(holds.reserve(request))
    except refusals.TransactionConflict as conflict:
        shopper.refresh_ticket(sid, now=now)  # with a new visit: the next click gets a fresh TransactionID
        return Refused(conflict)
    except refusals.ReservationRejected as rejected:
        return _refused(click, rejected)


# --- the sale page -----------------------------------------------------------------------------


@dataclass(frozen=True)
class SaleVisit:
    """One visit of the sale page: what it shows this shopper, and the visit (TransactionID) it started."""

    snapshot: StockSnapshot
    shown: SessionDisplay
    location: Location
    cards_html: bytes  # UTF-8, as the response sends it
    entry: Entry
    ticket: Ticket | None  # None for a shopper who is not logged in
    username: str

    @property
    def logged_in(self) -> bool:
        return self.ticket is not None

    def has_pass(self, now: float) -> bool:
        return self.ticket is not None and now < self.ticket.captcha_until

    def admitted(self, now: float) -> bool:
        # The ticket carries the admission pass's expiry (checked, an HMAC, when it was written).
        return not admission_required() or (self.ticket is not None and now < self.ticket.admitted_until)


def visit_sale_page(
    session_id: int, shopper: ShopperSession, *, session_key: str | None, now: float
) -> SaleVisit | None:
    """The sale page for this shopper, nearest first from their location cell; None when the sale is not loaded.

    A shopper with a reserve ticket costs one round trip (``tickets.start_visit``: the new visit and
    their own counts) and no session read; the cards come from this process's card list for their
    cell (``reservations.cards``). Without a ticket the session is read and a ticket stored.
    """
    snapshot = stock_snapshot(session_id, now=now)
    if snapshot is None:
        return None
    shown = display.session_display(session_id, snapshot.loaded_at)
    entry = new_visit(now=now)
    started = tickets.start_visit(session_id, session_key, visit_txn=entry.txn_id, now=now) if session_key else None
    own_counts: dict[int, int] = {}
    if started is not None:
        ticket: Ticket | None = started.ticket
        location, own_counts, username = location_of(started.ticket), started.own_counts, started.ticket.username
    else:
        location, username = shopper.location(), shopper.username
        ticket = shopper.refresh_ticket(session_id, now=now, visit=entry)
        if ticket is not None:
            own_counts = tickets.own_counts_of(session_id, ticket.user_id)
    city = location.name if location.source == "city" else None
    cell = availability.location_cell(location.latitude, location.longitude, city=city)
    order = availability.nearest_first(session_id, shown, cell)
    listed = cards.card_list(snapshot, shown, order, cell_key=cell.key, logged_in=ticket is not None, now=now)
    html = cards.personal_cards(listed, snapshot, shown, order, own_counts=own_counts, now=now)
    return SaleVisit(
        snapshot=snapshot,
        shown=shown,
        location=location,
        cards_html=html,
        entry=entry,
        ticket=ticket,
        username=username,
    )


# --- the shopper's reservations ----------------------------------------------------------------


def shopper_reservations(user_id: int, *, now: float, limit: int = 200) -> list[dict[str, Any]]:
    """The shopper's reservations, newest first: PostgreSQL's rows overlaid with Redis's fresher state.

    Each row says its status in the shopper's words (``pages.status_words``) and offers what can be
    done next: pay and cancel a running hold, go back to a sale that is still on.
    """
    rows: dict[str, dict[str, Any]] = {}
    for txn in Transaction.objects.of_user(user_id).select_related("item__product", "session")[:limit]:
        rows[txn.txn_id] = {
            "txn_id": txn.txn_id,
            "session_id": txn.session_id,
            "session_name": txn.session.name,
            "item_name": txn.item.product.name,
            "quantity": txn.quantity,
            "amount": txn.amount,
            "currency": txn.currency,
            "status": txn.status,
            "reserved_at": txn.reserved_at,
            "expires_at": txn.expires_at.timestamp(),
        }
    for live in availability.user_reservations(user_id):
        stored = rows.get(live.txn_id, {})
        # A refund is made after the sale, in PostgreSQL only: Redis never learns of it.
        refunded = stored.get("status") == ReservationStatus.REFUNDED
        rows[live.txn_id] = {
            **stored,
            "txn_id": live.txn_id,
            "session_id": live.session_id,
            "session_name": live.session_name or stored.get("session_name", ""),
            "item_name": live.item_name,
            "quantity": live.quantity,
            "amount": live.amount,
            "currency": live.currency,
            "status": ReservationStatus.REFUNDED if refunded else live.status,
            "reserved_at": datetime.fromtimestamp(live.reserved_at, tz=UTC),
            "expires_at": live.expires_at,
            "pay_url": (
                checkout_url_for(live.as_reservation(), item_name=live.item_name, session_name=live.session_name)
                if live.status == ReservationStatus.RESERVED
                else ""
            ),
        }
    listing = sorted(rows.values(), key=lambda r: r["reserved_at"], reverse=True)
    open_sales = _open_sales({row["session_id"] for row in listing}, now=now)
    for row in listing:
        left = row["expires_at"] - now
        held = row["status"] == ReservationStatus.RESERVED
        if held and left <= 0:
            row["status"] = ReservationStatus.EXPIRED
        held = held and left > 0
        row["seconds_left"] = left if held else 0
        row["time_left"] = countdown_label(left) if held else ""
        row["pay_url"] = row.get("pay_url", "") if held else ""
        row["can_cancel"] = held
        row["sale_open"] = row["session_id"] in open_sales
        row["words"] = status_words(row["status"])
    return listing


def _open_sales(session_ids: set[int], *, now: float) -> set[int]:
    """The sessions among ``session_ids`` whose sale page still sells (loaded, not ended)."""
    loaded = set(availability.loaded_session_ids())
    infos = (availability.session_info(session_id) for session_id in session_ids & loaded)
    return {info.session_id for info in infos if info is not None and info.phase(now) != SalePhase.ENDED}


class CancelOutcome(StrEnum):
    """What a shopper's "Cancel" did."""

    CANCELLED = "cancelled"  # released now: its units are back on sale
    NOT_HELD = "not_held"  # paid, expired or cancelled before: nothing to give back
    NOT_FOUND = "not_found"  # no such reservation of this shopper in this sale


def cancel_reservation(user_id: int, session_id: int, txn_id: str, *, now: float) -> CancelOutcome:
    """Give a running hold back before it expires: the expiry's release path, exactly once.

    Only the shopper who holds it may; somebody else's reservation is ``NOT_FOUND``.
    """
    owner = holds.transaction_state(session_id, txn_id).get("user", "")
    if owner != str(user_id):
        return CancelOutcome.NOT_FOUND
    if holds.release_hold(session_id, txn_id, reason=ReservationStatus.CANCELLED, now=now):
        return CancelOutcome.CANCELLED
    return CancelOutcome.NOT_HELD


class UnknownCity(ValueError):
    """The city picked is not one of the sale's cities."""


def choose_location(
    session_id: int, shopper: ShopperSession, *, city: str, latitude: str | None, longitude: str | None, now: float
) -> Location:
    """Remember where the shopper is, from the city picker (``city``) or their device (lat/lon).

    Raises ``UnknownCity`` or ``InvalidLocation``; on success the reserve ticket carries it too.
    """
    if city:
        found = availability.city_location(session_id, city)
        if found is None:
            raise UnknownCity(city)
        location = shopper.remember_location(latitude=found[0], longitude=found[1], name=city, source="city")
    else:
        location = shopper.remember_location(
            latitude=latitude, longitude=longitude, name="Your location", source="device"
        )
    shopper.refresh_ticket(session_id, now=now)
    return location
