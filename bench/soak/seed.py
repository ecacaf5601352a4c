"""What the soak sells and who buys it: live sessions of hot items (a few units, most clicks refused)
and ordinary ones, logged-in shoppers with a CAPTCHA pass, and an operator restocking and auditing."""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

SESSIONS = 3
HOT_ITEMS, HOT_UNITS = 2, 4
ORDINARY_ITEMS, ORDINARY_UNITS, ORDINARY_LIMIT = 3, 300, 2
PRICE = Decimal("19.90")


@dataclass
class SoakSale:
    id: int
    hot: list = field(default_factory=list)
    ordinary: list = field(default_factory=list)

    @property
    def items(self) -> list:
        return [*self.hot, *self.ordinary]


def live_sales(*, hours: float) -> list[SoakSale]:
    """Sessions open now for ``hours``, loaded into Redis as beat's loader would."""
    from plans.loading import load_session_into_redis
    from tests.factories import make_item, make_product, make_session

    sales = []
    for n in range(SESSIONS):
        session = make_session(opens_in=timedelta(minutes=-1), lasts=timedelta(hours=hours), name=f"Soak sale {n + 1}")
        sale = SoakSale(id=session.pk)
        for position in range(HOT_ITEMS + ORDINARY_ITEMS):
            hot = position < HOT_ITEMS
            item = make_item(
                session,
                make_product(name=f"{'Hot' if hot else 'Ordinary'} product {n + 1}.{position + 1}"),
                quantity=HOT_UNITS if hot else ORDINARY_UNITS,
                per_user_limit=1 if hot else ORDINARY_LIMIT,
                sale_price=PRICE,
                display_order=position,
            )
            (sale.hot if hot else sale.ordinary).append(item)
        load_session_into_redis(session)
        sales.append(sale)
    return sales


class Operator:
    """Every ``period`` seconds: puts a few units back on a hot item (or withdraws one of an ordinary
    item) and runs the stock audit, as an operator in admin would. Failures are recorded with their
    time: the fault windows say whether they were a fault's."""

    def __init__(self, sales: list[SoakSale], *, seed: int, period: float, now):
        self.sales = sales
        self.rng = random.Random(seed * 7919)
        self.period = period
        self.now = now
        self.actions: list[dict] = []
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="soak-operator", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self._stop.set()
        self.thread.join(timeout=60)

    def _run(self) -> None:
        from django.db import close_old_connections

        turn = 0
        while not self._stop.wait(self.period):
            turn += 1
            sale = self.rng.choice(self.sales)
            withdraw = turn % 3 == 0
            item = self.rng.choice(sale.ordinary if withdraw else sale.hot)
            self._act("adjust", lambda sale=sale, item=item, w=withdraw: self._adjust(item, -1 if w else 2))
            self._act("audit", lambda sale=sale: self._audit(sale.id))
            close_old_connections()

    def _act(self, action: str, call) -> None:
        from django.db import close_old_connections

        t0 = self.now()
        try:
            result = call()
            self.actions.append({"t": round(t0, 2), "action": action, "ok": True, "result": result})
        except Exception as exc:
            close_old_connections()
            self.actions.append(
                {
                    "t": round(t0, 2),
                    "end": round(self.now(), 2),
                    "action": action,
                    "ok": False,
                    "error": f"{type(exc).__name__}: {exc}"[:300],
                }
            )

    @staticmethod
    def _adjust(item, delta: int) -> str:
        from plans.adjusting import adjust_stock
        from plans.exceptions import AdjustmentRefused

        try:
            result = adjust_stock(
                item, delta=delta, reason="soak: operator's restock" if delta > 0 else "soak: withdrawn"
            )
        except AdjustmentRefused as exc:
            return f"refused: {exc}"
        return f"item {item.pk}: {result.applied:+d}, {result.remaining} remaining"

    @staticmethod
    def _audit(session_id: int) -> str:
        from reservations.audit import audit_session

        report = audit_session(session_id, now=time.time())
        return report.summary()
