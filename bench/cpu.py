"""Where a burst's CPU goes: CPU time per request of the web workers, Redis, PostgreSQL and wrk.

Requests per second say how fast; CPU per request says what each request costs and who pays it,
which holds better on a shared machine and shows why one scenario is slower than another (the
workers' own work, the Redis server, the kernel). Read from ``/proc`` (Linux), so only processes
on this machine are seen: a remote Redis or PostgreSQL shows as null.

``machine`` is every CPU of the box busy (user, system, interrupts; steal excluded), whoever used
it; ``steal`` is time the hypervisor gave to other guests while this one wanted to run.
"""

from __future__ import annotations

import os
import resource
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
PROC = Path("/proc")


def process_seconds(pid: int) -> float | None:
    """User + system CPU seconds of one process so far (None once it is gone)."""
    try:
        stat = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS_PER_SECOND


def _command_name(pid: int) -> str:
    try:
        return (PROC / str(pid) / "comm").read_text().strip()
    except OSError:
        return ""


def _processes_named(name: str) -> list[int]:
    return [
        int(entry.name) for entry in PROC.iterdir() if entry.name.isdigit() and _command_name(int(entry.name)) == name
    ]


def _machine_seconds() -> tuple[float, float]:
    """(busy, steal) CPU seconds of the whole machine so far, all CPUs together."""
    try:
        first = (PROC / "stat").read_text().splitlines()[0].split()
    except OSError:
        return 0.0, 0.0
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in first[1:9])
    return (user + nice + system + irq + softirq) / TICKS_PER_SECOND, steal / TICKS_PER_SECOND


@dataclass(frozen=True)
class CpuReading:
    web: dict[int, float]
    redis: float | None
    postgres: dict[int, float]
    children: float
    machine: float
    steal: float


class CpuMeter:
    """Reads the CPU time used so far by each group; ``per_request`` turns two readings into µs/request.

    ``web_pids`` gives the gunicorn master and its workers; ``redis_pid`` is the Redis server's
    pid from INFO, or None when it is not on this machine. wrk runs as a child of this
    process, so its CPU is this process's reaped children's (``RUSAGE_CHILDREN``).
    """

    def __init__(self, *, web_pids: Callable[[], list[int]], redis_pid: int | None):
        self.web_pids = web_pids
        self.redis_pid = redis_pid if redis_pid and _command_name(redis_pid).startswith("redis") else None

    def read(self) -> CpuReading:
        web = {pid: process_seconds(pid) for pid in self.web_pids()}
        postgres = {pid: process_seconds(pid) for pid in _processes_named("postgres")}
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        machine, steal = _machine_seconds()
        return CpuReading(
            web={pid: s for pid, s in web.items() if s is not None},
            redis=process_seconds(self.redis_pid) if self.redis_pid else None,
            postgres={pid: s for pid, s in postgres.items() if s is not None},
            children=children.ru_utime + children.ru_stime,
            machine=machine,
            steal=steal,
        )

    @staticmethod
    def per_request(before: CpuReading, after: CpuReading, requests: int) -> dict[str, float | None] | None:
        """µs of CPU per request by group between two readings (processes gone by ``after`` are not counted)."""
        if requests <= 0:
            return None

        def spent(first: dict[int, float], last: dict[int, float]) -> float:
            return sum(seconds - first.get(pid, 0.0) for pid, seconds in last.items())

        def us(seconds: float | None) -> float | None:
            return None if seconds is None else round(seconds * 1e6 / requests, 1)

        redis = None if before.redis is None or after.redis is None else after.redis - before.redis
        postgres = spent(before.postgres, after.postgres) if after.postgres else None
        return {
            "web": us(spent(before.web, after.web)),
            "redis": us(redis),
            "postgres": us(postgres),
            "wrk": us(after.children - before.children),
            "machine": us(after.machine - before.machine),
            "steal": us(after.steal - before.steal),
        }
