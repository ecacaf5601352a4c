"""The processes and stores a bench run uses: its own database and Redis db, wrk, gunicorn."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import redis
from psycopg import sql

from bench.config import BASE_DIR, BenchConfig, GunicornOptions
from bench.cpu import TICKS_PER_SECOND, process_seconds


class BenchError(Exception):
    """The bench cannot run (missing tool, unsafe target, server that does not start)."""


def recreate_database(database_url: str, *, must_contain: str = "bench") -> None:
    """Drop and create a run's database (the bench's, the soak's), so every run starts empty."""
    parts = urlsplit(database_url)
    name = parts.path.lstrip("/")
    if must_contain not in name:
        # The run drops this database: refuse anything that does not look like the run's own.
        raise BenchError(f"refusing to recreate database {name!r}: its name must contain {must_contain!r}")
    maintenance = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(maintenance, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def redis_client(redis_url: str) -> redis.Redis:
    return redis.Redis.from_url(redis_url, decode_responses=True)


def ensure_wrk() -> str:
    """wrk from Debian's packages, installed on first use."""
    found = shutil.which("wrk")
    if found:
        return found
    print("bench: wrk is not on PATH, installing it with apt-get", flush=True)
    apt = ["apt-get"] if os.geteuid() == 0 else ["sudo", "-n", "apt-get"]
    result = subprocess.run([*apt, "install", "-y", "wrk"], capture_output=True, text=True)
    if result.returncode != 0:
        subprocess.run([*apt, "update"], capture_output=True)
        result = subprocess.run([*apt, "install", "-y", "wrk"], capture_output=True, text=True)
    found = shutil.which("wrk")
    if not found:
        raise BenchError(f"could not install wrk: {result.stderr.strip()[-500:]}")
    return found


def require_tool(name: str) -> str:
    found = shutil.which(name)
    if not found:
        raise BenchError(f"{name} is not on PATH")
    return found


def site_environment(config: BenchConfig) -> dict[str, str]:
    """The environment of every Django process of the run (gunicorn, component measurements)."""
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="bench.settings",
        DATABASE_URL=config.database_url,
        REDIS_URL=config.redis_url,
        DEBUG="0",
        LOG_LEVEL="WARNING",
        # Every bench request comes from 127.0.0.1 and each shopper sends a few per second: limits
        # far above the load keep the rate limiter on the path (its Redis work is measured) but
        # never refusing.
        FLASHSALE_RESERVE_RATE_USER="1000000/s",
        FLASHSALE_RESERVE_RATE_IP="1000000/s",
        PYTHONPATH=os.pathsep.join(filter(None, [str(BASE_DIR), env.get("PYTHONPATH", "")])),
    )
    return env


def _children(pid: int) -> list[int]:
    children = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name may contain spaces; the parent pid is the 2nd field after the ")".
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid:
            children.append(int(entry.name))
    return children


class Gunicorn:
    """The site under gunicorn, as in the Procfile but with the bench settings and no access log."""

    def __init__(self, config: BenchConfig, options: GunicornOptions, *, log_path: Path):
        self.config = config
        self.options = options
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "bench.wsgi:application",
            "--bind",
            f"127.0.0.1:{self.config.port}",
            *self.options.args(),
            "--backlog",
            "2048",
            "--keep-alive",
            "5",
            "--log-level",
            "warning",
        ]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                command,
                cwd=BASE_DIR,
                env=site_environment(self.config),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self._wait_ready()

    def _wait_ready(self, timeout_s: float = 30.0) -> None:
        deadline = time.monotonic() + timeout_s
        url = f"{self.config.base_url}/bench/floor/"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BenchError(f"gunicorn exited with {self.process.returncode}; see {self.log_path}")
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200 and len(_children(self.process.pid)) >= self.options.workers:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.1)
        self.stop()
        raise BenchError(f"gunicorn did not answer {url} within {timeout_s:.0f}s; see {self.log_path}")

    def wait_idle(self, *, window_s: float = 0.3, limit_s: float = 10.0) -> float:
        """Wait until the workers stop using CPU: a burst leaves requests queued in the backlog
        (wrk closes its connections, gunicorn still serves what was sent), and they must not be
        billed to the next scenario. Returns the seconds waited."""
        started = time.monotonic()
        previous = self._cpu_ticks()
        while time.monotonic() - started < limit_s:
            time.sleep(window_s)
            current = self._cpu_ticks()
            if current - previous <= 1 and not self._connections_pending():
                break
            previous = current
        return time.monotonic() - started

    def _connections_pending(self) -> int:
        """Connections to the server's port not yet answered: queued for accept, or still open."""
        pending = 0
        port = f"{self.config.port:04X}"
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            try:
                lines = Path(table).read_text().splitlines()[1:]
            except OSError:
                continue
            for line in lines:
                fields = line.split()
                local, state, queues = fields[1], fields[3], fields[4]
                if not local.endswith(":" + port):
                    continue
                if state == "0A":  # LISTEN: rx_queue is the accept backlog
                    pending += int(queues.split(":")[1], 16)
                elif state in {"01", "08"}:  # ESTABLISHED, CLOSE_WAIT: a request may be in flight
                    pending += 1
        return pending

    def _cpu_ticks(self) -> int:
        seconds = (process_seconds(pid) for pid in self.worker_pids())
        return round(sum(s for s in seconds if s is not None) * TICKS_PER_SECOND)

    def worker_pids(self) -> list[int]:
        return _children(self.process.pid) if self.process else []

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)

    def __enter__(self) -> Gunicorn:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
