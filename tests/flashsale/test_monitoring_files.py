"""deploy/: the alert rules pass promtool (syntax and their unit tests), and the dashboard and the
rules only name metrics that /metrics exposes."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest
from django.urls import reverse
from prometheus_client.parser import text_string_to_metric_families

from tests.factories import load_live_session
from tests.support.processes import ROOT

PROMETHEUS = ROOT / "deploy" / "prometheus"
DASHBOARD = ROOT / "deploy" / "grafana" / "flashsale-dashboard.json"
PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(PROMTOOL is None, reason="promtool not installed (Debian's prometheus package)")
METRIC_NAME = re.compile(r"\b(flashsale_[a-z_]+)")
SUFFIXES = ("_total", "_bucket", "_count", "_sum")


def _promtool(*args: str, cwd=PROMETHEUS) -> subprocess.CompletedProcess:
    return subprocess.run([PROMTOOL, *args], cwd=cwd, capture_output=True, text=True, timeout=60)


@needs_promtool
def test_the_alert_rules_are_valid():
    done = _promtool("check", "rules", "alerts.yml")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout


@needs_promtool
def test_the_alerts_fire_as_their_unit_tests_say():
    done = _promtool("test", "rules", "alerts.test.yml")
    assert done.returncode == 0, done.stdout + done.stderr


@needs_promtool
def test_the_scrape_configuration_is_valid(tmp_path):
    token = tmp_path / "token"
    token.write_text("a-token\n")
    config = (PROMETHEUS / "prometheus.yml").read_text().replace("/etc/prometheus/flashsale-metrics-token", str(token))
    (tmp_path / "prometheus.yml").write_text(config)
    shutil.copy(PROMETHEUS / "alerts.yml", tmp_path / "alerts.yml")
    done = _promtool("check", "config", "prometheus.yml", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr


def _exposed_families(client) -> set[str]:
    response = client.get(reverse("metrics"))
    assert response.status_code == 200
    return {family.name for family in text_string_to_metric_families(response.content.decode())}


def _family(name: str) -> str:
    for suffix in SUFFIXES:
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def _expressions() -> dict[str, list[str]]:
    dashboard = json.loads(DASHBOARD.read_text())
    panel_exprs = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    variables = [v["definition"] for v in dashboard["templating"]["list"] if v.get("definition")]
    rules = [line for line in (PROMETHEUS / "alerts.yml").read_text().splitlines() if "flashsale_" in line]
    return {"dashboard": panel_exprs + variables, "alerts": rules}


@pytest.mark.django_db(transaction=True)
def test_the_dashboard_and_the_alerts_name_only_exposed_metrics(client, redis_conn):
    load_live_session()
    exposed = _exposed_families(client)
    for source, expressions in _expressions().items():
        named = {_family(name) for expr in expressions for name in METRIC_NAME.findall(expr)}
        assert named, source
        assert named <= exposed, (source, sorted(named - exposed))
    dashboard = json.loads(DASHBOARD.read_text())
    assert len({panel["id"] for panel in dashboard["panels"]}) == len(dashboard["panels"])
