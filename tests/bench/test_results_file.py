"""The committed benchmark result carries every figure docs/PERFORMANCE.md quotes."""

from __future__ import annotations

import json
from pathlib import Path

from bench.report import REQUIRED_KEYS, missing_keys

LATEST = Path(__file__).resolve().parents[2] / "bench" / "results" / "latest.json"


def test_latest_json_has_every_required_figure():
    result = json.loads(LATEST.read_text())
    assert missing_keys(result) == []
    assert result["episodes"] >= 100_000


def test_missing_keys_names_what_is_absent():
    assert "dispatch.reminders_per_s" in missing_keys({"episodes": 1})
    assert len(REQUIRED_KEYS) >= 10
