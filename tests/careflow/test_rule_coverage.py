"""Every rule ID of PATHWAY.md is a careflow constant, and tests cite each one."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from careflow import rules

ROOT = Path(__file__).resolve().parents[2]
PATHWAY = ROOT.parent / "shared" / "spec" / "PATHWAY.md"
RULE_ID = re.compile(r"\b(?:RF|URG|CC|IM|ESI|RFA|REF|SX|RX)-\d\b")


@pytest.mark.skipif(not PATHWAY.exists(), reason="shared/spec/PATHWAY.md is not beside the repo")
def test_every_pathway_rule_is_a_constant():
    in_spec = set(RULE_ID.findall(PATHWAY.read_text()))
    assert in_spec
    assert in_spec <= set(rules.ALL_RULES)


def test_every_rule_is_cited_by_the_tests():
    tests = "".join(p.read_text() for p in (ROOT / "tests").rglob("test_*.py"))
    names = {value: name for name, value in vars(rules).items() if value in rules.ALL_RULES}
    uncited = [
        rule
        for rule in rules.ALL_RULES
        if f"rules.{names[rule]}" not in tests and f'"{rule}"' not in tests
    ]
    assert uncited == []
