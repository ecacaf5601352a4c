"""The embedded Redis (no REDIS_URL) lives exactly as long as what uses it, and never touches another Redis.

Real redis-server processes on loopback ports of their own, each in a var/ directory of its own.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import redis

from flashsale.embedded_redis import EmbeddedRedisError, embedded_redis, server_command
from tests.support.polling import wait_until
from tests.support.processes import REDIS_PORTS, ROOT, free_port, release_port

pytestmark = pytest.mark.slow


@pytest.fixture
def checkout(tmp_path):
    """A var/ directory and a port for one embedded Redis; any server left on the port is stopped afterwards."""
    port = free_port(REDIS_PORTS)
    var_dir = tmp_path / "var"
    yield var_dir, port
    if _answers(port):
        try:
            redis.Redis(port=port, socket_timeout=2, retry=None).shutdown(nosave=True)
        except redis.ConnectionError:
            pass
    release_port(port)


def _answers(port: int) -> bool:
    try:
        return redis.Redis(port=port, socket_timeout=1, socket_connect_timeout=1, retry=None).ping()
    except redis.ConnectionError:
        return False


def _env(var_dir: Path, port: int, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "DATABASE_URL", "FLASHSALE_EMBEDDED_REDIS_DB"}}
    env.update(FLASHSALE_VAR_DIR=str(var_dir), FLASHSALE_EMBEDDED_REDIS_PORT=str(port), **extra)
    return env


def _redis_servers_on(port: int) -> list[int]:
    """Pids of redis-server processes listening on ``port`` (from /proc: nothing survives unseen)."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            argv = cmdline.read_bytes().split(b"\0")
        except OSError:
            continue
        if argv and b"redis-server" in argv[0] and (f":{port}".encode() in argv[0] or str(port).encode() in argv):
            found.append(int(cmdline.parent.name))
    return found


def test_a_plain_manage_py_check_leaves_no_redis_behind(checkout):
    var_dir, port = checkout
    done = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=_env(var_dir, port), capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert "no issues" in done.stdout
    assert not _answers(port)
    assert _redis_servers_on(port) == []


def test_other_processes_without_redis_url_are_refused_with_what_to_do(checkout):
    var_dir, port = checkout
    done = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env=_env(var_dir, port, DJANGO_SETTINGS_MODULE="flashsale.settings"),
        capture_output=True,
        text=True,
    )
    assert done.returncode != 0
    assert "REDIS_URL is not set" in done.stderr and "make demo" in done.stderr
    assert not _answers(port)


def test_ctrl_c_on_the_runner_stops_the_command_and_then_redis(checkout, tmp_path):
    var_dir, port = checkout
    ready = tmp_path / "ready"
    # The command pings the Redis it was given, says so, and waits to be interrupted.
    command = (
        "import os, redis, signal, sys; redis.Redis.from_url(os.environ['REDIS_URL']).ping();"
        f"open({str(ready)!r}, 'w').write(os.environ['REDIS_URL']); signal.pause()"
    )
    runner = subprocess.Popen(
        [sys.executable, "-m", "flashsale.embedded_redis", "run", "--db", "3", "--", sys.executable, "-c", command],
        cwd=ROOT,
        env=_env(var_dir, port),
        start_new_session=True,
    )
    try:
        wait_until(lambda: ready.exists() and ready.read_text(), what="the command to reach its Redis")
        assert ready.read_text() == f"redis://127.0.0.1:{port}/3"
        os.killpg(runner.pid, signal.SIGINT)  # what Ctrl-C does: the whole foreground group
        assert runner.wait(timeout=30) != 0
    finally:
        if runner.poll() is None:
            os.killpg(runner.pid, signal.SIGKILL)
    assert not _answers(port)
    assert not (var_dir / "redis.pid").exists()


def test_a_command_joining_a_running_server_leaves_it_to_its_owner(checkout):
    var_dir, port = checkout
    with embedded_redis(var_dir, port=port):
        done = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=_env(var_dir, port))
        assert done.returncode == 0
        assert _answers(port)  # the owner still uses it
    assert not _answers(port)  # the last user out stopped it


def test_a_stale_pid_file_is_recovered_from(checkout):
    var_dir, port = checkout
    var_dir.mkdir()
    # The pid of a live process that is not Redis (this test's): it must neither stop us nor be killed.
    (var_dir / "redis.pid").write_text(str(os.getpid()))
    with embedded_redis(var_dir, port=port) as url:
        assert redis.Redis.from_url(url).ping()
        assert int((var_dir / "redis.pid").read_text()) != os.getpid()
    assert not _answers(port)


def test_a_server_left_running_after_make_clean_is_replaced_not_refused(checkout):
    """A killed user left the server running, then `make clean` deleted var/ under it (pid file included)."""
    var_dir, port = checkout
    var_dir.mkdir()
    subprocess.run(server_command(var_dir, port=port), check=True)
    wait_until(lambda: _answers(port), what="the orphaned server to start")
    orphan = int((var_dir / "redis.pid").read_text())
    subprocess.run(["rm", "-rf", str(var_dir)], check=True)

    with embedded_redis(var_dir, port=port) as url:
        client = redis.Redis.from_url(url)
        assert client.ping()
        assert client.info("server")["process_id"] != orphan
    wait_until(lambda: not Path(f"/proc/{orphan}").exists(), what="the orphan to be gone")
    assert not _answers(port)


def test_another_redis_on_the_port_is_never_used_by_accident(checkout, tmp_path):
    var_dir, port = checkout
    theirs = tmp_path / "theirs"
    with embedded_redis(theirs, port=port):
        with pytest.raises(EmbeddedRedisError, match="not this checkout's embedded one"):
            with embedded_redis(var_dir, port=port):
                pass
        assert _answers(port)  # theirs is untouched
