"""The shipped alert rules are valid, cross their thresholds as meant, and each has a runbook.

``promtool`` is Debian's (``scripts/ensure_prometheus.sh`` installs it; ``make test`` runs
that script first). A machine without it fails here rather than skipping the rules' proof.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from django.conf import settings

RULES_DIR = Path(settings.BASE_DIR) / "ops" / "prometheus"
RULES = RULES_DIR / "careflow-rules.yml"
RULE_TESTS = RULES_DIR / "careflow-rules.test.yml"
OPERATIONS = Path(settings.BASE_DIR) / "docs" / "OPERATIONS.md"


@pytest.fixture(scope="module")
def promtool() -> str:
    subprocess.run([Path(settings.BASE_DIR) / "scripts" / "ensure_prometheus.sh"], check=True)
    found = shutil.which("promtool")
    assert found, "scripts/ensure_prometheus.sh succeeded but promtool is not on PATH"
    return found


def alerts() -> list[dict]:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    return [rule for group in groups for rule in group["rules"]]


def test_promtool_checks_the_rules(promtool):
    result = subprocess.run(
        [promtool, "check", "rules", str(RULES)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(alerts())} rules found" in result.stdout


def test_promtool_sees_every_alert_fire_past_its_threshold_and_not_before(promtool):
    result = subprocess.run(
        [promtool, "test", "rules", RULE_TESTS.name],
        cwd=RULES_DIR,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_alert_is_tested_firing_and_quiet():
    tests = yaml.safe_load(RULE_TESTS.read_text())["tests"]
    cases = [case for test in tests for case in test["alert_rule_test"]]
    for rule in alerts():
        mine = [case for case in cases if case["alertname"] == rule["alert"]]
        assert any(case["exp_alerts"] for case in mine), f"{rule['alert']} never fires"
        assert any(not case["exp_alerts"] for case in mine), f"{rule['alert']} never quiet"


def test_every_alert_has_a_severity_and_a_runbook_section_in_operations_md():
    anchors = {
        re.sub(r"[^a-z0-9 -]", "", heading.lower()).replace(" ", "-")
        for heading in re.findall(r"^#{2,4} (.+)$", OPERATIONS.read_text(), re.MULTILINE)
    }
    for rule in alerts():
        assert rule["labels"]["severity"] in {"page", "ticket"}
        runbook = rule["annotations"]["runbook"]
        assert runbook.startswith("docs/OPERATIONS.md#"), runbook
        assert runbook.split("#", 1)[1] in anchors, f"{rule['alert']}: no section {runbook}"
