"""examples/monitoring: the alerting rules are valid, and every series they use is exported."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

import fairaudit as fa
from fairaudit.monitor import FairnessMonitor

prometheus_client = pytest.importorskip("prometheus_client")

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "monitoring"
NAME = re.compile(r"\bfairaudit_[a-z_]+\b")


def _exported_names(tmp_path) -> set[str]:
    policy = fa.Policy.from_yaml_text(
        "version: 1\nrules:\n  - {id: ratio, metric: selection_rate, min: 0.8}\n"
    )
    with FairnessMonitor(
        tmp_path / "s.db", sensitive_features=["g"], policy=policy, min_group_size=1
    ) as mon:
        mon.update(
            [1, 0, 1, 1],
            {"g": ["a", "a", "b", "b"]},
            ids=list("wxyz"),
            timestamps="2026-01-01T00:00",
        )
        mon.update([1, 0, 1, 1], {"g": ["a", "a", "b", "b"]}, timestamps="2026-01-01T01:00")
        registry = prometheus_client.CollectorRegistry()
        registry.register(mon.collector())
        text = prometheus_client.generate_latest(registry).decode()
    return {
        line.split("{")[0].split(" ")[0]
        for line in text.splitlines()
        if line and not line.startswith("#")
    }


def test_every_series_in_the_rules_and_dashboard_is_exported(tmp_path):
    exported = _exported_names(tmp_path)
    rules = (EXAMPLES / "fairness_alerts.yml").read_text()
    dashboard = json.loads((EXAMPLES / "grafana_dashboard.json").read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    used = set(NAME.findall(rules)) | {n for e in exprs for n in NAME.findall(e)}
    assert used
    assert used <= exported, used - exported
    assert dashboard["uid"] == "fairaudit-monitor"


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool (Debian prometheus) absent")
def test_promtool_accepts_the_rules_and_the_config():
    for args in (["check", "rules", "fairness_alerts.yml"], ["check", "config", "prometheus.yml"]):
        result = subprocess.run(
            ["promtool", *args], cwd=EXAMPLES, capture_output=True, text=True, timeout=60
        )
        assert result.returncode == 0, result.stdout + result.stderr
