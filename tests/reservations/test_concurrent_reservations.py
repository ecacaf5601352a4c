"""500 buyers on 50 threads race for 100 units against the real Redis: exactly 100 sell."""

from __future__ import annotations

import itertools
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from flashsale.store import keys
from flashsale.store.replies import as_str
from reservations.holds import reserve_units
from reservations.refusals import LimitReached, ReservationRejected, SoldOut
from tests.support.sales import assert_stock_invariant

BUYERS = 500
THREADS = 50
UNITS = 100


def test_the_race_sells_exactly_the_allocated_units(load_sale, redis_conn, clock):
    sale = load_sale(quantities=[UNITS], limit=2)
    now = clock.now()
    ids = itertools.count()

    def buyer(user_id: int) -> list[tuple[int, str, tuple[str, ...]]]:
        # Each buyer tries three times, for 1 unit each: the third can only hit the limit or sold out.
        results = []
        for _ in range(3):
            txn_id = f"{next(ids):026d}"
            try:
                held = reserve_units(sale.id, sale.item.pk, user_id=user_id, quantity=1, txn_id=txn_id, now=now)
                results.append((user_id, "reserved", held.units))
            except ReservationRejected as rejected:
                results.append((user_id, rejected.code, ()))
        return results

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        outcomes = [row for rows in pool.map(buyer, range(1, BUYERS + 1)) for row in rows]

    reserved = [row for row in outcomes if row[1] == "reserved"]
    units = [unit for row in reserved for unit in row[2]]
    assert len(units) == UNITS and len(set(units)) == UNITS
    per_user = Counter(row[0] for row in reserved)
    assert max(per_user.values()) <= 2
    codes = Counter(row[1] for row in outcomes)
    assert set(codes) <= {"reserved", "sold_out", "limit"}
    assert codes["reserved"] == UNITS
    figures = assert_stock_invariant(redis_conn, sale.id, sale.item.pk)
    assert (figures["remaining"], figures["held"]) == (0, UNITS)
    assert figures["rejected_sold_out"] == codes["sold_out"]
    assert figures["rejected_limit"] == codes["limit"]
    assert redis_conn.xlen(keys.stream(sale.id)) == UNITS
    user_counts = {}
    for user_id in per_user:
        user_counts[user_id] = int(as_str(redis_conn.hget(keys.user(sale.id, user_id), str(sale.item.pk))))
    assert user_counts == dict(per_user)
    assert issubclass(SoldOut, ReservationRejected) and issubclass(LimitReached, ReservationRejected)


def _buy_in_a_process(args: tuple[int, int, list[int], float]) -> list[tuple[int, str]]:
    session_id, item_id, user_ids, now = args
    results = []
    for user_id in user_ids:
        try:
            held = reserve_units(session_id, item_id, user_id=user_id, quantity=1, txn_id=f"P{user_id:025d}", now=now)
            results.append((user_id, held.units[0]))
        except ReservationRejected as rejected:
            results.append((user_id, rejected.code))
    return results


def test_separate_processes_sell_exactly_the_allocated_units(load_sale, redis_conn, clock):
    import multiprocessing

    sale = load_sale(quantities=[UNITS], limit=1)
    now = clock.now().timestamp()
    slices = [(sale.id, sale.item.pk, list(range(start, BUYERS + 1, 8)), now) for start in range(1, 9)]
    # fork: the children inherit the configured Django; redis-py reconnects after a fork.
    with multiprocessing.get_context("fork").Pool(8) as pool:
        outcomes = [row for rows in pool.map(_buy_in_a_process, slices) for row in rows]

    units = [result for _, result in outcomes if ":" in result]
    assert len(units) == UNITS and len(set(units)) == UNITS
    assert Counter(result for _, result in outcomes if ":" not in result) == {"sold_out": BUYERS - UNITS}
    figures = assert_stock_invariant(redis_conn, sale.id, sale.item.pk)
    assert (figures["remaining"], figures["held"], figures["rejected_sold_out"]) == (0, UNITS, BUYERS - UNITS)
