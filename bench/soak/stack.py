"""The soak's processes: its own Redis (AOF, fsync on every write) and database, two gunicorn nodes,
the Celery worker and beat, the drainer and the sandbox gateway, and a supervisor that restarts what
a fault killed, as a container restart policy would.

The process classes are the fault suites' (``tests/support/processes.py``): one way to start and
stop the site's processes. Everything runs in its own process group and ``Stack.stop`` ends it all.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench import infra

SOAK_PORTS = range(16400, 16500)
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/flashsale_soak"
# The soak's own settings for every site process: holds short enough to expire many times in a
# run, beat's heartbeat often enough to time a worker's or beat's recovery, passes that outlive it.
RESERVATION_TTL_SECONDS = 30
SITE_SETTINGS = {
    "FLASHSALE_RESERVATION_TTL_SECONDS": str(RESERVATION_TTL_SECONDS),
    "FLASHSALE_EXPIRE_EVERY_SECONDS": "5",
    "FLASHSALE_BEAT_HEARTBEAT_SECONDS": "5",
    "FLASHSALE_CAPTCHA_PASS_SECONDS": "14400",
    "FLASHSALE_RESERVE_TICKET_SECONDS": "14400",
}
WEB_WORKERS_PER_NODE = 2
SUPERVISOR_PERIOD_SECONDS = 0.5


def recreate_database(database_url: str) -> None:
    """Drop and create the soak's database (its name must contain 'soak': it is dropped)."""
    infra.recreate_database(database_url, must_contain="soak")


def prepare_environment(*, database_url: str, redis_url: str, gateway_url: str) -> None:
    """This process's environment before Django starts: the soak's stores and secrets of its own."""
    os.environ.update(
        DJANGO_SETTINGS_MODULE="flashsale.settings",
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        FLASHSALE_GATEWAY_URL=gateway_url,
        SECRET_KEY=secrets.token_hex(32),
        FLASHSALE_TOKEN_KEYS=f"soak:{secrets.token_hex(32)}",
        FLASHSALE_TOKEN_SIGNING_KEY_ID="soak",
        FLASHSALE_GATEWAY_WEBHOOK_SECRET=secrets.token_hex(32),
        FLASHSALE_GATEWAY_API_KEY=secrets.token_hex(16),
        FLASHSALE_CAPTCHA_TEST_MODE="0",
        LOG_LEVEL="WARNING",
        **SITE_SETTINGS,
    )
    for name in ("FLASHSALE_SALE_REDIS_URL", "FLASHSALE_REDIS_MODE", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND"):
        os.environ.pop(name, None)


@dataclass
class Managed:
    """A process the supervisor keeps running: ``down`` while a fault holds it down on purpose."""

    name: str
    command: list[str]
    env: dict[str, str]
    log_path: Path
    process: subprocess.Popen | None = None
    down: bool = False
    killed_at: float | None = None
    starts: int = 0
    unplanned_exits: list[dict] = field(default_factory=list)

    def start(self) -> None:
        from tests.support.processes import spawn

        self.process = spawn(self.command, env=self.env, log_path=self.log_path)
        self.starts += 1

    def kill(self) -> int:
        """SIGKILL the process (not its group: a restart policy sees the main process die)."""
        assert self.process is not None
        pid = self.process.pid
        self.killed_at = time.monotonic()
        self.process.kill()
        self.process.wait(timeout=30)
        return pid

    def stop(self) -> None:
        from tests.support.processes import stop_group

        if self.process is not None:
            stop_group(self.process)

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def log_tail(self, chars: int = 2000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:] if self.log_path.exists() else ""


class Stack:
    """Every process of one soak run; ``start`` brings them up, ``stop`` ends them (also half-started)."""

    def __init__(self, *, workdir: Path, database_url: str):
        from tests.support.processes import free_port

        self.workdir = workdir
        self.database_url = database_url
        self.redis_port = free_port(SOAK_PORTS)
        self.redis_url = f"redis://127.0.0.1:{self.redis_port}/0"
        self.web_ports = [free_port(SOAK_PORTS) for _ in range(2)]
        self.gateway_port = free_port(SOAK_PORTS)
        self.gateway_url = f"http://127.0.0.1:{self.gateway_port}"
        self.redis = None
        self.gateway = None
        self.web: list = []
        self.managed: dict[str, Managed] = {}
        self._stop = threading.Event()
        self._supervisor: threading.Thread | None = None
        self.lock = threading.Lock()

    # --- start -------------------------------------------------------------------------------

    def start_redis(self) -> None:
        from tests.support.processes import PrivateRedis

        self.redis = PrivateRedis(workdir=self.workdir / "redis", aof=True, port=self.redis_port).start()

    def start_site(self) -> None:
        from tests.support.processes import Gunicorn, SandboxGateway, site_environment

        env = site_environment(redis_url=self.redis_url, gateway_url=self.gateway_url, **SITE_SETTINGS)
        # The orchestrator's connection name (spared by pg_terminate_backend) is not the site's.
        env.pop("PGAPPNAME", None)
        self.site_env = env
        for port in self.web_ports:
            node = Gunicorn(env=env, workers=WEB_WORKERS_PER_NODE, log_dir=self.workdir, port=port)
            self.web.append(node)
            node.start()
        self.gateway = SandboxGateway(
            port=self.gateway_port,
            db_path=self.workdir / "sandbox.sqlite3",
            site_url=self.web[0].url,
            delivery_timeout_seconds=5,
        )
        self.gateway.start()
        python = sys.executable
        commands = {
            "drainer": [python, "manage.py", "drain_transactions", "--follow", "--interval", "0.5"],
            "celery_worker": [python, "-m", "celery", "-A", "flashsale", "worker", "--pool", "solo", "-l", "WARNING"],
            "beat": [
                python, "-m", "celery", "-A", "flashsale", "beat", "-l", "WARNING",
                "-s", str(self.workdir / "beat-schedule"),
            ],
        }  # fmt: skip
        for name, command in commands.items():
            managed = Managed(name=name, command=command, env=env, log_path=self.workdir / f"{name}.log")
            managed.start()
            self.managed[name] = managed
        self._supervisor = threading.Thread(target=self._supervise, name="soak-supervisor", daemon=True)
        self._supervisor.start()

    # --- the restart policy ------------------------------------------------------------------

    def _supervise(self) -> None:
        while not self._stop.wait(SUPERVISOR_PERIOD_SECONDS):
            with self.lock:
                for managed in self.managed.values():
                    if managed.down or managed.alive():
                        continue
                    if managed.killed_at is None:
                        # Nobody killed it: it exited on its own (a bug the soak is here to find).
                        managed.unplanned_exits.append(
                            {
                                "at": time.monotonic(),
                                "code": managed.process.returncode if managed.process else None,
                                "log_tail": managed.log_tail(),
                            }
                        )
                    managed.killed_at = None
                    managed.start()

    # --- stop --------------------------------------------------------------------------------

    def stop(self) -> None:
        self._stop.set()
        if self._supervisor is not None:
            self._supervisor.join(timeout=5)
        from tests.support.processes import stop_each

        stop_each([*self.managed.values(), self.gateway, *reversed(self.web), self.redis])
