"""`make demo` (``python -m flashsale.demo``): URLs follow the ports, and Ctrl-C stops every process and Redis."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from flashsale import embedded_redis
from flashsale.demo import demo_environment
from tests.support.processes import GUNICORN_PORTS, REDIS_PORTS, ROOT, SANDBOX_PORTS, free_port, release_port, wait_for


def test_the_public_urls_follow_the_ports():
    env = demo_environment({"WEB_PORT": "8123", "GATEWAY_PORT": "8124"})
    assert env["FLASHSALE_SITE_URL"] == "http://127.0.0.1:8123"
    assert env["FLASHSALE_GATEWAY_URL"] == "http://127.0.0.1:8124"
    assert demo_environment({})["FLASHSALE_SITE_URL"] == "http://127.0.0.1:8000"
    # An explicit URL (a proxy in front, say) wins over the port.
    assert demo_environment({"WEB_PORT": "8123", "FLASHSALE_SITE_URL": "https://shop.test"})["FLASHSALE_SITE_URL"] == (
        "https://shop.test"
    )


def _processes_of(var_dir: Path) -> dict[int, dict[str, str]]:
    """pid -> environment of every live process started for this demo (they carry its FLASHSALE_VAR_DIR)."""
    found = {}
    marker = f"FLASHSALE_VAR_DIR={var_dir}".encode()
    for environ in Path("/proc").glob("[0-9]*/environ"):
        try:
            raw = environ.read_bytes()
            state = (environ.parent / "stat").read_text().split(")")[-1].split()[0]
        except OSError:
            continue
        if marker in raw.split(b"\0") and state != "Z":
            pairs = (item.split(b"=", 1) for item in raw.split(b"\0") if b"=" in item)
            found[int(environ.parent.name)] = {k.decode(): v.decode(errors="replace") for k, v in pairs}
    return found


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


@pytest.mark.slow
def test_the_demo_runs_on_the_given_ports_and_ctrl_c_stops_everything(tmp_path):
    if not (Path(sys.executable).with_name("honcho")).exists():
        pytest.skip("honcho is not installed (the demo extra: pip install -e '.[demo]')")
    web, gateway, redis_port = free_port(GUNICORN_PORTS), free_port(SANDBOX_PORTS), free_port(REDIS_PORTS)
    var_dir = tmp_path / "var"
    env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "FLASHSALE_SITE_URL", "FLASHSALE_GATEWAY_URL"}}
    env.update(
        WEB_PORT=str(web),
        GATEWAY_PORT=str(gateway),
        FLASHSALE_VAR_DIR=str(var_dir),
        FLASHSALE_EMBEDDED_REDIS_PORT=str(redis_port),
        DATABASE_URL=f"sqlite:///{tmp_path / 'demo.sqlite3'}",
        WEB_CONCURRENCY="1",
    )
    log = (tmp_path / "demo.log").open("wb")
    demo = subprocess.Popen(
        [sys.executable, "-m", "flashsale.demo"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:

        def answers(port: int) -> bool:
            if demo.poll() is not None:
                raise AssertionError((tmp_path / "demo.log").read_text()[-3000:])
            try:
                return requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200
            except requests.RequestException:
                return False

        wait_for(lambda: answers(web) and answers(gateway), what="the demo's site and gateway", timeout=180)
        running = _processes_of(var_dir)
        site = [e for pid, e in running.items() if "gunicorn" in _cmdline(pid)]
        payments = [e for pid, e in running.items() if "sandbox_gateway" in _cmdline(pid)]
        assert site and payments
        assert {e["FLASHSALE_GATEWAY_URL"] for e in site} == {f"http://127.0.0.1:{gateway}"}
        assert {e["FLASHSALE_SITE_URL"] for e in payments} == {f"http://127.0.0.1:{web}"}
        # One drainer (honcho runs each line through a shell: count the Python processes).
        drainers = [
            pid for pid in running if "drain_transactions" in _cmdline(pid) and "python" in _cmdline(pid).split()[0]
        ]
        assert len(drainers) == 1

        os.killpg(demo.pid, signal.SIGINT)  # Ctrl-C in the terminal
        demo.wait(timeout=60)
        wait_for(lambda: not _processes_of(var_dir), what="every demo process to stop")
        assert not (var_dir / "redis.pid").exists()
    finally:
        if demo.poll() is None:
            os.killpg(demo.pid, signal.SIGKILL)
        for pid in _processes_of(var_dir):
            os.kill(pid, signal.SIGKILL)
        # redis-server writes its title over its environment, so the search above cannot see it:
        # a failed run stops the demo's Redis by its port (only if it is this demo's one).
        if embedded_redis._answers_ping(redis_port) and embedded_redis._is_ours(redis_port, var_dir):
            embedded_redis._shutdown(redis_port)
        log.close()
        for port in (web, gateway, redis_port):
            release_port(port)
