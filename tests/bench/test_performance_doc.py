"""docs/PERFORMANCE.md's figures are rendered from bench/results/*.json, never typed."""

from __future__ import annotations

import json
from pathlib import Path

from bench.report import BEGIN, DOC, END, complete_runs, markdown, write_doc

RESULTS = Path(__file__).resolve().parents[2] / "bench" / "results"


def test_the_doc_shows_the_committed_results():
    text = DOC.read_text()
    section = text[text.index(BEGIN) : text.index(END) + len(END)]
    assert section == markdown(complete_runs()), "run `make perf-doc` and commit the page"


def _result(episodes: int, when: str) -> dict:
    result = json.loads((RESULTS / "latest.json").read_text())
    return {**result, "episodes": episodes, "when": when, "commit": when[:10]}


def test_the_newest_complete_run_of_each_size_is_shown(tmp_path):
    older = _result(100_000, "2026-01-01T08:00:00+00:00")
    newer = _result(100_000, "2026-02-01T08:00:00+00:00")
    big = _result(1_000_000, "2026-01-15T08:00:00+00:00")
    part = {"episodes": 100_000, "when": "2026-03-01T08:00:00+00:00", "workspace": {}}
    for name, result in (("a", older), ("b", newer), ("c", big), ("queues", part)):
        (tmp_path / f"{name}.json").write_text(json.dumps(result))

    runs = complete_runs(tmp_path)

    assert [(path.name, result["episodes"]) for path, result in runs] == [
        ("b.json", 100_000),
        ("c.json", 1_000_000),
    ]


def test_write_doc_replaces_only_what_is_between_the_markers(tmp_path):
    (tmp_path / "run.json").write_text(json.dumps(_result(100_000, "2026-02-01T08:00:00+00:00")))
    doc = tmp_path / "PERFORMANCE.md"
    doc.write_text(f"# Before\n\n{BEGIN}\nstale figures\n{END}\n\n## After\n")

    assert write_doc(doc, tmp_path) is True
    text = doc.read_text()
    assert text.startswith("# Before\n\n")
    assert text.endswith("\n\n## After\n")
    assert "stale figures" not in text
    assert "commit `2026-02-01`" in text
    assert write_doc(doc, tmp_path) is False  # rendered again: nothing changes
