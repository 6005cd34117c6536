"""Alert rules and the Grafana dashboard in deploy/: valid PromQL, unit-tested alerts, real metric names.

`promtool` comes from Debian's prometheus package (.ci/run installs it).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from django.test import override_settings

ROOT = Path(__file__).resolve().parents[2]
PROMETHEUS = ROOT / "deploy" / "prometheus"
DASHBOARD = ROOT / "deploy" / "grafana" / "vmcloud-dashboard.json"


def _promtool(*args: str, cwd: Path = PROMETHEUS) -> subprocess.CompletedProcess[str]:
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.fail("promtool is required by make test: apt-get install prometheus")
    return subprocess.run([promtool, *args], cwd=cwd, capture_output=True, text=True, timeout=120)


def test_alert_rules_pass_promtool_check():
    result = _promtool("check", "rules", "alerts.yaml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_alert_rules_fire_on_what_they_watch():
    result = _promtool("test", "rules", "alerts_test.yaml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_rejects_broken_promql(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({"groups": [{"name": "x", "rules": [{"alert": "X", "expr": "sum(rate(x[5m])"}]}]}))
    assert _promtool("check", "rules", str(bad), cwd=tmp_path).returncode != 0


def test_the_scrape_config_is_valid():
    result = _promtool("check", "config", "--syntax-only", "scrape.yaml")
    assert result.returncode == 0, result.stdout + result.stderr


def _dashboard_exprs() -> list[str]:
    dashboard = json.loads(DASHBOARD.read_text())
    return [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]


def test_every_dashboard_query_is_valid_promql(tmp_path):
    # promtool parses expressions in rule files: each query becomes a recording rule.
    rules = [{"record": f"vmcloud:dashboard_{i}", "expr": expr} for i, expr in enumerate(_dashboard_exprs())]
    path = tmp_path / "dashboard_rules.yaml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}))
    result = _promtool("check", "rules", str(path), cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


TOKEN = "metrics-token-for-monitoring-tests"


@pytest.mark.django_db
@override_settings(METRICS_TOKEN=TOKEN)
def test_alerts_and_dashboard_name_only_metrics_the_platform_exports(client):
    # The database metrics' families register with django-prometheus' database engine,
    # which base.py selects for PostgreSQL and SQLite (the test settings use the plain one).
    import django_prometheus.db.metrics  # noqa: F401

    exported = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").content.decode()
    families = set(re.findall(r"^# TYPE (\S+) ", exported, flags=re.M))
    alerts = yaml.safe_load((PROMETHEUS / "alerts.yaml").read_text())
    exprs = [rule["expr"] for group in alerts["groups"] for rule in group["rules"]] + _dashboard_exprs()
    used = {name for expr in exprs for name in re.findall(r"\b(vmcloud_[a-z_]+|django_[a-z_]+)", expr)}
    assert used
    suffixes = ("_total", "_count", "_bucket", "_sum")
    for name in used:
        base = next((name[: -len(s)] for s in suffixes if name.endswith(s)), name)
        assert name in families or base in families, f"{name} is not exported"
