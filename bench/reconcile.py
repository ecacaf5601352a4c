"""How long reconciling a large day takes, end to end against a real sandbox gateway process
(``make bench``'s ``reconcile_100k_s``; by hand: ``python -m bench reconcile --count 100000``).

``measure_reconcile(count)`` creates ``count`` synthetic transactions on a day of their own,
seeds the same orders (with a few deliberate differences) into a fresh sandbox storage, starts
the sandbox process on loopback, reconciles that day through the HTTP listing, then removes
everything it created.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import tracemalloc
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import requests
from django.conf import settings
from django.contrib.auth import get_user_model
from ulid import ULID

from catalog.models import Product, Provider
from plans.models import SaleItem, SaleSession
from reconciliation.gateway import SandboxGateway
from reconciliation.matching import reconcile_day
from reconciliation.models import ReconciliationRun
from reservations.models import Transaction

BENCH_DAY = date(2000, 1, 3)
PRICE = Decimal("19.90")
BATCH = 5000


@dataclass(frozen=True)
class BenchmarkResult:
    count: int
    seconds: float
    discrepancies: int
    expected_discrepancies: int
    status: str
    peak_traced_bytes: int | None = None

    def summary(self, *, peak_rss_mb: float) -> str:
        """One line for ``python -m bench reconcile``."""
        line = (
            f"reconciled {self.count} transactions in {self.seconds:.2f}s "
            f"({self.count / self.seconds:,.0f}/s); {self.discrepancies} discrepancies "
            f"(expected {self.expected_discrepancies}); status {self.status}; "
            f"peak RSS of this process {peak_rss_mb:.0f} MB"
        )
        if self.peak_traced_bytes is not None:
            line += f"; peak Python allocations while reconciling {self.peak_traced_bytes / 2**20:.1f} MB"
        return line


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _txn_ids(count: int) -> list[str]:
    start = datetime.combine(BENCH_DAY, datetime.min.time(), tzinfo=UTC)
    step = 86_000 / max(count, 1)
    return [str(ULID.from_timestamp((start + timedelta(seconds=i * step)).timestamp())) for i in range(count)]


def _seed_ours(txn_ids: list[str], *, user, session: SaleSession, item: SaleItem) -> None:
    start = datetime.combine(BENCH_DAY, datetime.min.time(), tzinfo=UTC)
    for offset in range(0, len(txn_ids), BATCH):
        rows = []
        for index, txn_id in enumerate(txn_ids[offset : offset + BATCH], start=offset):
            reserved = start + timedelta(seconds=index * 86_000 / len(txn_ids))
            rows.append(
                Transaction(
                    txn_id=txn_id,
                    user=user,
                    session=session,
                    item=item,
                    units=[f"{item.pk}:{index}"],
                    quantity=1,
                    amount=PRICE,
                    currency="EUR",
                    status=Transaction.Status.PAID,
                    reserved_at=reserved,
                    expires_at=reserved + timedelta(minutes=10),
                    paid_at=reserved + timedelta(minutes=1),
                    gateway_order_id=f"ord_{index:020x}",
                )
            )
        Transaction.objects.bulk_create(rows)


def _seed_theirs(store_path: Path, txn_ids: list[str], *, session_id: int, item_id: int, user_id: int) -> int:
    """The gateway's side: the same orders, except every 1000th differs (amount, missing, or extra)."""
    from sandbox_gateway.store import Order, Store

    store = Store(store_path)
    day = BENCH_DAY.isoformat()
    created = datetime.combine(BENCH_DAY, datetime.min.time(), tzinfo=UTC).timestamp()
    differences = 0

    def paid_order(order_id: str, txn_id: str, *, charged: Decimal, at: float, paid_at: float, token_expires_at: int):
        return Order(
            order_id=order_id,
            txn_id=txn_id,
            session_id=session_id,
            item_id=item_id,
            user_id=user_id,
            quantity=1,
            amount=str(PRICE),
            charged_amount=str(charged),
            currency="EUR",
            status="paid",
            nonce="",
            token_expires_at=token_expires_at,
            created_at=at,
            created_date=day,
            paid_at=paid_at,
            cancelled_at=None,
            refunded_at=None,
        )

    def orders():
        nonlocal differences
        for index, txn_id in enumerate(txn_ids):
            charged = PRICE
            if index % 1000 == 1:
                differences += 1  # missing at the gateway
                continue
            if index % 1000 == 2:
                differences += 1
                charged = PRICE + 1
            yield paid_order(
                f"ord_{index:020x}",
                txn_id,
                charged=charged,
                at=created + index,
                paid_at=created + index + 60,
                token_expires_at=int(created) + 600,
            )
        differences += 1  # an order we never heard of
        yield paid_order(
            "ord_unknown", "0" * 26, charged=PRICE, at=created, paid_at=created, token_expires_at=int(created)
        )

    store.insert_orders(orders())
    return differences


def _start_sandbox(*, port: int, db_path: Path, api_key: str) -> subprocess.Popen:
    env = {
        **os.environ,
        "SANDBOX_API_KEY": api_key,
        "SANDBOX_WEBHOOK_SECRET": secrets.token_urlsafe(16),
        "SANDBOX_TOKEN_KEYS": f"bench:{secrets.token_urlsafe(16)}",
        "SANDBOX_DB_PATH": str(db_path),
        "SANDBOX_SITE_URL": "http://127.0.0.1:9",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "sandbox_gateway", "--port", str(port)],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 20
    while True:
        try:
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=0.5).status_code == 200:
                return process
        except requests.ConnectionError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError("the sandbox gateway did not start")
        time.sleep(0.05)


@dataclass
class BenchRows:
    """The rows a run creates around its transactions, removed afterwards whatever happens."""

    user: Any
    provider: Provider
    product: Product
    session: SaleSession
    item: SaleItem

    def delete(self, run: ReconciliationRun | None) -> None:
        if run is not None:
            run.delete()
        Transaction.objects.filter(item=self.item).delete()
        self.item.delete()
        self.session.delete()
        self.product.delete()
        self.provider.delete()
        self.user.delete()


def _create_rows(count: int) -> BenchRows:
    """A shopper, a product and a session of ``BENCH_DAY`` with one item of ``count`` units."""
    suffix = secrets.token_hex(4)
    user = get_user_model().objects.create_user(username=f"bench-recon-{suffix}", password=None)
    provider = Provider.objects.create(name="Benchmark", slug=f"bench-recon-{suffix}")
    product = Product.objects.create(
        provider=provider,
        external_id="bench",
        name="Benchmark product",
        list_price=PRICE * 2,
        latitude=Decimal("48.856600"),
        longitude=Decimal("2.352200"),
    )
    start = datetime.combine(BENCH_DAY, datetime.min.time(), tzinfo=UTC)
    session = SaleSession.objects.create(name="Benchmark", starts_at=start, ends_at=start + timedelta(days=1))
    item = SaleItem.objects.create(session=session, product=product, quantity=count, sale_price=PRICE)
    return BenchRows(user=user, provider=provider, product=product, session=session, item=item)


def _seed_both_sides(rows: BenchRows, count: int, store_path: Path) -> int:
    """Our ``count`` paid transactions and the gateway's orders; returns the differences seeded."""
    txn_ids = _txn_ids(count)
    _seed_ours(txn_ids, user=rows.user, session=rows.session, item=rows.item)
    return _seed_theirs(store_path, txn_ids, session_id=rows.session.pk, item_id=rows.item.pk, user_id=rows.user.pk)


def _stop_sandbox(process: subprocess.Popen | None) -> None:
    if process is not None:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=10)


@dataclass(frozen=True)
class TimedRun:
    run: ReconciliationRun
    seconds: float
    peak_traced_bytes: int | None


def _reconcile_timed(gateway: SandboxGateway, *, trace_memory: bool) -> TimedRun:
    """Reconcile ``BENCH_DAY`` through ``gateway``, timed (and its peak Python allocations, if asked)."""
    if trace_memory:
        # Python allocations only, and it slows the run: a separate measurement from the timing.
        tracemalloc.start()
    began = time.perf_counter()
    run = reconcile_day(BENCH_DAY, trigger=ReconciliationRun.Trigger.BENCHMARK, gateway=gateway, auto_compensate=False)
    seconds = time.perf_counter() - began
    peak = None
    if trace_memory:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return TimedRun(run=run, seconds=seconds, peak_traced_bytes=peak)


def run_benchmark(count: int = 100_000, *, port: int | None = None, trace_memory: bool = False) -> BenchmarkResult:
    """Seed, reconcile ``BENCH_DAY`` through a real sandbox process, clean up; returns the figures."""
    if Transaction.objects.filter(reserved_at__date=BENCH_DAY).exists():
        raise RuntimeError(f"{BENCH_DAY} already has transactions; the benchmark needs that day to itself")
    port = port or _free_port()
    api_key = secrets.token_urlsafe(24)
    rows = _create_rows(count)
    process = None
    timed = None
    with tempfile.TemporaryDirectory(prefix="recon-bench-") as tmp:
        store_path = Path(tmp) / "sandbox.sqlite3"
        try:
            expected = _seed_both_sides(rows, count, store_path)
            process = _start_sandbox(port=port, db_path=store_path, api_key=api_key)
            gateway = SandboxGateway(
                base_url=f"http://127.0.0.1:{port}",
                api_key=api_key,
                webhook_secret=secrets.token_urlsafe(16),
                timeout=60,
            )
            timed = _reconcile_timed(gateway, trace_memory=trace_memory)
            return BenchmarkResult(
                count=count,
                seconds=timed.seconds,
                discrepancies=timed.run.discrepancy_count,
                expected_discrepancies=expected,
                status=timed.run.status,
                peak_traced_bytes=timed.peak_traced_bytes,
            )
        finally:
            _stop_sandbox(process)
            rows.delete(timed.run if timed is not None else None)


def measure_reconcile(count: int = 100_000, *, port: int | None = None) -> float:
    """Seconds to reconcile ``count`` transactions against the real sandbox gateway (setup excluded)."""
    return run_benchmark(count, port=port).seconds
