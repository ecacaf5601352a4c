"""`make demo`: the whole site on one machine, in the foreground, until Ctrl-C stops all of it.

Migrates, seeds the demo data, creates the operator account, then runs the Procfile (gunicorn,
Celery worker and beat, the drainer, the sandbox gateway) with honcho. Without REDIS_URL it runs
on the embedded Redis and stops it at the end. The public URLs follow the ports: ``WEB_PORT``
(8000) and ``GATEWAY_PORT`` (8001) give ``FLASHSALE_SITE_URL`` and ``FLASHSALE_GATEWAY_URL``
unless those are set, so redirects and webhooks reach the processes that run.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from flashsale.embedded_redis import EmbeddedRedisError, redis_url_for_this_process

BASE_DIR = Path(__file__).resolve().parent.parent
DEFAULT_WEB_PORT = 8000
DEFAULT_GATEWAY_PORT = 8001


def demo_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """``environ`` plus the ports and the public URLs derived from them (explicit values win)."""
    env = dict(environ)
    web_port = env.get("WEB_PORT") or str(DEFAULT_WEB_PORT)
    gateway_port = env.get("GATEWAY_PORT") or str(DEFAULT_GATEWAY_PORT)
    env["WEB_PORT"], env["GATEWAY_PORT"] = web_port, gateway_port
    env.setdefault("FLASHSALE_SITE_URL", f"http://127.0.0.1:{web_port}")
    env.setdefault("FLASHSALE_GATEWAY_URL", f"http://127.0.0.1:{gateway_port}")
    return env


def _manage(*args: str, env: dict[str, str]) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=BASE_DIR, env=env, check=True)


def run_demo() -> int:
    with redis_url_for_this_process():
        env = demo_environment(os.environ)
        _manage("migrate", "--noinput", env=env)
        _manage("seed_demo", env=env)
        _manage("ensure_operator", env=env)
        print(
            "\n"
            f"  Site:        {env['FLASHSALE_SITE_URL']}/\n"
            f"  Admin:       {env['FLASHSALE_SITE_URL']}/admin/\n"
            f"  Health:      {env['FLASHSALE_SITE_URL']}/healthz (liveness), /readyz (readiness)\n"
            f"  Metrics:     {env['FLASHSALE_SITE_URL']}/metrics\n"
            f"  Gateway:     {env['FLASHSALE_GATEWAY_URL']}/ (sandbox)\n"
            "  Press Ctrl-C to stop everything.\n",
            flush=True,
        )
        honcho = Path(sys.executable).with_name("honcho")
        processes = subprocess.Popen([str(honcho), "start", "-f", "Procfile"], cwd=BASE_DIR, env=env)
        # Ctrl-C reaches honcho too (same process group): it stops every process; we wait for it,
        # then the embedded Redis is stopped on the way out. SIGTERM is passed on the same way.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, lambda signum, frame: processes.send_signal(signal.SIGINT))
        status = processes.wait()
    return status


def main() -> int:
    try:
        return run_demo()
    except EmbeddedRedisError as exc:
        print(f"embedded Redis: {exc}", file=sys.stderr)
        return 2
    except subprocess.CalledProcessError as exc:
        return exc.returncode


if __name__ == "__main__":
    sys.exit(main())
