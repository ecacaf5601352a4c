"""The soak's fault loop: each planned fault injected in turn, then the site watched until it has
recovered without a hand (the supervisor's restarts aside, as a restart policy would do them).

A fault's window runs from its start to its recovery plus ``GRACE_SECONDS``: 5xx answers and
timeouts the crowd sees inside a window are the fault's; outside every window they fail the run.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import requests

from bench.soak import schedule as kinds
from bench.soak.schedule import PlannedFault

GRACE_SECONDS = 5.0
RECOVERY_LIMIT_SECONDS = 120.0
PROBE_INTERVAL_SECONDS = 0.25
# The drainer has caught up when the oldest unpersisted reservation event is younger than this.
DRAIN_CAUGHT_UP_SECONDS = 5.0
ORCHESTRATOR_APP_NAME = "soak-orchestrator"


@dataclass
class FaultRecord:
    kind: str
    params: dict
    planned_at: float
    started: float = 0.0
    outage_end: float = 0.0
    recovered_at: float | None = None
    detail: str = ""
    waiting_for: list[str] = field(default_factory=list)

    @property
    def recovery_seconds(self) -> float | None:
        return None if self.recovered_at is None else round(self.recovered_at - self.outage_end, 2)

    def window(self, *, run_end: float) -> tuple[float, float]:
        end = self.recovered_at if self.recovered_at is not None else run_end
        return (self.started, end + GRACE_SECONDS)

    def as_dict(self) -> dict:
        data = asdict(self)
        data["recovery_seconds"] = self.recovery_seconds
        return data


class Probes:
    """What "recovered" means, one check per part of the site."""

    def __init__(self, stack, probe_shopper, sales):
        self.stack = stack
        self.browser = probe_shopper.browser()
        self.user_id = probe_shopper.user_id
        self.sales = sales
        self.sale_ids = [sale.id for sale in sales]
        self._probes = 0

    def site(self) -> bool:
        try:
            for node in self.stack.web:
                if requests.get(f"{node.url}/healthz", timeout=2).status_code != 200:
                    return False
                page = self.browser.get(f"{node.url}/sessions/{self.sale_ids[0]}/", timeout=3, allow_redirects=False)
                if page.status_code != 200:
                    return False
        except requests.RequestException:
            return False
        return True

    def web_workers(self) -> bool:
        return all(len(node.worker_pids()) == node.workers for node in self.stack.web)

    def drained(self) -> bool:
        from reservations.drain import drain_lag, redis_now

        if not self.stack.managed["drainer"].alive():
            return False
        try:
            r = self.stack.redis.client()
            now = redis_now(r)
            return all(drain_lag(sid, now=now, client=r).oldest_age < DRAIN_CAUGHT_UP_SECONDS for sid in self.sale_ids)
        except Exception:  # Redis not back yet
            return False

    def new_reservation_persisted(self) -> Callable[[], bool]:
        """A reservation made after the fault reaches PostgreSQL (then is cancelled, its unit back on sale):
        the drainer works again end to end, not merely runs."""
        made: dict[str, tuple[int, str]] = {}
        self._probes += 1
        sale = self.sales[self._probes % len(self.sales)]
        item = sale.ordinary[self._probes % len(sale.ordinary)]

        def persisted() -> bool:
            from ulid import ULID

            from reservations import holds
            from reservations.models import Transaction

            try:
                if not made:
                    txn_id = str(ULID())
                    holds.reserve_units(
                        sale.id, item.pk, user_id=self.user_id, quantity=1, txn_id=txn_id, now=time.time()
                    )
                    made["txn"] = (sale.id, txn_id)
                session_id, txn_id = made["txn"]
                if not Transaction.objects.filter(txn_id=txn_id).exists():
                    return False
                holds.release_hold(session_id, txn_id, reason="cancelled", now=time.time())
            except Exception:  # a store not back yet
                from django.db import close_old_connections

                close_old_connections()
                return False
            return True

        return persisted

    def heartbeat_after(self, wall_time: float) -> Callable[[], bool]:
        """Beat's heartbeat task ran after ``wall_time``: beat, the broker and a worker all work."""

        def fresh() -> bool:
            from flashsale.store import keys

            try:
                raw = self.stack.redis.client().get(keys.beat_heartbeat())
            except Exception:  # Redis not back yet
                return False
            return raw is not None and float(raw) > wall_time

        return fresh

    def gateway(self) -> bool:
        try:
            return requests.get(f"{self.stack.gateway.url}/healthz", timeout=2).status_code == 200
        except requests.RequestException:
            return False


class FaultLoop:
    """Runs the schedule against ``stack`` on the crowd's clock; ``records`` grows as faults happen."""

    def __init__(self, stack, schedule: list[PlannedFault], probes: Probes, now: Callable[[], float]):
        self.stack = stack
        self.schedule = schedule
        self.probes = probes
        self.now = now
        self.records: list[FaultRecord] = []
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="soak-faults", daemon=True)
        self.error: str = ""

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self._stop.set()
        self.thread.join(timeout=RECOVERY_LIMIT_SECONDS + 60)

    def _run(self) -> None:
        try:
            for planned in self.schedule:
                if self._stop.wait(max(0.0, planned.at - self.now())):
                    return
                record = FaultRecord(kind=planned.kind, params=planned.params, planned_at=planned.at)
                self.records.append(record)
                record.started = self.now()
                print(f"soak: {record.started:7.1f}s fault {planned.kind} {planned.params or ''}", flush=True)
                wall = time.time()
                probes = self._inject(record)
                record.outage_end = self.now()
                self._await_recovery(record, probes, wall)
                print(
                    f"soak: {self.now():7.1f}s {planned.kind} recovered in {record.recovery_seconds}s"
                    + (f" (still waiting for {record.waiting_for})" if record.recovered_at is None else ""),
                    flush=True,
                )
        except Exception as exc:  # the loop must not die silently: the run reports it
            self.error = f"{type(exc).__name__}: {exc}"
            raise

    def _await_recovery(self, record: FaultRecord, probes: dict[str, Callable[[], bool]], wall: float) -> None:
        deadline = time.monotonic() + RECOVERY_LIMIT_SECONDS
        while time.monotonic() < deadline:
            failing = [name for name, probe in probes.items() if not probe()]
            if not failing:
                record.recovered_at = self.now()
                record.waiting_for = []
                return
            record.waiting_for = failing
            time.sleep(PROBE_INTERVAL_SECONDS)

    # --- the faults ------------------------------------------------------------------------------

    def _inject(self, record: FaultRecord) -> dict[str, Callable[[], bool]]:
        p = self.probes
        stack = self.stack
        kind = record.kind
        site = {"site": p.site}
        if kind == kinds.KILL_WEB_WORKER:
            node = stack.web[record.params["node"]]
            pid = sorted(node.worker_pids())[0]
            os.kill(pid, signal.SIGKILL)
            record.detail = f"SIGKILL worker {pid} of node {record.params['node']}"
            return {**site, "web_workers": p.web_workers}
        if kind == kinds.KILL_DRAINER:
            record.detail = f"SIGKILL drainer {stack.managed['drainer'].kill()}"
            return {"drained": p.drained, "persisted": p.new_reservation_persisted()}
        if kind == kinds.KILL_CELERY_WORKER:
            record.detail = f"SIGKILL celery worker {stack.managed['celery_worker'].kill()}"
            return {"heartbeat": p.heartbeat_after(time.time())}
        if kind == kinds.RESTART_BEAT:
            beat = stack.managed["beat"]
            with stack.lock:
                beat.down = True
                beat.stop()
                beat.start()
                beat.down = False
            record.detail = f"beat restarted (SIGTERM, then started again as {beat.process.pid})"
            return {"heartbeat": p.heartbeat_after(time.time())}
        if kind in (kinds.REDIS_SHUTDOWN, kinds.REDIS_KILL, kinds.REDIS_FREEZE):
            record.detail = self._redis(kind, record.params)
            return {
                **site,
                "drained": p.drained,
                "persisted": p.new_reservation_persisted(),
                "heartbeat": p.heartbeat_after(time.time()),
            }
        if kind == kinds.GATEWAY_DOWN:
            stack.gateway.stop()
            self._stop.wait(record.params["seconds"])
            stack.gateway.start()
            record.detail = f"gateway stopped for {record.params['seconds']:g}s"
            return {**site, "gateway": p.gateway}
        if kind == kinds.PG_TERMINATE:
            record.detail = f"pg_terminate_backend on {terminate_site_connections()} connections"
            return {
                **site,
                "drained": p.drained,
                "persisted": p.new_reservation_persisted(),
                "heartbeat": p.heartbeat_after(time.time()),
            }
        raise ValueError(f"unknown fault kind {kind!r}")

    def _redis(self, kind: str, params: dict) -> str:
        redis = self.stack.redis
        if kind == kinds.REDIS_FREEZE:
            pid = redis.process.pid
            os.kill(pid, signal.SIGSTOP)
            try:
                self._stop.wait(params["seconds"])
            finally:
                os.kill(pid, signal.SIGCONT)
            return f"SIGSTOP redis-server for {params['seconds']:g}s, then SIGCONT"
        if kind == kinds.REDIS_SHUTDOWN:
            redis.shutdown()
            redis.start()
            return "SHUTDOWN (AOF fsynced), started again"
        redis.crash()
        redis.start()
        return "SIGKILL redis-server, started again (appendfsync always)"


def terminate_site_connections() -> int:
    """``pg_terminate_backend`` on every connection to the soak's database but the orchestrator's own."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid() AND application_name <> %s",
            [ORCHESTRATOR_APP_NAME],
        )
        return int(cursor.fetchone()[0])
