"""The opening shuffle gives every early arrival the same chance of every place.

2,000 pre-queues of 5 early arrivals each go through the real join and shuffle path (Redis and
``waiting_open.lua``), each shuffle driven by a fixed seed so the test is deterministic. A
chi-square test then compares the observed counts with the uniform expectation:

- place per arrival (5 x 5 table, 400 expected per cell, 16 degrees of freedom);
- whole orders (120 permutations, 16.67 expected each, 119 degrees of freedom).

Critical values at a 0.1% significance level (computed by hand from the chi-square
distribution; see ``chi_square_critical`` which checks them numerically). The same statistics
reject a shuffle that is not fair, so the test can fail.
"""

from __future__ import annotations

import itertools
import math
import random

import pytest

from reservations.waiting_room import (
    enter_waiting_room,
    queue_order,
    reset_waiting_room,
    set_admission_rate,
    shuffle_pre_queue,
)

SHUFFLES = 2000
EARLY = 5
SEEDS = range(20_261_126, 20_261_126 + SHUFFLES)
CRITICAL_16 = 39.252  # chi-square, 16 df, p = 0.001
CRITICAL_119 = 172.418  # chi-square, 119 df, p = 0.001


def chi_square_survival(statistic: float, df: int) -> float:
    """P(X >= statistic) for a chi-square variable: regularised upper incomplete gamma, by series."""
    a, x = df / 2, statistic / 2
    term = total = 1 / a
    n = 0
    while term > total * 1e-15:
        n += 1
        term *= x / (a + n)
        total += term
    lower = total * math.exp(-x + a * math.log(x) - math.lgamma(a))
    return 1 - lower


def chi_square(observed: list[int], expected: float) -> float:
    return sum((count - expected) ** 2 / expected for count in observed)


def place_counts(orders: list[list[int]]) -> list[int]:
    cells = [0] * (EARLY * EARLY)
    for order in orders:
        for place, arrival in enumerate(order):
            cells[arrival * EARLY + place] += 1
    return cells


def permutation_counts(orders: list[list[int]]) -> list[int]:
    seen = {perm: 0 for perm in itertools.permutations(range(EARLY))}
    for order in orders:
        seen[tuple(order)] += 1
    return list(seen.values())


def test_critical_values_are_right():
    assert chi_square_survival(CRITICAL_16, 16) == pytest.approx(0.001, rel=1e-3)
    assert chi_square_survival(CRITICAL_119, 119) == pytest.approx(0.001, rel=1e-3)


def shuffled_orders(session_id: int, opens_at: float) -> list[list[int]]:
    """Arrival index (0 = first to arrive) at each place, for each of the 2,000 openings."""
    users = [101, 102, 103, 104, 105]
    orders = []
    for seed in SEEDS:
        reset_waiting_room(session_id)
        for offset, user in enumerate(users):
            enter_waiting_room(session_id, user, now=opens_at - 300 + offset)
        assert shuffle_pre_queue(session_id, now=opens_at, rng=random.Random(seed)) == EARLY
        orders.append([users.index(user) for user in queue_order(session_id)])
    return orders


@pytest.mark.django_db
def test_every_arrival_is_equally_likely_at_every_place_and_every_order_too(loaded_session, opens_at):
    orders = shuffled_orders(loaded_session.pk, opens_at)

    assert chi_square(place_counts(orders), SHUFFLES / EARLY) < CRITICAL_16
    assert chi_square(permutation_counts(orders), SHUFFLES / math.factorial(EARLY)) < CRITICAL_119
    # The same place statistic rejects first come, first served, so it has teeth.
    first_come = [list(range(EARLY)) for _ in orders]
    assert chi_square(place_counts(first_come), SHUFFLES / EARLY) > CRITICAL_16


def test_a_rotation_would_be_rejected():
    """A random rotation gives uniform places but only 5 of 120 orders: the order test catches it."""
    rng = random.Random(7)
    orders = []
    for _ in range(SHUFFLES):
        k = rng.randrange(EARLY)
        orders.append([(i + k) % EARLY for i in range(EARLY)])
    assert chi_square(place_counts(orders), SHUFFLES / EARLY) < CRITICAL_16
    assert chi_square(permutation_counts(orders), SHUFFLES / math.factorial(EARLY)) > CRITICAL_119


@pytest.mark.django_db
def test_the_shuffle_happens_once(loaded_session, opens_at):
    sid = loaded_session.pk
    for user in range(1, 6):
        enter_waiting_room(sid, user, now=opens_at - 60)
    assert shuffle_pre_queue(sid, now=opens_at, rng=random.Random(1)) == 5
    first = queue_order(sid)
    assert shuffle_pre_queue(sid, now=opens_at + 1, rng=random.Random(2)) == 0
    assert queue_order(sid) == first


@pytest.mark.django_db
def test_the_opening_visit_shuffles_by_itself(loaded_session, opens_at):
    """No operator step: the first visit at the opening draws the order; a newcomer goes behind."""
    sid = loaded_session.pk
    set_admission_rate(sid, 1.0, now=opens_at - 600)
    for user in range(1, 6):
        assert enter_waiting_room(sid, user, now=opens_at - 60 + user).state == "pre_queue"
    status = enter_waiting_room(sid, 99, now=opens_at)
    assert (status.state, status.position) == ("queued", 6)
    order = queue_order(sid)
    assert sorted(order[:5]) == [1, 2, 3, 4, 5]
    assert order[5] == 99


class JoinDuringShuffle(random.Random):
    """A seeded RNG that lets one more shopper join the pre-queue while the first draw is made."""

    def __init__(self, seed: int, join):
        super().__init__(seed)
        self.join = join

    def randrange(self, *args, **kwargs):
        if self.join:
            join, self.join = self.join, None
            join()
        return super().randrange(*args, **kwargs)


@pytest.mark.django_db
def test_a_join_during_the_shuffle_is_not_lost(loaded_session, opens_at):
    sid = loaded_session.pk
    for user in range(1, 6):
        enter_waiting_room(sid, user, now=opens_at - 60)
    rng = JoinDuringShuffle(3, lambda: enter_waiting_room(sid, 6, now=opens_at - 1))
    # The first write is refused (the pre-queue changed), the second includes the newcomer.
    assert shuffle_pre_queue(sid, now=opens_at, rng=rng) == 6
    assert sorted(queue_order(sid)) == [1, 2, 3, 4, 5, 6]
