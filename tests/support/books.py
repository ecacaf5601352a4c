"""The books every fault and scale-out test ends with: every reservation Redis knows, each unit in
exactly one place, and every success a shopper saw persisted as a Transaction row once."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from flashsale.store import keys
from flashsale.store.replies import as_str, user_txn_ids
from reservations.models import Transaction
from tests.support.sales import Sale, assert_stock_invariant
from tests.support.shoppers import Attempt


@dataclass
class Books:
    """Every reservation Redis knows for a sale, read through the shoppers' user hashes (``t:`` fields)."""

    txns: dict[str, dict[str, str]] = field(default_factory=dict)

    def of_item(self, item_id: int) -> dict[str, dict[str, str]]:
        return {t: d for t, d in self.txns.items() if d.get("item") == str(item_id)}


def redis_books(r, sale_id: int, user_ids) -> Books:
    books = Books()
    for user_id in user_ids:
        user_hash = r.hgetall(keys.user(sale_id, user_id))
        for txn_id in user_txn_ids(user_hash, r.smembers(keys.user_txns(sale_id, user_id))):
            books.txns[txn_id] = {as_str(k): as_str(v) for k, v in r.hgetall(keys.txn(sale_id, txn_id)).items()}
    return books


def assert_units_accounted(r, sale: Sale, books: Books) -> None:
    """Per item: each unit id is exactly once in the list or in one live txn; held/paid match the txns."""
    for item in sale.items:
        f = assert_stock_invariant(r, sale.id, item.pk)
        on_list = [as_str(u) for u in r.lrange(keys.stock(sale.id, item.pk), 0, -1)]
        held = paid = 0
        taken: list[str] = []
        for data in books.of_item(item.pk).values():
            if data["status"] == "reserved":
                held += int(data["quantity"])
            elif data["status"] == "paid":
                paid += int(data["quantity"])
            else:
                continue
            taken += json.loads(data["units"])
        assert (held, paid) == (f["held"], f["paid"]), (item.pk, held, paid, f)
        assert len(set(on_list)) == len(on_list), "a unit is twice on the list"
        assert len(set(taken)) == len(taken), "a unit is in two reservations"
        assert not set(on_list) & set(taken), "a reserved unit is also on sale"


def assert_every_success_persisted(sale: Sale, books: Books, attempts: list[Attempt]) -> None:
    """Every 303 a shopper saw is a txn in Redis and a Transaction row; every Redis txn is a row, once."""
    seen = {a.txn_id: a for a in attempts if a.status == 303}
    for txn_id, attempt in seen.items():
        assert txn_id in books.txns, f"the shopper got a 303 for {txn_id} but Redis has no such reservation"
        assert books.txns[txn_id]["user"] == str(attempt.user_id)
    rows = {t.txn_id: t for t in Transaction.objects.filter(session=sale.session)}
    assert set(rows) == set(books.txns), {
        "missing rows": set(books.txns) - set(rows),
        "rows unknown to Redis": set(rows) - set(books.txns),
    }
    for txn_id, data in books.txns.items():
        row = rows[txn_id]
        assert row.user_id == int(data["user"]) and row.item_id == int(data["item"])
        assert row.quantity == int(data["quantity"])
        assert row.status == data["status"], (txn_id, row.status, data["status"])
