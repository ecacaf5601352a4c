"""The compose file: every long-running service restarts and has a healthcheck; the sandbox gateway is demo-only.

No Docker engine runs here. ``docker-compose config`` (Debian's docker-compose package; `.ci/run`
installs it) validates the file without one; the structure is checked from the YAML itself.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
LONG_RUNNING = {"postgres", "redis", "web", "worker", "beat", "drainer", "gateway"}
SECRETS = {
    "SECRET_KEY": "compose-check",
    "FLASHSALE_TOKEN_KEYS": "k:compose-check",
    "FLASHSALE_GATEWAY_WEBHOOK_SECRET": "compose-check",
    "FLASHSALE_GATEWAY_API_KEY": "compose-check",
}


def _services() -> dict:
    return yaml.safe_load(COMPOSE.read_text())["services"]


def test_every_long_running_service_restarts_and_has_a_healthcheck():
    services = _services()
    assert LONG_RUNNING <= services.keys()
    for name in LONG_RUNNING:
        assert services[name].get("restart") == "unless-stopped", name
        assert services[name].get("healthcheck", {}).get("test"), name
    assert "restart" not in services["migrate"]  # a one-shot job


def test_the_sandbox_gateway_runs_only_in_the_demo_profile():
    services = _services()
    assert services["gateway"]["profiles"] == ["demo"]
    assert all("profiles" not in spec for name, spec in services.items() if name != "gateway")


def test_beat_and_the_drainer_are_probed_by_their_heartbeat_files():
    services = _services()
    beat_file = services["beat"]["environment"]["FLASHSALE_BEAT_HEARTBEAT_FILE"]
    assert beat_file in services["beat"]["healthcheck"]["test"]
    drainer = services["drainer"]
    drainer_file = drainer["command"][drainer["command"].index("--heartbeat-file") + 1]
    assert drainer_file in drainer["healthcheck"]["test"]


@pytest.mark.skipif(not shutil.which("docker-compose"), reason="docker-compose is not installed (.ci/run installs it)")
@pytest.mark.parametrize("profile", [[], ["--profile", "demo"]], ids=["production", "demo"])
def test_docker_compose_validates_the_file(profile):
    out = subprocess.run(
        ["docker-compose", "-f", str(COMPOSE), *profile, "config", "--quiet"],
        env={**os.environ, **SECRETS},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
