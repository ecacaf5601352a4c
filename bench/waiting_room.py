"""The waiting room at scale (``make bench``'s ``waiting_admissions_per_s``; by hand:
``python -m bench waiting-room --shoppers 5000 --rate 100``).

``simulate_admissions`` drives synthetic shoppers through the real waiting-room Lua scripts on
simulated time; ``measure_waiting_room`` runs it on a session of its own and cleans up.
"""

from __future__ import annotations

import math
import random
import time
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from django.conf import settings

from catalog.models import Product, Provider
from flashsale import clock
from flashsale.store import keys
from flashsale.store.client import sale_redis
from flashsale.store.replies import as_int, as_str, text
from plans.loading import load_session_into_redis, unload_session
from plans.models import SaleItem, SaleSession

# The visit's own arguments and keys, exactly as a shopper's visit sends them (private helpers of
# the waiting room, used here so the simulation runs the production script call by call).
from reservations.waiting_room import (
    STATES_WAITING,
    WAITING_VISIT,
    WaitingRoomError,
    _settings_args,
    _visit_keys,
    queue_order,
    reset_waiting_room,
    set_admission_rate,
    shuffle_pre_queue,
    waiting_room_stats,
)

# Positions in ``waiting_visit.lua``'s reply (``reservations.waiting_room.VisitReply``): the
# simulation reads two fields of thousands of replies, without building a dataclass for each.
REPLY_STATE = 0
REPLY_ADMITTED_AT = 5


def measure_waiting_room(shoppers: int = 5000, rate: int = 100) -> dict:
    """``shoppers`` wait for a session that opens half-way through two minutes of simulated time
    and are admitted at ``rate`` per second through the real Lua scripts.

    Returns ``{"value": admissions per second (mean while the queue was not empty), ...}`` with
    the largest single second, whether admissions kept the queue's order, and the wall-clock cost.
    Creates its own session and removes it (rows and Redis keys) afterwards.
    """
    tag = uuid.uuid4().hex[:12]
    provider = Provider.objects.create(name=f"Waiting benchmark {tag}", slug=f"bench-wait-{tag}")
    session = None
    try:
        product = Product.objects.create(
            provider=provider,
            external_id=tag,
            name="Waiting benchmark product",
            list_price=Decimal("10.00"),
            latitude=Decimal("48.8566"),
            longitude=Decimal("2.3522"),
            place="Paris",
        )
        starts_at = clock.now() + timedelta(minutes=1)
        session = SaleSession.objects.create(
            name=f"Waiting benchmark {tag}", starts_at=starts_at, ends_at=starts_at + timedelta(hours=1)
        )
        SaleItem.objects.create(session=session, product=product, quantity=shoppers, sale_price=Decimal("5.00"))
        load_session_into_redis(session)
        result = simulate_admissions(session.pk, shoppers=shoppers, rate=float(rate), seconds=120.0, seed=1)
        return {
            "value": result["admissions_per_second_mean"],
            "rate": rate,
            "shoppers": shoppers,
            "admitted": result["admitted"],
            "max_per_second": result["admissions_per_second_max"],
            "in_queue_order": result["admitted_in_queue_order"],
            "script_calls_per_wall_second": result["script_calls_per_wall_second"],
        }
    finally:
        if session is not None:
            reset_waiting_room(session.pk)
            unload_session(session.pk)
            SaleSession.objects.filter(pk=session.pk).update(state=SaleSession.State.DRAFT, loaded_at=None)
            SaleItem.objects.filter(session=session).delete()
            session.delete()
        Product.objects.filter(provider=provider).delete()
        provider.delete()


@dataclass(frozen=True)
class Arrivals:
    """Who arrives when (simulated Unix time), and when each shopper's page polls."""

    opens: float
    begin: float
    at: list[tuple[float, int]]  # (instant, user id), in order of arrival
    phase: dict[int, float]  # user id -> offset of their polls within ``poll_every``
    early: int


def _plan_arrivals(
    opens: float, *, shoppers: int, seconds: float, poll_every: float, late_share: float, first_user_id: int, rng
) -> Arrivals:
    """Early shoppers arrive before the opening (inside the lead window), ``late_share`` after it."""
    users = list(range(first_user_id, first_user_id + shoppers))
    late = int(shoppers * late_share)
    early = shoppers - late
    lead = min(seconds / 2, settings.FLASHSALE_WAITING_ROOM_LEAD_MINUTES * 60)
    at = sorted(
        [(opens - lead + rng.random() * lead * 0.999, user) for user in users[:early]]
        + [(opens + rng.random() * seconds / 4, user) for user in users[early:]]
    )
    # Each shopper polls every poll_every seconds from a random phase, like independent browsers.
    phase = {user: rng.random() * poll_every for user in users}
    return Arrivals(opens=opens, begin=opens - seconds / 2, at=at, phase=phase, early=early)


@dataclass
class Visits:
    """The shoppers' pages, tick by tick: joins and polls pipelined to ``waiting_visit.lua``."""

    session_id: int
    arrivals: Arrivals
    poll_every: float
    tick: float
    waiting: set[int] = field(default_factory=set)
    noticed: dict[int, float] = field(default_factory=dict)  # user id -> admission seen by a poll
    # The full queue order: the shuffled early arrivals, then later ones in the order they joined.
    queue_order_seen: list[int] = field(default_factory=list)
    calls: int = 0
    next_arrival: int = 0

    def __post_init__(self) -> None:
        self.redis = sale_redis()
        self.visit_keys = _visit_keys(self.redis, self.session_id)
        self.fixed = _settings_args()

    def run(self, seconds: float) -> tuple[float, float]:
        """Every tick of ``seconds``; returns the last simulated instant and the wall-clock seconds."""
        started = time.perf_counter()
        now = self.arrivals.begin
        for step in range(int(round(seconds / self.tick)) + 1):
            now = self.arrivals.begin + step * self.tick
            self.step(now)
        return now, time.perf_counter() - started

    def step(self, now: float) -> None:
        batch = [(user, "1") for user in self._joining(now)] + [(user, "0") for user in self._polling(now)]
        if not batch:
            batch = [(None, "0")]
        replies = self._send(batch, now)
        self.calls += len(batch)
        for (user, join), reply in zip(batch, replies, strict=True):
            if user is not None:
                self._record(user, join, reply, now)

    def _joining(self, now: float) -> list[int]:
        at = self.arrivals.at
        joining = []
        while self.next_arrival < len(at) and at[self.next_arrival][0] <= now:
            joining.append(at[self.next_arrival][1])
            self.next_arrival += 1
        return joining

    def _polling(self, now: float) -> list[int]:
        phase, every = self.arrivals.phase, self.poll_every
        return [
            user
            for user in self.waiting
            if int((now - phase[user]) / every) != int((now - self.tick - phase[user]) / every)
        ]

    def _send(self, batch: list[tuple[int | None, str]], now: float) -> list:
        pipe = self.redis.pipeline(transaction=False)
        for user, join in batch:
            args = [repr(now), "" if user is None else str(user), join, *self.fixed]
            WAITING_VISIT(keys=self.visit_keys, args=args, client=pipe)
        replies = pipe.execute()
        if any(text(reply[REPLY_STATE]) == "needs_shuffle" for reply in replies):
            # A refused visit changed nothing, so the whole batch is simply sent again after the draw.
            shuffle_pre_queue(self.session_id, now=now)
            self.queue_order_seen.extend(queue_order(self.session_id))
            return self._send(batch, now)
        return replies

    def _record(self, user: int, join: str, reply, now: float) -> None:
        state = text(reply[REPLY_STATE])
        if join == "1" and now >= self.arrivals.opens and state in ("queued", "admitted"):
            self.queue_order_seen.append(user)
        if state == "admitted":
            self.noticed.setdefault(user, float(text(reply[REPLY_ADMITTED_AT])))
            self.waiting.discard(user)
        elif state in STATES_WAITING:
            self.waiting.add(user)


def _admissions(session_id: int) -> dict[int, float]:
    """Every admission and its instant, from Redis (a shopper only notices theirs at their next poll)."""
    return {
        as_int(member): score
        for member, score in sale_redis().zrange(keys.waiting_admitted(session_id), 0, -1, withscores=True)
    }


def _per_second(admitted_at: dict[int, float], opens: float) -> dict[int, int]:
    """Admissions in each whole second after the opening."""
    per_second: dict[int, int] = {}
    for when in admitted_at.values():
        second = int(math.floor(when - opens))
        per_second[second] = per_second.get(second, 0) + 1
    return per_second


def simulate_admissions(
    session_id: int,
    shoppers: int = 5000,
    rate: float = 100.0,
    seconds: float = 120.0,
    *,
    poll_every: float = 2.0,
    tick: float = 0.1,
    late_share: float = 0.2,
    first_user_id: int = 1_000_000_000,
    seed: int | None = None,
) -> dict:
    """Drive ``shoppers`` through the real waiting-room scripts on simulated time; report the rate.

    The run covers ``seconds`` of simulated time and the session opens half-way: shoppers
    (synthetic user ids from ``first_user_id``; the waiting room needs no user rows) arrive over
    the first half, ``late_share`` of them after the opening, and every waiting shopper polls
    every ``poll_every`` seconds, as the page does. Admissions happen inside those polls, exactly
    as in production. The session must be loaded in Redis (its window is read from there); its
    waiting room is reset first, so use a session dedicated to the benchmark.

    Returns admissions per simulated second (mean over the seconds after the opening while
    people were still waiting, and the largest single second), the configured rate, how many were
    admitted in order, and the wall-clock cost (script calls per second) of the run.
    """
    if shoppers < 1 or rate <= 0 or seconds <= 0:
        raise ValueError("shoppers, rate and seconds must be positive")
    starts_at = as_str(sale_redis().hget(keys.session(session_id), "starts_at"))
    if starts_at is None:
        raise WaitingRoomError("Load the session into Redis before simulating its waiting room.", session_id=session_id)
    arrivals = _plan_arrivals(
        float(starts_at),
        shoppers=shoppers,
        seconds=seconds,
        poll_every=poll_every,
        late_share=late_share,
        first_user_id=first_user_id,
        rng=random.Random(seed),
    )
    reset_waiting_room(session_id)
    set_admission_rate(session_id, rate, now=arrivals.begin)
    visits = Visits(session_id, arrivals, poll_every=poll_every, tick=tick)
    now, wall = visits.run(seconds)
    return _report(visits, shoppers=shoppers, rate=rate, seconds=seconds, now=now, wall=wall)


def _report(visits: Visits, *, shoppers: int, rate: float, seconds: float, now: float, wall: float) -> dict:
    session_id, opens = visits.session_id, visits.arrivals.opens
    admitted_at = _admissions(session_id)
    per_second = _per_second(admitted_at, opens)
    stats = waiting_room_stats(session_id, now=now)
    # Whole seconds after the opening up to the last one with admissions (a partial one): the
    # queue never ran dry before then, so the rate was what limited them.
    last_second = max(per_second) if per_second else 0
    saturated = [per_second.get(second, 0) for second in range(0, last_second)]
    return {
        "session_id": session_id,
        "shoppers": shoppers,
        "rate": rate,
        "simulated_seconds": seconds,
        "admitted": len(admitted_at),
        "admissions_noticed_by_polls": len(visits.noticed),
        "still_waiting": stats["waiting"],
        "dropped": stats["dropped"],
        "admissions_per_second_mean": round(sum(saturated) / len(saturated), 2) if saturated else 0.0,
        "admissions_per_second_max": max(per_second.values()) if per_second else 0,
        "first_admission_after_opening_s": round(min(admitted_at.values()) - opens, 3) if admitted_at else None,
        "early_arrivals": visits.arrivals.early,
        "admitted_in_queue_order": set(admitted_at) == set(visits.queue_order_seen[: len(admitted_at)]),
        "script_calls": visits.calls,
        "wall_seconds": round(wall, 3),
        "script_calls_per_wall_second": round(visits.calls / wall, 1) if wall > 0 else None,
    }
