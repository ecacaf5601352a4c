"""The sandbox gateway's own storage: orders, pending webhook deliveries and injected faults (SQLite)."""

from __future__ import annotations

import json
import secrets
import sqlite3
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS orders (
    order_id TEXT PRIMARY KEY,
    txn_id TEXT NOT NULL,
    session_id INTEGER NOT NULL,
    item_id INTEGER NOT NULL,
    user_id INTEGER NOT NULL,
    quantity INTEGER NOT NULL,
    amount TEXT NOT NULL,
    charged_amount TEXT,
    currency TEXT NOT NULL,
    status TEXT NOT NULL,
    nonce TEXT NOT NULL,
    token_expires_at INTEGER NOT NULL,
    created_at REAL NOT NULL,
    created_date TEXT NOT NULL,
    paid_at REAL,
    cancelled_at REAL,
    refunded_at REAL
);
CREATE INDEX IF NOT EXISTS orders_txn ON orders (txn_id);
CREATE INDEX IF NOT EXISTS orders_day ON orders (created_date, txn_id, order_id);
CREATE TABLE IF NOT EXISTS deliveries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id TEXT NOT NULL,
    order_id TEXT NOT NULL,
    body TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL,
    delivered_at REAL,
    last_status INTEGER,
    last_error TEXT NOT NULL DEFAULT '',
    created_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS deliveries_due ON deliveries (delivered_at, next_attempt_at);
CREATE TABLE IF NOT EXISTS faults (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    target TEXT NOT NULL,
    kind TEXT NOT NULL,
    params TEXT NOT NULL DEFAULT '{}',
    created_at REAL NOT NULL
);
"""

GLOBAL = "*"
FAULT_KINDS = (
    "drop_webhook",
    "duplicate_webhook",
    "late_webhook",
    "charge_amount",
    "charge_currency",
    "double_charge",
)

PENDING, PAID, CANCELLED, REFUNDED = "pending", "paid", "cancelled", "refunded"


class StoreError(Exception):
    """A request the storage refuses; ``code`` is a short machine reason."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Order:
    order_id: str
    txn_id: str
    session_id: int
    item_id: int
    user_id: int
    quantity: int
    amount: str
    charged_amount: str | None
    currency: str
    status: str
    nonce: str
    token_expires_at: int
    created_at: float
    created_date: str
    paid_at: float | None
    cancelled_at: float | None
    refunded_at: float | None

    def as_api(self) -> dict:
        """The order as the API shows it; ``amount`` is what was charged once paid."""
        return {
            "id": self.order_id,
            "txn_id": self.txn_id,
            "session_id": self.session_id,
            "item_id": self.item_id,
            "user_id": self.user_id,
            "quantity": self.quantity,
            "amount": self.charged_amount if self.charged_amount is not None else self.amount,
            "requested_amount": self.amount,
            "currency": self.currency,
            "status": self.status,
            "created_at": _iso(self.created_at),
            "paid_at": _iso(self.paid_at),
            "refunded_at": _iso(self.refunded_at),
        }


@dataclass(frozen=True)
class Fault:
    id: int
    target: str
    kind: str
    params: dict

    def as_api(self) -> dict:
        return {"id": self.id, "target": self.target, "kind": self.kind, "params": self.params}


@dataclass(frozen=True)
class Delivery:
    id: int
    event_id: str
    order_id: str
    body: str
    attempts: int
    next_attempt_at: float


def _iso(ts: float | None) -> str | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC).isoformat()


def _day(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).date().isoformat()


def new_order_id() -> str:
    return f"ord_{secrets.token_hex(10)}"


class Store:
    """One SQLite file; a fresh connection per operation keeps it safe across server threads."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as conn:
            conn.executescript(SCHEMA)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        conn = sqlite3.connect(self.path, timeout=10, isolation_level=None)
        conn.row_factory = sqlite3.Row
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA busy_timeout=10000")
            yield conn
        finally:
            conn.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._connect() as conn:
            # IMMEDIATE takes the write lock up front, so read-then-write steps cannot interleave.
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    # --- orders --------------------------------------------------------------------------

    def open_order(self, *, claims, now: float) -> tuple[Order, bool]:
        """The pending order for a token's transaction, created on first sight.

        Returns ``(order, created)``. A transaction whose order was already paid, cancelled or
        refunded raises ``StoreError("replayed")``: a token opens one checkout only.
        """
        with self._transaction() as conn:
            row = conn.execute(
                "SELECT * FROM orders WHERE txn_id = ? ORDER BY created_at, order_id LIMIT 1", (claims.txn_id,)
            ).fetchone()
            if row is not None:
                order = Order(**dict(row))
                if order.status != PENDING:
                    raise StoreError(
                        "replayed", f"This payment link was already used (order {order.order_id} is {order.status})."
                    )
                return order, False
            order = Order(
                order_id=new_order_id(),
                txn_id=claims.txn_id,
                session_id=claims.session_id,
                item_id=claims.item_id,
                user_id=claims.user_id,
                quantity=claims.units,
                amount=str(Decimal(claims.amount)),
                charged_amount=None,
                currency=claims.currency,
                status=PENDING,
                nonce=secrets.token_urlsafe(24),
                token_expires_at=int(claims.expires_at),
                created_at=now,
                created_date=_day(now),
                paid_at=None,
                cancelled_at=None,
                refunded_at=None,
            )
            self._insert(conn, [order])
            return order, True

    def _insert(self, conn: sqlite3.Connection, orders: Iterable[Order]) -> None:
        fields = list(Order.__dataclass_fields__)
        conn.executemany(
            f"INSERT INTO orders ({', '.join(fields)}) VALUES ({', '.join('?' for _ in fields)})",  # noqa: S608
            ([getattr(order, field) for field in fields] for order in orders),
        )

    def insert_orders(self, orders: Iterable[Order]) -> None:
        """Bulk insert (seeding the sandbox for demos and benchmarks)."""
        with self._transaction() as conn:
            self._insert(conn, orders)

    def get_order(self, order_id: str) -> Order | None:
        with self._connect() as conn:
            row = conn.execute("SELECT * FROM orders WHERE order_id = ?", (order_id,)).fetchone()
        return None if row is None else Order(**dict(row))

    def orders_for_txn(self, txn_id: str) -> list[Order]:
        with self._connect() as conn:
            rows = conn.execute(
                "SELECT * FROM orders WHERE txn_id = ? ORDER BY created_at, order_id", (txn_id,)
            ).fetchall()
        return [Order(**dict(row)) for row in rows]

    def list_orders(self, day: str, *, page: int, page_size: int) -> tuple[list[Order], bool]:
        """One page of a day's orders sorted by (txn_id, order_id); ``has_next`` tells if more follow."""
        with self._connect() as conn:
            rows = conn.execute(
                "SELECT * FROM orders WHERE created_date = ? ORDER BY txn_id, order_id LIMIT ? OFFSET ?",
                (day, page_size + 1, (page - 1) * page_size),
            ).fetchall()
        orders = [Order(**dict(row)) for row in rows[:page_size]]
        return orders, len(rows) > page_size

    def settle(self, order_id: str, nonce: str, *, pay: bool, now: float, compare) -> tuple[Order, list[Fault]]:
        """Pay or cancel a pending order whose form nonce matches; returns the order and its faults."""
        with self._transaction() as conn:
            row = conn.execute("SELECT * FROM orders WHERE order_id = ?", (order_id,)).fetchone()
            if row is None:
                raise StoreError("not_found", "No such order.")
            order = Order(**dict(row))
            if order.status != PENDING:
                raise StoreError("not_pending", f"This order is already {order.status}.")
            if not compare(order.nonce, nonce):
                raise StoreError("bad_nonce", "This form is not valid for the order; open the checkout link again.")
            faults = self._faults_for(conn, order)
            if pay:
                charged, currency = order.amount, order.currency
                for fault in faults:
                    if fault.kind == "charge_amount":
                        charged = _charged(order.amount, fault.params)
                    if fault.kind == "charge_currency":
                        # The same number in another currency, as a misconfigured merchant account charges.
                        currency = str(fault.params.get("currency", "USD")).upper()
                conn.execute(
                    "UPDATE orders SET status = ?, charged_amount = ?, currency = ?, paid_at = ?, nonce = ''"
                    " WHERE order_id = ?",
                    (PAID, charged, currency, now, order_id),
                )
                if any(fault.kind == "double_charge" for fault in faults):
                    # A second charge for the same transaction, as a buggy retry at a real gateway would make.
                    twin = replace(
                        order,
                        order_id=new_order_id(),
                        status=PAID,
                        charged_amount=charged,
                        currency=currency,
                        paid_at=now,
                        nonce="",
                    )
                    self._insert(conn, [twin])
            else:
                conn.execute(
                    "UPDATE orders SET status = ?, cancelled_at = ?, nonce = '' WHERE order_id = ?",
                    (CANCELLED, now, order_id),
                )
            row = conn.execute("SELECT * FROM orders WHERE order_id = ?", (order_id,)).fetchone()
            return Order(**dict(row)), faults

    def refund(self, order_id: str, *, now: float) -> tuple[Order, bool]:
        """Refund a paid order; refunding a refunded order changes nothing. Returns ``(order, changed)``."""
        with self._transaction() as conn:
            row = conn.execute("SELECT * FROM orders WHERE order_id = ?", (order_id,)).fetchone()
            if row is None:
                raise StoreError("not_found", "No such order.")
            order = Order(**dict(row))
            if order.status == REFUNDED:
                return order, False
            if order.status != PAID:
                raise StoreError("not_paid", f"Only a paid order can be refunded; this one is {order.status}.")
            conn.execute("UPDATE orders SET status = ?, refunded_at = ? WHERE order_id = ?", (REFUNDED, now, order_id))
            row = conn.execute("SELECT * FROM orders WHERE order_id = ?", (order_id,)).fetchone()
            return Order(**dict(row)), True

    # --- faults --------------------------------------------------------------------------

    def add_fault(self, *, target: str, kind: str, params: dict, now: float) -> Fault:
        if kind not in FAULT_KINDS:
            raise StoreError("bad_fault", f"Unknown fault kind {kind!r}; one of {', '.join(FAULT_KINDS)}.")
        with self._transaction() as conn:
            cursor = conn.execute(
                "INSERT INTO faults (target, kind, params, created_at) VALUES (?, ?, ?, ?)",
                (target, kind, json.dumps(params), now),
            )
            # An INSERT always sets lastrowid.
            return Fault(id=int(cursor.lastrowid or 0), target=target, kind=kind, params=params)

    def list_faults(self) -> list[Fault]:
        with self._connect() as conn:
            rows = conn.execute("SELECT * FROM faults ORDER BY id").fetchall()
        return [
            Fault(id=row["id"], target=row["target"], kind=row["kind"], params=json.loads(row["params"]))
            for row in rows
        ]

    def clear_faults(self, *, fault_id: int | None = None) -> int:
        with self._transaction() as conn:
            if fault_id is None:
                return conn.execute("DELETE FROM faults").rowcount
            return conn.execute("DELETE FROM faults WHERE id = ?", (fault_id,)).rowcount

    def _faults_for(self, conn: sqlite3.Connection, order: Order) -> list[Fault]:
        rows = conn.execute(
            "SELECT * FROM faults WHERE target IN (?, ?, ?) ORDER BY id", (GLOBAL, order.txn_id, order.order_id)
        ).fetchall()
        return [
            Fault(id=row["id"], target=row["target"], kind=row["kind"], params=json.loads(row["params"]))
            for row in rows
        ]

    # --- webhook deliveries --------------------------------------------------------------

    def enqueue(self, *, event_id: str, order_id: str, body: str, due: float, now: float) -> None:
        with self._transaction() as conn:
            conn.execute(
                "INSERT INTO deliveries (event_id, order_id, body, next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?)",
                (event_id, order_id, body, due, now),
            )

    def next_due(self, now: float) -> tuple[Delivery | None, float | None]:
        """The oldest delivery due now, or None and the time the next one falls due."""
        with self._connect() as conn:
            row = conn.execute(
                "SELECT * FROM deliveries WHERE delivered_at IS NULL ORDER BY next_attempt_at, id LIMIT 1"
            ).fetchone()
        if row is None:
            return None, None
        if row["next_attempt_at"] > now:
            return None, row["next_attempt_at"]
        return (
            Delivery(
                id=row["id"],
                event_id=row["event_id"],
                order_id=row["order_id"],
                body=row["body"],
                attempts=row["attempts"],
                next_attempt_at=row["next_attempt_at"],
            ),
            None,
        )

    def mark_delivered(self, delivery_id: int, *, status: int, now: float) -> None:
        with self._transaction() as conn:
            conn.execute(
                "UPDATE deliveries SET delivered_at = ?, last_status = ?, attempts = attempts + 1 WHERE id = ?",
                (now, status, delivery_id),
            )

    def mark_failed(self, delivery_id: int, *, status: int | None, error: str, retry_at: float) -> None:
        with self._transaction() as conn:
            conn.execute(
                "UPDATE deliveries SET attempts = attempts + 1, last_status = ?, last_error = ?, next_attempt_at = ? "
                "WHERE id = ?",
                (status, error[:500], retry_at, delivery_id),
            )

    def list_deliveries(self, *, order_id: str | None = None) -> list[dict]:
        query = "SELECT id, event_id, order_id, attempts, next_attempt_at, delivered_at, last_status, last_error FROM deliveries"
        args: tuple = ()
        if order_id:
            query += " WHERE order_id = ?"
            args = (order_id,)
        with self._connect() as conn:
            rows = conn.execute(query + " ORDER BY id", args).fetchall()
        return [dict(row) for row in rows]


def _charged(amount: str, params: dict) -> str:
    """The amount a ``charge_amount`` fault charges: an explicit ``amount`` or ``amount + delta``."""
    if params.get("amount") is not None:
        return str(Decimal(str(params["amount"])).quantize(Decimal("0.01")))
    return str((Decimal(amount) + Decimal(str(params.get("delta", "1.00")))).quantize(Decimal("0.01")))


def now_ts() -> float:
    return time.time()
