"""Publishing a sale session: copying it from PostgreSQL into Redis, idempotently, and removing it.

The key layout is the one in ``flashsale.store.keys``. Loading twice never doubles stock: the ``loaded``
hash records which items already have their units, and only items missing from it get units
pushed. Display data and the window are refreshed on every load.

Redis may hold another database's session under the same id (the database was recreated or
restored, a fresh install on an old Redis): the session's ``stamp`` key says whose it is. Such
data is replaced when its window is over (or on request), and refused while it may be live.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from django.db import transaction

from flashsale import clock
from flashsale.progress import NO_PROGRESS, Progress
from flashsale.store import keys
from flashsale.store.client import sale_redis
from flashsale.store.replies import as_int, decode_map, text
from flashsale.store.scripts import lua_script
from plans.exceptions import SessionNotLoadable
from plans.models import SaleItem, SaleSession

log = logging.getLogger(__name__)

EXPIRE_UNLESS_SET = lua_script(Path(__file__).resolve().parent / "lua" / "expire_unless_set.lua")

# Units per RPUSH command, and units per pipeline round trip: large enough that a 10,000-unit
# item is a couple of commands, small enough that one round trip stays a few MB.
UNITS_PER_COMMAND = 5000
UNITS_PER_ROUND_TRIP = 50_000
# Keys per SCAN page / per UNLINK or EXPIRE batch when sweeping a session's keys.
SWEEP_BATCH = 500

COUNT_FIELDS = (
    "allocated",
    "adjusted",
    "held",
    "paid",
    "returned",
    "rejected_sold_out",
    "rejected_limit",
    "rejected_rate_limited",
    "rejected_closed",
)

LOADABLE_STATES = {
    SaleSession.State.DRAFT,
    SaleSession.State.SCHEDULED,
    SaleSession.State.LOADED,
    SaleSession.State.LIVE,
}


@dataclass(frozen=True)
class LoadResult:
    session_id: int
    state: str
    items: int
    items_pushed: int
    units_pushed: int
    units_allocated: int
    replaced: str = ""  # what another database had left under this session id, now replaced

    def describe(self) -> str:
        already = self.items - self.items_pushed
        text = (
            f"session {self.session_id}: {self.items} items, {self.units_allocated} units allocated; "
            f"pushed {self.units_pushed} units for {self.items_pushed} items"
        )
        if already:
            text += f", {already} items already loaded"
        if self.replaced:
            text += f"; replaced {self.replaced}"
        return f"{text}; state {self.state}"


def session_stamp(session: SaleSession) -> str:
    """Whose session this is: the row's creation instant, which a recreated database does not repeat."""
    return session.created_at.isoformat()


def unit_id(item_id: int, n: int) -> str:
    """The id of one unit on sale: unique per item, numbered from 1."""
    return f"{item_id}:{n}"


def item_display_data(item: SaleItem) -> dict[str, str]:
    product = item.product
    # The reserve script's fields first: a new hash keeps this order, and HMGET searches it from the start.
    return {
        "per_user_limit": str(item.per_user_limit),
        "sale_price": str(item.sale_price),
        "currency": item.currency,
        "name": product.name,
        "description": product.description,
        "image_url": product.image_url,
        "place": product.place,
        "latitude": str(product.latitude),
        "longitude": str(product.longitude),
        "list_price": str(product.list_price),
        "product_id": str(product.pk),
    }


def redis_state_for(session: SaleSession, now: datetime) -> str:
    """The state a loaded session has at ``now``: live inside its window, loaded before it."""
    if session.state == SaleSession.State.LIVE or session.starts_at <= now:
        return SaleSession.State.LIVE
    return SaleSession.State.LOADED


def load_session_into_redis(
    session: SaleSession,
    *,
    now: datetime | None = None,
    replace_foreign: bool = False,
    progress: Progress = NO_PROGRESS,
) -> LoadResult:
    """Copy ``session`` into Redis; safe to call again (refreshes display data and the window).

    Raises ``SessionNotLoadable`` for a cancelled or ended session, one whose window is over,
    one without items, or when Redis holds another database's session under this id that may
    still be live (``replace_foreign=True`` replaces it anyway). Moves the session to ``loaded``
    (or ``live`` once it has started).
    """
    now = now or clock.now()
    with transaction.atomic():
        # The row lock serialises concurrent loaders (beat tick and an operator's click), so
        # the read of ``loaded`` and the pushes that follow it cannot interleave.
        session = SaleSession.objects.select_for_update().get(pk=session.pk)
        _check_loadable(session, now)
        items = list(session.items.select_related("product").order_by("display_order", "id"))
        if not items:
            raise SessionNotLoadable(
                "A session needs at least one item before it can be loaded.",
                session_id=session.pk,
                state=session.state,
            )
        state = redis_state_for(session, now)
        r = sale_redis()
        sid = session.pk
        replaced = _claim_session_id(r, session, now, replace_foreign=replace_foreign)
        # Written first: from here on a crashed load's leftovers are known as this database's.
        r.set(keys.stamp(sid), session_stamp(session))
        already = {as_int(k) for k in r.hkeys(keys.loaded(sid))}

        _write_display_data(r, sid, items)
        to_push = [item for item in items if item.pk not in already]
        units_pushed = _push_stock(r, sid, to_push, progress=progress)
        _publish(r, session, state=state, now=now)

        session.state = state
        session.loaded_at = now
        session.save(update_fields=["state", "loaded_at", "updated_at"])

    result = LoadResult(
        session_id=sid,
        state=state,
        items=len(items),
        items_pushed=len(to_push),
        units_pushed=units_pushed,
        units_allocated=sum(item.quantity for item in items),
        replaced=replaced,
    )
    log.info("loaded %s", result.describe())
    return result


def _publish(r, session: SaleSession, *, state: str, now: datetime) -> None:
    """Write the session hash and index it: last, so on a first load the reserve script finds no
    session (and refuses) until every unit is in place."""
    sid = session.pk
    window = {
        "starts_at": repr(session.starts_at.timestamp()),
        "ends_at": repr(session.ends_at.timestamp()),
        "state": state,
    }
    # One transaction (one slot): every item hash carries a copy of the window and state, which
    # the reserve script reads with the item's own fields in one call (see _write_window).
    pipe = r.pipeline(transaction=True)
    _write_window(r, pipe, sid, window)
    pipe.hset(
        keys.session(sid),
        mapping={"id": str(sid), "name": session.name, **window, "loaded_at": repr(now.timestamp())},
    )
    # A (re)load can change every item's stock: the stock poll's snapshots must see a new version.
    # A session hash written afresh (a first load, or a rebuild after Redis lost its data) starts
    # counting from the wall clock in microseconds: above any version an earlier hash of the same
    # session reached (that needs more than a million changes a second), so open pages and caches
    # holding an old version keep taking the new snapshots (safe in a JS number until 2255).
    pipe.hsetnx(keys.session(sid), "stock_version", time.time_ns() // 1000)
    pipe.hincrby(keys.session(sid), "stock_version", 1)
    pipe.execute()
    # Not in a pipeline with the session's keys: the index has no hash tag (another slot).
    r.zadd(keys.sessions_index(), {str(sid): session.starts_at.timestamp()})


def _claim_session_id(r, session: SaleSession, now: datetime, *, replace_foreign: bool) -> str:
    """Make sure the session's keys in Redis are this database's; returns what was replaced ('' if nothing).

    No stamp but data: a load made before stamps existed; it is ours if this database says the
    session was loaded. Another database's session is replaced when its window is over (or
    ``replace_foreign``), and refused while it may be live: it may be another site's sale.
    """
    sid = session.pk
    found = text(r.get(keys.stamp(sid)))
    if found == session_stamp(session):
        return ""
    if not r.exists(keys.session(sid), keys.loaded(sid)):
        return ""  # nothing there (a stamp alone is harmless): a first load
    if not found and session.loaded_at is not None:
        return ""
    theirs = decode_map(r.hgetall(keys.session(sid)))
    ends_at = float(theirs.get("ends_at") or 0)
    what = (
        f"another database's session {sid} ({theirs.get('name') or 'partly loaded'!r}"
        + (f", open until {datetime.fromtimestamp(ends_at, tz=now.tzinfo).isoformat()}" if ends_at else "")
        + ")"
    )
    if ends_at > now.timestamp() and not replace_foreign:
        raise SessionNotLoadable(
            f"Redis already holds {what}, which may still be live: not loaded, nothing changed. If that data is "
            f"stale (this database was recreated or restored), replace it: manage.py load_session {sid} --replace-foreign",
            session_id=sid,
            state=session.state,
        )
    removed = unload_session(sid)
    log.warning("session %s: replaced %s (%d keys removed)", sid, what, removed)
    return what


def _check_loadable(session: SaleSession, now: datetime) -> None:
    if session.state not in LOADABLE_STATES:
        raise SessionNotLoadable(
            f"A {session.get_state_display().lower()} session cannot be loaded.",
            session_id=session.pk,
            state=session.state,
        )
    if session.ends_at <= now:
        raise SessionNotLoadable(
            "The session's window is already over; it cannot be loaded.",
            session_id=session.pk,
            state=session.state,
        )


def _write_display_data(r, sid: int, items: list[SaleItem]) -> None:
    pipe = r.pipeline(transaction=False)
    for position, item in enumerate(items):
        pipe.hset(keys.item(sid, item.pk), mapping=item_display_data(item))
        pipe.zadd(keys.items(sid), {str(item.pk): position})
        pipe.geoadd(keys.geo(sid), [float(item.product.longitude), float(item.product.latitude), str(item.pk)])
    pipe.execute()


def _push_stock(r, sid: int, items: list[SaleItem], *, progress: Progress = NO_PROGRESS) -> int:
    """Push every unit of ``items`` (none of them in ``loaded`` yet); returns the units pushed."""
    progress.start(f"session {sid}: units", sum(item.quantity for item in items), unit="units")
    pushed = 0
    pending = 0
    pipe = r.pipeline(transaction=False)
    for item in items:
        # A list left by a load that crashed half-way is discarded: the item was never marked
        # loaded, so no shopper could have taken a unit from it.
        pipe.delete(keys.stock(sid, item.pk))
        for start in range(1, item.quantity + 1, UNITS_PER_COMMAND):
            stop = min(start + UNITS_PER_COMMAND, item.quantity + 1)
            pipe.rpush(keys.stock(sid, item.pk), *(unit_id(item.pk, n) for n in range(start, stop)))
            pending += stop - start
            if pending >= UNITS_PER_ROUND_TRIP:
                pipe.execute()
                progress.advance(pending)
                pending = 0
        counts = dict.fromkeys(COUNT_FIELDS, 0)
        counts["allocated"] = item.quantity
        pipe.hset(keys.counts(sid, item.pk), mapping=counts)
        # Marked loaded only after its units: a crash before this line leaves it to be redone.
        pipe.hset(keys.loaded(sid), str(item.pk), item.quantity)
        pushed += item.quantity
    pipe.execute()
    progress.advance(pending)
    progress.finish()
    return pushed


def _write_window(r, pipe, sid: int, fields: dict[str, str]) -> None:
    """Queue on ``pipe`` the copy of the session's ``fields`` (window, state) in every item hash.

    The session hash stays the reference (the stock poll, the waiting room, the home page read
    it); whoever changes these fields there changes them here in the same transaction. An item
    hash without them (loaded before the copies existed) sends the reserve script to the session.
    """
    for member in r.zrange(keys.items(sid), 0, -1):
        pipe.hset(keys.item(sid, as_int(member)), mapping=fields)


def set_redis_state(session_id: int, state: str) -> bool:
    """Record a state change in the loaded session's hash and its items'; False when not in Redis."""
    r = sale_redis()
    if not r.exists(keys.session(session_id)):
        return False
    pipe = r.pipeline(transaction=True)
    _write_window(r, pipe, session_id, {"state": str(state)})
    pipe.hset(keys.session(session_id), "state", str(state))
    pipe.execute()
    return True


def is_loaded(session_id: int) -> bool:
    return bool(sale_redis().exists(keys.session(session_id)))


def loaded_units(session_id: int) -> dict[int, int]:
    """Item id -> highest unit number issued, for the items that have their stock in Redis."""
    raw = sale_redis().hgetall(keys.loaded(session_id))
    return {as_int(k): as_int(v) for k, v in raw.items()}


def session_keys(session_id: int) -> list[str]:
    """Every key of the session currently in Redis (SCAN, never KEYS)."""
    r = sale_redis()
    return [text(k) for k in r.scan_iter(match=keys.session_pattern(session_id), count=SWEEP_BATCH)]


def unload_session(session_id: int) -> int:
    """Remove every key of the session and its entry in the index; returns the keys removed."""
    r = sale_redis()
    found = session_keys(session_id)
    removed = 0
    for start in range(0, len(found), SWEEP_BATCH):
        # UNLINK frees big stock lists in the background instead of blocking the server.
        removed += r.unlink(*found[start : start + SWEEP_BATCH])
    r.zrem(keys.sessions_index(), str(session_id))
    return removed


def expire_session_keys(session_id: int, *, at: datetime) -> int:
    """Make every key of the session expire at ``at``; keys that already expire keep their deadline.

    Run again, it catches keys written since the last sweep (a late payment's transaction).
    Returns the number of keys that got a deadline.
    """
    r = sale_redis()
    found = session_keys(session_id)
    when = int(at.timestamp())
    applied = 0
    for start in range(0, len(found), SWEEP_BATCH):
        applied += _expire_unless_set(r, found[start : start + SWEEP_BATCH], when)
    return applied


def _expire_unless_set(r, names: list, when: int) -> int:
    return int(EXPIRE_UNLESS_SET(keys=list(names), args=[when], client=r)) if names else 0


def expire_known_keys(session_id: int, item_ids: list[int], *, at: datetime) -> int:
    """Give the session's fixed keys (no SCAN) a deadline at ``at`` unless they already have one.

    After the end only these can reappear without a TTL (a released hold recreates an emptied
    stock list), so the settling ticks re-check them cheaply instead of scanning the keyspace.
    """
    names = [
        keys.session(session_id),
        keys.items(session_id),
        keys.geo(session_id),
        keys.loaded(session_id),
        keys.stamp(session_id),
        keys.timeline(session_id),
        keys.holds(session_id),
        keys.stream(session_id),
    ]
    for item_id in item_ids:
        names += [keys.item(session_id, item_id), keys.stock(session_id, item_id), keys.counts(session_id, item_id)]
    return _expire_unless_set(sale_redis(), names, int(at.timestamp()))
