"""The waiting room of a sale session: pre-queue, fair opening shuffle, rate-limited admission.

Everything lives in Redis under the session's hash tag (keys in ``flashsale.store.keys``) and changes only
through the ``reservations/lua/waiting_*.lua`` scripts, so no shopper request touches SQL and
concurrent web workers never admit anyone twice. Admission is lazy: every visit or poll runs the
token bucket with the ``now`` it is given, so no background process is needed to let people in.

The opening shuffle is a Fisher-Yates shuffle in Python driven by ``secrets.SystemRandom`` (the
operating system's CSPRNG: nobody can predict or replay the draw, unlike a Lua ``math.random``
seeded from an argument), written by ``waiting_open.lua`` exactly once: the script refuses if
the pre-queue changed since it was read (the caller shuffles again) or if it already ran.
"""

from __future__ import annotations

import logging
import math
import random
import secrets
import time
from collections.abc import MutableSequence
from dataclasses import asdict, dataclass
from pathlib import Path

from django.conf import settings

from flashsale import clock
from flashsale.store import keys
from flashsale.store.client import sale_redis
from flashsale.store.replies import as_int, as_str, decode_fields, decode_map, text
from flashsale.store.scripts import lua_script

log = logging.getLogger(__name__)

LUA_DIR = Path(__file__).resolve().parent / "lua"
# Idle shoppers dropped per visit: keeps one script run short even after a mass tab-close.
DROP_BATCH = 200
# The opening shuffle retries when someone joins or leaves the pre-queue between read and write.
SHUFFLE_ATTEMPTS = 20
# Item ids of a loaded session cannot change (its items are locked), so they are cached briefly.
STOCK_KEYS_TTL_SECONDS = 60.0

STATES_WAITING = ("pre_queue", "queued")


class WaitingRoomError(Exception):
    """The waiting room could not do what was asked; ``session_id`` says where."""

    def __init__(self, message: str, *, session_id: int):
        super().__init__(message)
        self.session_id = session_id


@dataclass(frozen=True)
class WaitingStatus:
    """Where one shopper stands. ``position`` is 1-based in the queue (0 in the pre-queue)."""

    state: str
    position: int
    waiting: int
    rate: float | None
    paused: bool
    admitted_at: float | None
    starts_at: float | None
    eta_seconds: int | None

    @property
    def admitted(self) -> bool:
        return self.state == "admitted"

    @property
    def is_waiting(self) -> bool:
        return self.state in STATES_WAITING

    def as_dict(self) -> dict:
        return asdict(self)


# --- scripts -----------------------------------------------------------------------------------

WAITING_VISIT = lua_script(LUA_DIR / "waiting_visit.lua")
WAITING_OPEN = lua_script(LUA_DIR / "waiting_open.lua")
WAITING_CONTROL = lua_script(LUA_DIR / "waiting_control.lua")


_stock_keys_cache: dict[int, tuple[float, list[str]]] = {}


def _stock_keys(r, session_id: int) -> list[str]:
    cached = _stock_keys_cache.get(session_id)
    if cached and cached[0] > time.monotonic():
        return cached[1]
    item_ids = [text(member) for member in r.zrange(keys.items(session_id), 0, -1)]
    found = [keys.stock(session_id, int(item_id)) for item_id in item_ids]
    if found:
        # An empty answer (session not loaded yet) is not cached: it changes at the load.
        _stock_keys_cache[session_id] = (time.monotonic() + STOCK_KEYS_TTL_SECONDS, found)
    return found


def _settings_args() -> list[str]:
    return [
        str(settings.FLASHSALE_WAITING_ROOM_LEAD_MINUTES * 60),
        repr(float(settings.FLASHSALE_WAITING_ROOM_DEFAULT_RATE)),
        str(settings.FLASHSALE_WAITING_ROOM_BURST_SECONDS),
        str(settings.FLASHSALE_WAITING_ROOM_IDLE_SECONDS),
        str(settings.FLASHSALE_ADMISSION_PASS_SECONDS),
        str(DROP_BATCH),
    ]


def _visit_keys(r, session_id: int) -> list[str]:
    return [
        keys.session(session_id),
        keys.waiting(session_id),
        keys.waiting_pre(session_id),
        keys.waiting_queue(session_id),
        keys.waiting_admitted(session_id),
        keys.waiting_seen(session_id),
        keys.waiting_turns(session_id),
        *_stock_keys(r, session_id),
    ]


@dataclass(frozen=True)
class VisitReply:
    """``waiting_visit.lua``'s answer (see its header)."""

    state: str
    position: int
    waiting: int
    rate: float | None
    paused: bool
    admitted_at: float | None
    starts_at: float | None
    tokens: float | None


def _status_from(raw, now: float) -> WaitingStatus:
    reply = decode_fields(VisitReply, raw)
    return WaitingStatus(
        state=reply.state,
        position=reply.position,
        waiting=reply.waiting,
        rate=reply.rate if reply.rate and reply.rate > 0 else None,
        paused=reply.paused,
        admitted_at=reply.admitted_at,
        starts_at=reply.starts_at,
        eta_seconds=estimated_wait(
            reply.state,
            position=reply.position,
            rate=reply.rate,
            paused=reply.paused,
            tokens=reply.tokens or 0.0,
            starts_at=reply.starts_at,
            now=now,
        ),
    )


def estimated_wait(
    state: str, *, position: int, rate: float | None, paused: bool, tokens: float, starts_at: float | None, now: float
) -> int | None:
    """Seconds until the shopper is likely admitted; ``None`` when nobody can tell (paused)."""
    if state == "admitted":
        return 0
    if state not in STATES_WAITING or paused:
        return None
    until_open = max(0.0, (starts_at or now) - now)
    if state == "pre_queue":
        # The order is only drawn at the opening: the opening itself is the best estimate.
        return math.ceil(until_open)
    if not rate or rate <= 0:
        return math.ceil(until_open)
    return math.ceil(until_open + max(0.0, position - tokens) / rate)


def _now(now: float | None) -> float:
    return clock.now_ts() if now is None else float(now)


# --- shoppers ----------------------------------------------------------------------------------


def _visit(session_id: int, user_id: int | None, *, join: bool, now: float) -> WaitingStatus:
    r = sale_redis()
    visit = WAITING_VISIT
    args = [repr(now), "" if user_id is None else str(int(user_id)), "1" if join else "0", *_settings_args()]
    for _ in range(2):
        reply = visit(keys=_visit_keys(r, session_id), args=args, client=r)
        status = _status_from(reply, now)
        if status.state != "needs_shuffle":
            return status
        shuffle_pre_queue(session_id, now=now)
    raise WaitingRoomError("The opening shuffle did not take place.", session_id=session_id)


def enter_waiting_room(session_id: int, user_id: int, *, now: float | None = None) -> WaitingStatus:
    """Join the session's waiting room (if not already there) and say where the shopper stands.

    Before the opening the shopper joins the pre-queue; from the opening on, the back of the
    queue. With no admission rate set, a shopper arriving after the opening is admitted at once.
    Call it only for a shopper who has passed the CAPTCHA.
    """
    return _visit(session_id, user_id, join=True, now=_now(now))


def poll_waiting_room(session_id: int, user_id: int, *, now: float | None = None) -> WaitingStatus:
    """Where the shopper stands now (admitting whoever is due first); never joins the queue."""
    return _visit(session_id, user_id, join=False, now=_now(now))


def admit_due(session_id: int, *, now: float | None = None) -> WaitingStatus:
    """Admit whoever is due at ``now`` without a shopper visiting (benchmark, operator, tests)."""
    return _visit(session_id, None, join=False, now=_now(now))


def fisher_yates(members: MutableSequence, rng: random.Random) -> None:
    """Shuffle ``members`` in place; every order is equally likely when ``rng`` is uniform."""
    for i in range(len(members) - 1, 0, -1):
        j = rng.randrange(i + 1)
        members[i], members[j] = members[j], members[i]


def shuffle_pre_queue(session_id: int, *, now: float | None = None, rng: random.Random | None = None) -> int:
    """Shuffle the pre-queue into the queue, once; returns how many were shuffled (0 if done before).

    ``rng`` is for tests only (a seeded ``random.Random``); production draws from the OS CSPRNG.
    """
    now = _now(now)
    rng = rng or secrets.SystemRandom()
    r = sale_redis()
    starts_at = as_str(r.hget(keys.session(session_id), "starts_at"))
    if starts_at is None:
        raise WaitingRoomError("The session is not loaded.", session_id=session_id)
    write = WAITING_OPEN
    for _ in range(SHUFFLE_ATTEMPTS):
        pipe = r.pipeline(transaction=True)
        pipe.hget(keys.waiting(session_id), "pre_version")
        # Arrival order, then id: a deterministic input, so a seeded test replays exactly.
        pipe.zrange(keys.waiting_pre(session_id), 0, -1)
        version, members = pipe.execute()
        order = [text(member) for member in members]
        fisher_yates(order, rng)
        reply = write(
            keys=[keys.waiting(session_id), keys.waiting_pre(session_id), keys.waiting_queue(session_id)],
            args=[repr(now), as_str(version) or "0", starts_at, *order],
            client=r,
        )
        outcome = as_str(reply[0])
        if outcome == "shuffled":
            log.info("waiting room of session %s opened: %s early arrivals shuffled", session_id, len(order))
            return len(order)
        if outcome == "already":
            return 0
    raise WaitingRoomError("The pre-queue kept changing during the opening shuffle.", session_id=session_id)


def queue_order(session_id: int) -> list[int]:
    """User ids in queue order (head first); for operators and tests, not for shopper requests."""
    return [as_int(member) for member in sale_redis().zrange(keys.waiting_queue(session_id), 0, -1)]


def admitted_users(session_id: int) -> list[int]:
    """User ids currently holding a valid admission, in admission order."""
    return [as_int(member) for member in sale_redis().zrange(keys.waiting_admitted(session_id), 0, -1)]


def session_title(session_id: int) -> str | None:
    """The loaded session's name for the waiting page (from Redis), ``None`` if not loaded."""
    return as_str(sale_redis().hget(keys.session(session_id), "name"))


# --- operators ---------------------------------------------------------------------------------


def set_admission_rate(session_id: int, rate: float | None, *, now: float | None = None) -> None:
    """Admissions per second for the session; ``None`` (or 0) lets everyone in at once.

    Takes effect from ``now`` on: time already passed is not re-rated.
    """
    if rate is not None and (not math.isfinite(rate) or rate < 0):
        raise ValueError("The admission rate must be a positive number of admissions per second, or empty.")
    value = "0" if not rate else repr(float(rate))
    WAITING_CONTROL(keys=[keys.waiting(session_id)], args=[repr(_now(now)), "rate", value], client=sale_redis())
    log.info("waiting room of session %s: admission rate set to %s", session_id, value if rate else "all at once")


def pause_admissions(session_id: int, paused: bool, *, now: float | None = None) -> None:
    """Stop (``True``) or resume (``False``) admissions; the queue keeps its order meanwhile."""
    WAITING_CONTROL(
        keys=[keys.waiting(session_id)],
        args=[repr(_now(now)), "paused", "1" if paused else "0"],
        client=sale_redis(),
    )
    log.info("waiting room of session %s: admissions %s", session_id, "paused" if paused else "resumed")


def waiting_room_stats(session_id: int, *, now: float | None = None) -> dict:
    """Figures for the operators' live page, read in one round trip (no SQL).

    ``waiting`` counts the pre-queue and the queue; ``admitted`` is every admission so far and
    ``admitted_active`` those whose pass is still valid; ``dropped`` left by going idle;
    ``released`` were sent away when the session sold out.
    """
    now = _now(now)
    pass_seconds = settings.FLASHSALE_ADMISSION_PASS_SECONDS
    pipe = sale_redis().pipeline(transaction=True)
    pipe.hgetall(keys.waiting(session_id))
    pipe.zcard(keys.waiting_pre(session_id))
    pipe.zcard(keys.waiting_queue(session_id))
    # As waiting_visit.lua prunes: a pass is valid while floor(admitted_at + pass) > now.
    pipe.zcount(keys.waiting_admitted(session_id), math.floor(now) + 1 - pass_seconds, "+inf")
    raw, pre, queue, active = pipe.execute()
    state = decode_map(raw)
    rate_text = state.get("rate")
    rate = float(rate_text) if rate_text is not None else float(settings.FLASHSALE_WAITING_ROOM_DEFAULT_RATE)
    return {
        "pre_queue": pre,
        "queued": queue,
        "waiting": pre + queue,
        "admitted": as_int(state.get("admitted")),
        "admitted_active": active,
        "dropped": as_int(state.get("dropped")),
        "released": as_int(state.get("released")),
        "joined": as_int(state.get("joined")),
        "rate": rate if rate > 0 else None,
        "paused": state.get("paused") == "1",
        "shuffled": state.get("shuffled") == "1",
        "sold_out": state.get("sold_out") == "1",
        "opened_at": float(state["opened_at"]) if state.get("opened_at") else None,
    }


def reset_waiting_room(session_id: int) -> None:
    """Forget the session's waiting room entirely (tests and the bench start from nothing)."""
    sale_redis().delete(
        keys.waiting(session_id),
        keys.waiting_pre(session_id),
        keys.waiting_queue(session_id),
        keys.waiting_admitted(session_id),
        keys.waiting_seen(session_id),
        keys.waiting_turns(session_id),
    )
    _stock_keys_cache.pop(session_id, None)


@dataclass(frozen=True)
class Turn:
    """A shopper the waiting room admitted while someone else's visit ran the queue."""

    user_id: int
    admitted_at: float


def pending_turns(session_id: int, *, limit: int = 500) -> list[Turn]:
    """The oldest admissions whose "it is your turn" mail is due (read, not removed: ``forget_turns``)."""
    found = []
    for raw in sale_redis().lrange(keys.waiting_turns(session_id), 0, limit - 1):
        user, _, instant = text(raw).partition(":")
        found.append(Turn(user_id=int(user), admitted_at=float(instant)))
    return found


def forget_turns(session_id: int, count: int) -> None:
    """Drop the ``count`` oldest admissions once their mails are queued."""
    sale_redis().ltrim(keys.waiting_turns(session_id), count, -1)
