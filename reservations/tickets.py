"""Reserve tickets: what a reserve request needs from a shopper's session, kept beside the sale.

A reserve request needs the user, the CAPTCHA and admission passes, the sale-page visit's
TransactionID and the location, all of which live in the shopper's Django session. Reading the
session first costs a Redis round trip and an unpickle before the reserve script can run, so the
site copies those fields into a small hash under the sale session's hash tag (``keys.ticket``)
and the reserve script reads it itself: one round trip decides (DESIGN.md, "the reserve request").

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
from collections.abc import Iterable, MutableMapping
from dataclasses import dataclass

from django.conf import settings

from plans import keys
from plans.redis import as_int, as_str, is_cluster, sale_redis
from reservations import captcha_gate, shopper
from reservations.admission import admission_expires_at


@dataclass(frozen=True)
class Ticket:
    """What the reserve script reads; passes are epoch seconds (0 = none)."""

    user_id: int
    captcha_until: float
    admitted_until: float
    visit_txn: str
    entered_at: float
    latitude: float
    longitude: float


def ticket_id(session_key: str) -> str:
    """A digest of the session key: ticket names do not reveal session keys to whoever lists keys."""
    return hashlib.blake2b(session_key.encode(), digest_size=16).hexdigest()


def ticket_key(session_id: int, session_key: str) -> str:
    return keys.ticket(session_id, ticket_id(session_key))


def lifetime_seconds() -> int:
    return int(settings.FLASHSALE_RESERVE_TICKET_SECONDS)


def ticket_from_session(session_data: MutableMapping, session_id: int, *, user_id: int, now: float) -> Ticket:
    """The ticket of a logged-in session for one sale session (mints the visit's TransactionID if none)."""
    entry = shopper.current_entry(session_data, session_id, now=now)
    location = shopper.current_location(session_data)
    return Ticket(
        user_id=user_id,
        captcha_until=captcha_gate.pass_expires_at(session_data, session_id) or 0.0,
        admitted_until=admission_expires_at(session_data, user_id, session_id, now=now) or 0.0,
        visit_txn=entry.txn_id,
        entered_at=entry.entered_at,
        latitude=location.latitude,
        longitude=location.longitude,
    )


def ticket_fields(ticket: Ticket) -> dict[str, str]:
    return {
        "user": str(ticket.user_id),
        "captcha_until": repr(float(ticket.captcha_until)),
        "admitted_until": repr(float(ticket.admitted_until)),
        "visit": ticket.visit_txn,
        "entered_at": repr(float(ticket.entered_at)),
        "lat": repr(float(ticket.latitude)),
        "lon": repr(float(ticket.longitude)),
    }


def store_ticket(session_key: str, session_id: int, ticket: Ticket, *, client=None) -> None:
    """Write (replace) the ticket of ``session_key`` for ``session_id``: one round trip."""
    store_tickets([(session_key, session_id, ticket)], client=client)


def store_tickets(entries: Iterable[tuple[str, int, Ticket]], *, client=None) -> None:
    """Write many ``(session key, session id, ticket)`` at once (one pipelined round trip)."""
    pipe = (client or sale_redis()).pipeline(transaction=False)
    lifetime = lifetime_seconds()
    for session_key, session_id, ticket in entries:
        key = ticket_key(session_id, session_key)
        # Every field is written each time, so HSET replaces the whole ticket.
        pipe.hset(key, mapping=ticket_fields(ticket))
        pipe.expire(key, lifetime)
    pipe.execute()


def refresh_ticket(
    session_key: str | None, session_data: MutableMapping, session_id: int, *, user_id, now
) -> Ticket | None:
    """Rewrite the ticket after the session changed (a sale-page visit, a new location); returns it.

    None for an anonymous shopper; a session without a key yet gets no ticket stored.
    """
    if user_id is None:
        return None
    ticket = ticket_from_session(session_data, session_id, user_id=user_id, now=now)
    if session_key:
        store_ticket(session_key, session_id, ticket)
    return ticket


def read_ticket(session_key: str, session_id: int) -> Ticket | None:
    raw = sale_redis().hgetall(ticket_key(session_id, session_key))
    if not raw:
        return None
    fields = {as_str(name): as_str(value) for name, value in raw.items()}
    return Ticket(
        user_id=as_int(fields["user"]),
        captcha_until=float(fields["captcha_until"]),
        admitted_until=float(fields["admitted_until"]),
        visit_txn=fields["visit"],
        entered_at=float(fields["entered_at"]),
        latitude=float(fields["lat"]),
        longitude=float(fields["lon"]),
    )


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
