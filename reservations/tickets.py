"""Reserve tickets: what a reserve request needs from a shopper's session, kept beside the sale.

A reserve request needs the user, the CAPTCHA and admission passes, the sale-page visit's
TransactionID and the location, all of which live in the shopper's Django session. Reading the
session first costs a Redis round trip and an unpickle before the reserve script can run, so the
site copies those fields into a small hash under the sale session's hash tag (``keys.ticket``)
and the reserve script reads it itself: one round trip decides (docs/reservations.md, "the reserve
request"). ``reservations.shopper.ShopperSession`` builds tickets from the Django session; this
module stores, reads and deletes them. Functions take the sale's ``session_id`` first, then the
browser session's ``session_key``.

A ticket is a cache of the session that only the site writes, so it proves nothing the session
cookie does not: it is found by a digest of the session key. It is written on every sale-page
visit (which mints a new TransactionID) and location change, and by a reserve request that
found none or a stale one (the script says so and the view falls back to reading the session,
then stores a fresh ticket in the same script call). Deleting a Django session (log-out, a new
log-in, a password change) deletes its tickets at once (``flashsale.sessions``). A session that
simply expires leaves its tickets to their own TTL, ``FLASHSALE_RESERVE_TICKET_SECONDS``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings

from flashsale.store import keys
from flashsale.store.client import is_cluster, sale_redis
from flashsale.store.replies import as_int, decode_fields, decode_map, item_counts, text
from flashsale.store.scripts import lua_script
from reservations import funnel

SALE_VISIT = lua_script(Path(__file__).resolve().parent / "lua" / "sale_visit.lua")


@dataclass(frozen=True)
class Ticket:
    """What the reserve script and the sale page read; passes are epoch seconds (0 = none).

    ``place`` and ``place_source`` name the shopper's location (``reservations.shopper.Location``)
    and ``username`` is what the page header shows: the sale page of a shopper with a ticket reads
    the ticket alone, never the Django session.
    """

    user_id: int
    captcha_until: float
    admitted_until: float
    visit_txn: str
    entered_at: float
    latitude: float
    longitude: float
    place: str = ""
    place_source: str = "default"
    username: str = ""

    @classmethod
    def from_fields(cls, fields: dict[str, str]) -> Ticket:
        """From the ticket hash as ``ticket_fields`` writes it."""
        return cls(
            user_id=as_int(fields["user"]),
            captcha_until=float(fields["captcha_until"]),
            admitted_until=float(fields["admitted_until"]),
            visit_txn=fields["visit"],
            entered_at=float(fields["entered_at"]),
            latitude=float(fields["lat"]),
            longitude=float(fields["lon"]),
            place=fields.get("place", ""),
            place_source=fields.get("place_source", "default"),
            username=fields.get("username", ""),
        )


def ticket_id(session_key: str) -> str:
    """A digest of the session key: ticket names do not reveal session keys to whoever lists keys."""
    return hashlib.blake2b(session_key.encode(), digest_size=16).hexdigest()


def ticket_key(session_id: int, session_key: str) -> str:
    return keys.ticket(session_id, ticket_id(session_key))


def lifetime_seconds() -> int:
    return int(settings.FLASHSALE_RESERVE_TICKET_SECONDS)


def ticket_fields(ticket: Ticket) -> dict[str, str]:
    return {
        "user": str(ticket.user_id),
        "captcha_until": repr(float(ticket.captcha_until)),
        "admitted_until": repr(float(ticket.admitted_until)),
        "visit": ticket.visit_txn,
        "entered_at": repr(float(ticket.entered_at)),
        "lat": repr(float(ticket.latitude)),
        "lon": repr(float(ticket.longitude)),
        "place": ticket.place,
        "place_source": ticket.place_source,
        "username": ticket.username,
    }


def store_ticket(session_id: int, session_key: str, ticket: Ticket, *, client: Any = None) -> None:
    """Write (replace) the ticket of ``session_key`` for ``session_id``: one round trip."""
    store_tickets([(session_id, session_key, ticket)], client=client)


def store_tickets(entries: Iterable[tuple[int, str, Ticket]], *, client: Any = None) -> None:
    """Write many ``(session id, session key, ticket)`` at once (one pipelined round trip)."""
    pipe = (client or sale_redis()).pipeline(transaction=False)
    lifetime = lifetime_seconds()
    for session_id, session_key, ticket in entries:
        key = ticket_key(session_id, session_key)
        # Every field is written each time, so HSET replaces the whole ticket.
        pipe.hset(key, mapping=ticket_fields(ticket))
        pipe.expire(key, lifetime)
        # A ticket is written at a logged-in shopper's first sale-page visit: they count as a visitor.
        funnel.count_visitor(pipe, session_id, ticket.user_id)
    pipe.execute()


def read_ticket(session_id: int, session_key: str) -> Ticket | None:
    fields = decode_map(sale_redis().hgetall(ticket_key(session_id, session_key)))
    return Ticket.from_fields(fields) if fields else None


@dataclass(frozen=True)
class _VisitReply:
    ticket: list[Any]  # the ticket's fields, name, value, ...
    counts: list[Any]  # item id, units, ...


@dataclass(frozen=True)
class Visit:
    """A sale-page visit started from the ticket: the ticket (with its new visit) and the user's counts."""

    ticket: Ticket
    own_counts: dict[int, int]


def start_visit(session_id: int, session_key: str, *, visit_txn: str, now: float) -> Visit | None:
    """Record a new sale-page visit in the ticket and read the user's counts: one round trip.

    None when there is no ticket (the caller reads the Django session and stores one). The ticket's
    lifetime is not extended: it runs from the last time it was written from the Django session,
    so a ticket never outlives its session by more than ``FLASHSALE_RESERVE_TICKET_SECONDS``.
    """
    raw = SALE_VISIT(
        keys=[ticket_key(session_id, session_key)], args=[keys.user(session_id, ""), visit_txn, repr(float(now))]
    )
    if text(raw[0]) != "ok":
        return None
    reply = decode_fields(_VisitReply, raw[1:])
    fields = {text(k): text(v) for k, v in zip(reply.ticket[::2], reply.ticket[1::2], strict=True)}
    counts = item_counts(reply.counts)
    return Visit(ticket=Ticket.from_fields(fields), own_counts=counts)


def own_counts_of(session_id: int, user_id: int) -> dict[int, int]:
    """The user's units held or paid per item (the user hash)."""
    return item_counts(sale_redis().hgetall(keys.user(session_id, user_id)))


def forget_tickets(session_key: str) -> int:
    """Delete the tickets of ``session_key`` in every indexed sale session; returns how many existed."""
    client = sale_redis()
    session_ids = [as_int(member) for member in client.zrange(keys.sessions_index(), 0, -1)]
    names = [ticket_key(session_id, session_key) for session_id in session_ids]
    if not names:
        return 0
    if is_cluster():
        # Each name lives in its own session's slot: one DEL per name.
        return sum(client.delete(name) for name in names)
    return client.delete(*names)
