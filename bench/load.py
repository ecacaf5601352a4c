"""Load generators: wrk for HTTP bursts, redis-benchmark and pgbench for the decision engines."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
from dataclasses import asdict, dataclass, field
from pathlib import Path
from statistics import median
from urllib.parse import urlsplit

BENCH_DIR = Path(__file__).resolve().parent
WRK_SCRIPT = BENCH_DIR / "lua" / "shoppers.lua"
CROWD_SCRIPT = BENCH_DIR / "lua" / "crowd.lua"
PGBENCH_SCRIPT = BENCH_DIR / "pg" / "hot_row.sql"


@dataclass(frozen=True)
class Burst:
    """One wrk run of one scenario."""

    requests: int
    duration_s: float
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    socket_errors: int
    non_2xx_3xx: int
    statuses: dict[str, int] = field(default_factory=dict)
    # Redirects to where a success goes (the gateway's checkout) and to anywhere else.
    redirects_expected: int = 0
    redirects_other: int = 0
    # CPU µs per request by process group (bench.cpu), when measured.
    cpu_us: dict[str, float | None] | None = None
    # Shopper journeys begun (the crowd scenario: page, 10 polls, one Reserve click each).
    journeys: int | None = None

    def as_dict(self) -> dict:
        return asdict(self)


def run_wrk(
    *,
    url: str,
    shoppers_file: Path,
    method: str,
    path: str,
    threads: int,
    connections: int,
    duration_s: int,
    body: str = "",
    location_prefix: str = "",
    journey: tuple[str, str, str, str] | None = None,
) -> Burst:
    """One wrk burst: ``path`` for every request, or with ``journey`` (page, poll, reserve, body)
    the crowd's journey per shopper (``lua/crowd.lua``)."""
    script_args = (
        [str(shoppers_file), str(threads), *journey]
        if journey
        else [str(shoppers_file), method, path, str(threads), body, location_prefix]
    )
    command = [
        "wrk",
        "-t",
        str(threads),
        "-c",
        str(connections),
        "-d",
        f"{duration_s}s",
        "--timeout",
        "10s",
        "--latency",
        "-s",
        str(CROWD_SCRIPT if journey else WRK_SCRIPT),
        url,
        "--",
        *script_args,
    ]
    completed = subprocess.run(command, capture_output=True, text=True, timeout=duration_s + 60)
    line = next((ln for ln in completed.stdout.splitlines() if ln.startswith("BENCH_RESULT ")), None)
    if completed.returncode != 0 or line is None:
        raise RuntimeError(
            f"wrk failed ({completed.returncode}): {completed.stderr.strip() or completed.stdout[-800:]}"
        )
    data = json.loads(line.removeprefix("BENCH_RESULT "))
    seconds = data["duration_us"] / 1e6
    errors = data["errors"]
    statuses = {str(k): v for k, v in sorted(data["statuses"].items())}
    non_ok = sum(count for status, count in statuses.items() if not 200 <= int(status) < 400)
    latency = data["latency_us"]
    return Burst(
        requests=data["requests"],
        duration_s=round(seconds, 3),
        rps=round(data["requests"] / seconds, 1) if seconds else 0.0,
        p50_ms=latency["p50"] / 1000,
        p90_ms=latency["p90"] / 1000,
        p99_ms=latency["p99"] / 1000,
        max_ms=latency["max"] / 1000,
        socket_errors=errors["connect"] + errors["read"] + errors["write"] + errors["timeout"],
        non_2xx_3xx=non_ok,
        statuses=statuses,
        redirects_expected=data["redirects"]["expected"],
        redirects_other=data["redirects"]["other"],
        journeys=data.get("journeys"),
    )


def summarize(bursts: list[Burst]) -> dict:
    """Medians over the rounds, plus every round as measured."""
    if not bursts:
        return {}
    return {
        "rps": round(median(b.rps for b in bursts), 1),
        "p50_ms": round(median(b.p50_ms for b in bursts), 3),
        "p99_ms": round(median(b.p99_ms for b in bursts), 3),
        "requests": sum(b.requests for b in bursts),
        "socket_errors": sum(b.socket_errors for b in bursts),
        "non_2xx_3xx": sum(b.non_2xx_3xx for b in bursts),
        "statuses": _sum_statuses(bursts),
        "redirects_expected": sum(b.redirects_expected for b in bursts),
        "redirects_other": sum(b.redirects_other for b in bursts),
        "cpu_us_per_request": _median_cpu(bursts),
        "journeys": sum(b.journeys for b in bursts if b.journeys) or None,
        "rounds": [b.as_dict() for b in bursts],
    }


def _median_cpu(bursts: list[Burst]) -> dict[str, float | None] | None:
    measured = [b.cpu_us for b in bursts if b.cpu_us]
    if not measured:
        return None
    groups = {group for cpu in measured for group in cpu}
    return {
        group: round(median(values), 1)
        if (values := [c[group] for c in measured if c.get(group) is not None])
        else None
        for group in sorted(groups)
    }


def _sum_statuses(bursts: list[Burst]) -> dict[str, int]:
    total: dict[str, int] = {}
    for burst in bursts:
        for status, count in burst.statuses.items():
            total[status] = total.get(status, 0) + count
    return dict(sorted(total.items()))


def run_redis_benchmark(*, redis_url: str, clients: int, requests: int, keyspace: int, command: list[str]) -> dict:
    """Requests/s of one Redis command line (``__rand_int__`` in it is replaced per request)."""
    parts = urlsplit(redis_url)
    db = parts.path.lstrip("/") or "0"
    args = [
        "redis-benchmark",
        "-h",
        parts.hostname or "127.0.0.1",
        "-p",
        str(parts.port or 6379),
        "--dbnum",
        db,
        "-c",
        str(clients),
        "-n",
        str(requests),
        "-r",
        str(keyspace),
        "--csv",
        *command,
    ]
    if parts.password:
        args[1:1] = ["-a", parts.password]
    completed = subprocess.run(args, capture_output=True, text=True, timeout=300)
    rows = [row for row in csv.reader(io.StringIO(completed.stdout)) if row and row[0] != "test"]
    if completed.returncode != 0 or not rows:
        raise RuntimeError(f"redis-benchmark failed: {completed.stderr.strip() or completed.stdout[-500:]}")
    row = rows[-1]
    result = {"rps": float(row[1])}
    if len(row) >= 8:
        result.update(avg_ms=float(row[2]), p50_ms=float(row[4]), p99_ms=float(row[6]))
    if "error" in completed.stderr.lower():
        result["stderr"] = completed.stderr.strip()[-300:]
    return result


def run_pgbench(*, database_url: str, clients: int, seconds: int, variables: dict[str, int]) -> dict:
    parts = urlsplit(database_url)
    args = [
        "pgbench",
        "-h",
        parts.hostname or "127.0.0.1",
        "-p",
        str(parts.port or 5432),
        "-U",
        parts.username or "postgres",
        "-n",
        "-c",
        str(clients),
        "-j",
        str(min(clients, 2)),
        "-T",
        str(seconds),
        "-f",
        str(PGBENCH_SCRIPT),
    ]
    for name, value in variables.items():
        args += ["-D", f"{name}={value}"]
    args.append(parts.path.lstrip("/"))
    env = {**os.environ, "PGPASSWORD": parts.password} if parts.password else None
    completed = subprocess.run(args, capture_output=True, text=True, timeout=seconds + 120, env=env)
    match = re.search(r"tps = ([\d.]+) \(without initial connection time\)", completed.stdout)
    if completed.returncode != 0 or not match:
        raise RuntimeError(f"pgbench failed: {completed.stderr.strip()[-500:] or completed.stdout[-500:]}")
    result = {"tps": float(match.group(1))}
    latency = re.search(r"latency average = ([\d.]+) ms", completed.stdout)
    failed = re.search(r"number of failed transactions: (\d+)", completed.stdout)
    processed = re.search(r"number of transactions actually processed: (\d+)", completed.stdout)
    if latency:
        result["avg_ms"] = float(latency.group(1))
    if failed:
        result["failed"] = int(failed.group(1))
    if processed:
        result["transactions"] = int(processed.group(1))
    return result
