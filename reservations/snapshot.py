"""A session's stock as everybody sees it: one Redis read per web process at most every second.

The crowd's requests (the stock poll, the sale page's cards, Reserve clicks after a sell-out) all
need the same thing: every item's remaining units and the session's window. Each process reads it
once (``lua/stock_snapshot.lua``) and answers from memory until it is ``SNAPSHOT_SECONDS`` old. The
snapshot carries the session's ``stock_version``, which every script that changes stock bumps, so
pages can order snapshots from different processes and caches and never go back to an older one.

The shared poll's body (``poll_body``) is built once per snapshot: it holds nothing personal, so a
CDN or a micro-cache in front of the site can serve it to the whole crowd (``Cache-Control: public,
max-age=1`` and a weak ETag, see ``reservations.views.stock_json``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.utils.http import parse_etags

from flashsale import clock
from flashsale.store import keys
from flashsale.store.replies import decode_fields, text
from flashsale.store.scripts import lua_script
from plans.states import SessionState
from reservations import sold_out
from reservations.states import SalePhase

STOCK_SNAPSHOT = lua_script(Path(__file__).resolve().parent / "lua" / "stock_snapshot.lua")
# Sessions a process keeps snapshots of (all are dropped beyond it).
MAX_SESSIONS = 64


@dataclass(frozen=True)
class _SnapshotReply:
    starts_at: float
    ends_at: float
    state: str
    version: int
    loaded_at: str
    name: str
    levels: str  # "id:units,id:units,..."


@dataclass(frozen=True)
class StockSnapshot:
    """Every item's remaining units and the window of one loaded session, as read at ``read_at``."""

    session_id: int
    name: str
    starts_at: float
    ends_at: float
    state: str
    version: int
    loaded_at: str
    remaining: dict[int, int]
    read_at: float
    _body: list[bytes] = field(default_factory=list, compare=False, repr=False)

    def phase(self, now: float) -> SalePhase:
        """upcoming | live | ended (cancelled sessions read as ended)."""
        if self.state == SessionState.CANCELLED or now >= self.ends_at:
            return SalePhase.ENDED
        return SalePhase.LIVE if now >= self.starts_at else SalePhase.UPCOMING

    @property
    def etag(self) -> str:
        """Weak: two bodies with the same version and phase say the same, whatever their ``now``."""
        return f'W/"{self.session_id}-{self.version}-{self.phase(self.read_at)}"'

    def poll_body(self) -> bytes:
        """The shared poll's JSON, built once per snapshot."""
        if not self._body:
            body = {
                "session": self.session_id,
                "version": self.version,
                "phase": self.phase(self.read_at),
                "state": self.state,
                "starts_at": self.starts_at,
                "ends_at": self.ends_at,
                "now": self.read_at,
                "items": {str(item_id): units for item_id, units in self.remaining.items()},
            }
            self._body.append(json.dumps(body, separators=(",", ":")).encode())
        return self._body[0]


_snapshots: dict[int, StockSnapshot] = {}


def max_age_seconds() -> float:
    return float(settings.FLASHSALE_STOCK_SNAPSHOT_SECONDS)


def stock_snapshot(session_id: int, *, now: float | None = None) -> StockSnapshot | None:
    """The session's snapshot, read again when it is older than ``max_age_seconds()``; None if not loaded."""
    at = clock.now_ts() if now is None else now
    return fresh_snapshot(session_id, now=at) or read_snapshot(session_id, now=at)


def fresh_snapshot(session_id: int, *, now: float) -> StockSnapshot | None:
    """The snapshot this process holds if it is younger than ``max_age_seconds()``, else None (no Redis)."""
    cached = _snapshots.get(session_id)
    if cached is not None and 0 <= now - cached.read_at < max_age_seconds():
        return cached
    return None


def etag_matches(if_none_match: str, etag: str) -> bool:
    """If-None-Match compares weakly (RFC 9110 13.1.2): ``W/"x"`` matches ``"x"`` and ``W/"x"``."""
    if not if_none_match:
        return False
    bare = etag.removeprefix("W/")
    return any(tag == "*" or tag.removeprefix("W/") == bare for tag in parse_etags(if_none_match))


def read_snapshot(session_id: int, *, now: float) -> StockSnapshot | None:
    """Read the snapshot from Redis now (one EVALSHA) and keep it; None if the session is not loaded."""
    raw = STOCK_SNAPSHOT(keys=[keys.session(session_id), keys.items(session_id)], args=[keys.stock(session_id, "")])
    if text(raw[0]) != "ok":
        _snapshots.pop(session_id, None)
        return None
    reply = decode_fields(_SnapshotReply, raw[1:])
    remaining: dict[int, int] = {}
    for pair in reply.levels.split(",") if reply.levels else ():
        item_id, _, units = pair.partition(":")
        remaining[int(item_id)] = int(units)
    snapshot = StockSnapshot(
        session_id=session_id,
        name=reply.name or f"Session {session_id}",
        starts_at=reply.starts_at,
        ends_at=reply.ends_at,
        state=reply.state,
        version=reply.version,
        loaded_at=reply.loaded_at,
        remaining=remaining,
        read_at=now,
    )
    if len(_snapshots) >= MAX_SESSIONS:
        _snapshots.clear()
    _snapshots[session_id] = snapshot
    sold_out.learn(session_id, remaining, now=now)
    return snapshot


def forget_snapshots() -> None:
    """Drop this process's snapshots (after Redis was emptied; tests)."""
    _snapshots.clear()
