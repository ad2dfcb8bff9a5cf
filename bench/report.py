"""A bench result's shape, the table a run prints, and docs/PERFORMANCE.md's figures.

The figures section of docs/PERFORMANCE.md is rendered from bench/results/*.json:
``python -m bench.report --write`` (``make perf-doc``); ``--check`` fails while it is stale.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

TIMES = "\N{MULTIPLICATION SIGN}"
NOTHING = "\N{EN DASH}"  # a cell with no figure

REQUIRED_KEYS = (
    "episodes",
    "dispatch.reminders_per_s",
    "dispatch.raw_celery_per_s",
    "dispatch.raw_sql_claims_per_s",
    "dispatch.burst_drain_s",
    "dispatch.burst_due",
    "queue.api_p95_ms",
    "queue.raw_sql_p95_ms",
    "queue.api_vs_raw_worst",
    "queue.deep_page_p95_ms",
    "queue.deep_vs_first_worst",
    "scan.cost_ratio_1m_vs_10k",
    "memory.peak_ratio_100k_vs_1k",
    "transitions.per_s",
)


def lookup(result: dict[str, Any], dotted: str) -> Any:
    value: Any = result
    for part in dotted.split("."):
        value = value[part]
    return value


def missing_keys(result: dict[str, Any]) -> list[str]:
    missing = []
    for key in REQUIRED_KEYS:
        try:
            lookup(result, key)
        except (KeyError, TypeError):
            missing.append(key)
    return missing


@dataclass(frozen=True)
class Target:
    """One target of docs/PERFORMANCE.md as one run measured it."""

    name: str
    goal: str
    measured: str  # the figure the goal is about
    detail: str  # what it was computed from
    met: bool


def targets(result: dict[str, Any]) -> list[Target]:
    """Every target docs/PERFORMANCE.md sets, as one run measured it (ratios within the run).

    The queue page's 20 ms, the episode page's 40 ms and the search's 50 ms are goals at 1M episodes
    (`make bench-full`); a smaller run shows them against the same goals. The workspace and
    report targets are there when the run measured them.
    """
    d, q = result["dispatch"], result["queue"]
    s, m, tr = result["scan"], result["memory"], result["transitions"]
    burst_limit = 1.2 * d["burst_due"] / d["reminders_per_s"]
    first_p95 = [row["first"]["p95_ms"] for row in q["per_queue"].values()]
    out = [
        Target(
            "dispatch ÷ raw Celery",
            f"≥ 5{TIMES}",
            f"{d['reminders_per_s'] / d['raw_celery_per_s']:.2f}{TIMES}",
            f"{d['reminders_per_s']:,.0f} reminders/s ÷ {d['raw_celery_per_s']:,.0f} no-op tasks/s",
            d["reminders_per_s"] >= 5 * d["raw_celery_per_s"],
        ),
        Target(
            "dispatch ÷ raw SQL claims",
            "≥ 0.2",
            f"{d['reminders_per_s'] / d['raw_sql_claims_per_s']:.3f}",
            f"÷ {d['raw_sql_claims_per_s']:,.0f} rows/s claimed {d['raw_sql_batch']} at a time",
            d["reminders_per_s"] >= 0.2 * d["raw_sql_claims_per_s"],
        ),
        Target(
            "a burst through beat, until the last is sent",
            f"≤ 1.2 {TIMES} burst ÷ rate",
            f"{d['burst_drain_s']:.1f} s",
            f"{d['burst_due']:,} due; limit {burst_limit:.1f} s",
            d["burst_drain_s"] <= burst_limit,
        ),
        Target(
            "worst queue page p95 ÷ its raw SQL p95",
            f"≤ 4{TIMES}",
            f"{q['api_vs_raw_worst']:.2f}{TIMES}",
            "first and deep pages; raw statements unprepared, as the API sends them",
            q["api_vs_raw_worst"] <= 4,
        ),
        Target(
            "queue page p95, every queue",
            "≤ 20 ms at 1M",
            f"{q['api_p95_ms']:.1f} ms",
            f"first pages {min(first_p95):.1f}-{max(first_p95):.1f} ms",
            q["api_p95_ms"] <= 20,
        ),
        Target(
            "deep page p95 ÷ first page p95",
            f"≤ 1.2{TIMES}",
            f"{q['deep_vs_first_worst']:.2f}{TIMES}",
            "worst queue",
            q["deep_vs_first_worst"] <= 1.2,
        ),
        Target(
            "transitions per second, no lost update",
            "≥ 150/s",
            f"{tr['per_s']:.0f}/s",
            f"{tr['clients']} clients; lost updates {tr['lost_updates']}; races with one winner"
            f" {tr['races_one_winner']}/{tr['races']}",
            tr["per_s"] >= 150 and tr["lost_updates"] == 0,
        ),
        Target(
            "dispatch cycle, big database ÷ 10k",
            "≤ 1.3",
            f"{s['cost_ratio_1m_vs_10k']:.2f}",
            f"1,000 claimed: {s['big']['cycle_ms_median']:.1f} ms among"
            f" {s['big']['reminders']:,} reminders, {s['small']['cycle_ms_median']:.1f} ms among"
            f" {s['small']['reminders']:,}",
            s["cost_ratio_1m_vs_10k"] <= 1.3,
        ),
        Target(
            "peak memory, many due ÷ 1k due",
            "≤ 1.5",
            f"{m['peak_ratio_100k_vs_1k']:.2f}",
            f"worker {m['worker_100k_kib']:,.0f} vs {m['worker_1k_kib']:,.0f} KiB;"
            f" {m['dispatcher_100k']['due']:,} due",
            m["peak_ratio_100k_vs_1k"] <= 1.5,
        ),
    ]
    if "workspace" in result:
        w = result["workspace"]
        out += [
            Target(
                "workspace queue page p95 ÷ API p95",
                f"≤ 2{TIMES}",
                f"{w['queue_page_vs_api_p95_worst']:.2f}{TIMES}",
                "worst queue",
                w["queue_page_vs_api_p95_worst"] <= 2,
            ),
            Target(
                "workspace episode page p95",
                "≤ 40 ms at 1M",
                f"{w['episode_page_p95_ms_worst']:.1f} ms",
                "worse of the two episodes",
                w["episode_page_p95_ms_worst"] <= 40,
            ),
            *(
                [
                    Target(
                        "header search p95",
                        "≤ 50 ms at 1M",
                        f"{w['search_p95_ms_worst']:.1f} ms",
                        "worse of by name and by date of birth",
                        w["search_p95_ms_worst"] <= 50,
                    )
                ]
                if "search_p95_ms_worst" in w
                else []
            ),
        ]
    if "report" in result:
        year = result["report"]["year"]
        live = (
            f"; live {year['live_p95_ms'] / 1000:.2f} s, {year['from_rollups']:,} from rollups"
            if "live_p95_ms" in year
            else ""
        )
        out.append(
            Target(
                "adherence report p95, a team's year",
                "≤ 1 s",
                f"{year['p95_ms'] / 1000:.2f} s",
                f"one team's {year['episodes']:,} episodes{live}",
                year["p95_ms"] <= 1000,
            )
        )
    return out


def table(result: dict[str, Any]) -> str:
    q, d, mem, tr = result["queue"], result["dispatch"], result["memory"], result["transitions"]
    lines = [
        (
            f"Careflow bench: {result['episodes']:,} episodes, {result['reminders']:,} reminders"
            f" ({result['machine']['nproc']} cores)"
        ),
        "",
        (
            f"{'queue':22} {'rows':>8} {'api p50':>8} {'api p95':>8} {'raw p95':>8}"
            f" {'prepared':>8} {'deep p95':>9} {'raw deep':>9} {'depth':>7}"
        ),
    ]
    for name, row in q["per_queue"].items():
        lines.append(
            f"{name:22} {row['rows_seen']:>8} {row['first']['p50_ms']:>8.1f}"
            f" {row['first']['p95_ms']:>8.1f} {row['first']['raw_p95_ms']:>8.2f}"
            f" {row['first'].get('raw_prepared_p95_ms', float('nan')):>8.2f}"
            f" {row['deep']['p95_ms']:>9.1f} {row['deep']['raw_p95_ms']:>9.2f}"
            f" {row['deep']['depth_rows']:>7}"
        )
    if "api_vs_raw_prepared_worst" in q:
        lines.append(
            "raw: each statement parsed and planned, as the API's are; against them prepared"
            f" (no request skips planning): worst ratio {q['api_vs_raw_prepared_worst']:.2f}x"
        )
    lines += [
        "",
        (
            f"dispatch: {d['reminders_per_s']:.0f} reminders/s end to end ({d['due']:,} due,"
            f" {d['workers']} worker processes)"
        ),
        f"  raw Celery no-op, one message each: {d['raw_celery_per_s']:.0f} tasks/s",
        (
            f"  raw SQL claim-and-mark (batch {d['raw_sql_batch']}): "
            f"{d['raw_sql_claims_per_s']:.0f} rows/s;"
            f" batch 1000: {d['raw_sql_claims_per_s_batch_1000']:.0f} rows/s"
        ),
        *(
            [
                (
                    f"  an alert raised {a['rows_sent_before_the_alert_was_raised']:,} rows"
                    " into the burst: sent after"
                    f" {a['rows_sent_after_it_was_raised_before_it']:,} more rows"
                    f" ({a['batches_sent_after_it_was_raised_before_it']:.1f} batches),"
                    f" {a['latency_ms']:.0f} ms after it was raised"
                )
            ]
            if (a := d.get("alert_in_burst"))
            else []
        ),
        (
            f"scan: cycle claiming 1k due: {result['scan']['big']['cycle_ms_median']:.1f} ms among"
            f" {result['scan']['big']['reminders']:,} reminders vs"
            f" {result['scan']['small']['cycle_ms_median']:.1f} ms among"
            f" {result['scan']['small']['reminders']:,}:"
            f" ratio {result['scan']['cost_ratio_1m_vs_10k']:.2f}"
        ),
        (
            f"memory: dispatcher peak {mem['dispatcher_1k']['tracemalloc_peak_kib']:.0f}"
            f" KiB (1k due) vs {mem['dispatcher_100k']['tracemalloc_peak_kib']:.0f}"
            f" KiB (100k due); worker high-water {mem['worker_1k_kib']:.0f} vs"
            f" {mem['worker_100k_kib']:.0f} KiB: ratio"
            f" {mem['peak_ratio_100k_vs_1k']:.2f}"
        ),
        (
            f"transitions: {tr['per_s']:.0f}/s over"
            f" {tr['count']} episodes, {tr['clients']} clients;"
            f" lost updates {tr['lost_updates']}, races with one winner"
            f" {tr['races_one_winner']}/{tr['races']}"
        ),
        "",
    ]
    if "workspace" in result:
        w = result["workspace"]
        lines += [
            f"{'workspace page':22} {'p50':>8} {'p95':>8} {'api p95':>8}",
            *(
                f"{name:22} {row['p50_ms']:>8.1f} {row['p95_ms']:>8.1f} {row['api_p95_ms']:>8.1f}"
                for name, row in w["pages"].items()
            ),
            "",
        ]
    lines += [f"{'target':44} {'measured':>10} {'goal':>21}  met"]
    lines += [
        f"{t.name:44} {t.measured:>10} {t.goal:>21}  {'yes' if t.met else 'NO'}"
        for t in targets(result)
    ]
    return "\n".join(lines)


# -- docs/PERFORMANCE.md's figures, rendered from the results ---------------------------------

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
DOC = ROOT / "docs" / "PERFORMANCE.md"
BEGIN = "<!-- figures: generated by `make perf-doc` from bench/results/*.json; do not edit -->"
END = "<!-- figures: end -->"


def complete_runs(results: Path = RESULTS) -> list[tuple[Path, dict[str, Any]]]:
    """The newest complete run of each size (by its ``when``), smallest first.

    A complete run is one `make bench` or `make bench-full` writes: every required figure.
    The part-runs (``--queues-only`` and the like) and older runs of a size are left out.
    """
    return _newest_by_size(results, lambda r: not missing_keys(r))


def _size(result: dict[str, Any]) -> str:
    return f"{result['episodes']:,} episodes"


def _when(result: dict[str, Any]) -> str:
    return datetime.fromisoformat(result["when"]).astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _shown(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def _source(path: Path, result: dict[str, Any]) -> str:
    deep = max(row["deep"]["depth_rows"] for row in result["queue"]["per_queue"].values())
    commit = f"commit `{result['commit']}`" if "commit" in result else "commit not recorded"
    return (
        f"- **{_size(result)}**: `{_shown(path)}`, measured from {_when(result)}"
        f" at {commit}: {result['reminders']:,} reminders, {result['dispatch']['due']:,} due,"
        f" deep pages up to {deep:,} rows, load average"
        f" {result['dispatch']['load_average'][0]:.1f} at dispatch."
    )


def _machine(result: dict[str, Any]) -> str:
    m = result["machine"]
    return (
        f"{m['nproc']} cores, {m['memory_gib']} GiB, PostgreSQL {m['postgresql']},"
        f" Redis {m['redis']}, Python {m['python']}"
    )


def _queue_table(result: dict[str, Any]) -> list[str]:
    lines = [
        (
            f"Queue pages, {_size(result)} (ms; raw: the request's statements through psycopg,"
            " unprepared; prepared beside it):"
        ),
        "",
        (
            "| queue | rows walked | API p50 | API p95 | raw p95 | prepared p95 | deep API p95"
            " | deep raw p95 |"
        ),
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, row in sorted(result["queue"]["per_queue"].items()):
        first, deep = row["first"], row["deep"]
        prepared = first.get("raw_prepared_p95_ms")
        lines.append(
            f"| {name} | {row['rows_seen']:,} | {first['p50_ms']:.1f} | {first['p95_ms']:.1f}"
            f" | {first['raw_p95_ms']:.2f} | {NOTHING if prepared is None else f'{prepared:.2f}'}"
            f" | {deep['p95_ms']:.1f} | {deep['raw_p95_ms']:.2f} |"
        )
    return lines


def _workspace_table(runs: list[tuple[Path, dict[str, Any]]]) -> list[str]:
    measured = [result for _, result in runs if "workspace" in result]
    if not measured:
        return []
    header = " | ".join(f"{_size(r)}: p50 / p95 (API p95)" for r in measured)
    lines = [
        "Workspace pages (ms; each beside the API's request for the same queue or episode):",
        "",
        f"| page | {header} |",
        "|---|" + "---:|" * len(measured),
    ]
    names = sorted({name for r in measured for name in r["workspace"]["pages"]})
    for name in names:
        cells = []
        for r in measured:
            page = r["workspace"]["pages"].get(name)
            cells.append(
                NOTHING
                if page is None
                else f"{page['p50_ms']:.1f} / {page['p95_ms']:.1f} ({page['api_p95_ms']:.1f})"
            )
        lines.append(f"| {name.replace('_', ' ')} | {' | '.join(cells)} |")
    return lines


def report_runs(results: Path = RESULTS) -> list[tuple[Path, dict[str, Any]]]:
    """The newest run of each size that measured the report from rollups and live, smallest first.

    Complete runs and ``--report-only`` runs alike (``report.p95_ms`` beside
    ``report.live_p95_ms``).
    """
    return _newest_by_size(results, lambda r: "live_p95_ms" in r.get("report", {}))


def _newest_by_size(
    results: Path, measured: Callable[[dict[str, Any]], bool]
) -> list[tuple[Path, dict[str, Any]]]:
    """Of the results ``measured`` accepts, the newest (``when``) of each size, smallest first."""
    newest: dict[int, tuple[Path, dict[str, Any]]] = {}
    for path in sorted(results.glob("*.json")):
        result = json.loads(path.read_text())
        if not isinstance(result, dict) or "when" not in result or not measured(result):
            continue
        size = result["episodes"]
        if size not in newest or result["when"] > newest[size][1]["when"]:
            newest[size] = (path, result)
    return [newest[size] for size in sorted(newest)]


def _report_table(runs: list[tuple[Path, dict[str, Any]]]) -> list[str]:
    if not runs:
        return []
    lines = [
        (
            "Adherence report, one team (`GET /api/reports/adherence/`, p95 ms; live: every row"
            " read; rollups: the whole months ended from their rollups, the rest live; the two"
            " answers checked equal):"
        ),
        "",
        "| run | range | episodes | from rollups | live p95 | with rollups p95 | first refresh |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for path, result in runs:
        r = result["report"]
        for label in ("year", "quarter"):
            row = r[label]
            lines.append(
                f"| {_size(result)}, {_when(result)}, `{_shown(path)}` | {label}"
                f" | {row['episodes']:,} | {row['from_rollups']:,} ({row['rollup_months']} months)"
                f" | {row['live_p95_ms']:,.0f} | {row['p95_ms']:,.0f}"
                f" | {r['refresh_s']:.1f} s, {r['refresh_months']} months |"
            )
    return lines


def fhir_runs(results: Path = RESULTS) -> list[tuple[Path, dict[str, Any]]]:
    """The newest ``python -m bench.fhir`` run of each size, smallest first."""
    return _newest_by_size(results, lambda r: "searches" in r)


def _fhir_table(runs: list[tuple[Path, dict[str, Any]]]) -> list[str]:
    if not runs:
        return []
    sources = "; ".join(
        f"{_size(r)} (a team of {r['team_episodes']:,}), {_when(r)}, `{_shown(path)}`,"
        f" load average {r['load_average'][0]:.1f}"
        for path, r in runs
    )
    lines = [
        (
            "FHIR searches, in process as one team's coordinator (`python -m bench.fhir`: the"
            f" whole request, view, SQL, JSON and access records; {sources}). `$everything`"
            " of the newest episode, of the team's episode with the most reminders, and of the"
            " newest with a thousand outreach notes and assessments added (its first page):"
        ),
        "",
        "| search | "
        + " | ".join(f"{_size(r)}: p50 / p95 (entries, statements)" for _, r in runs)
        + " |",
        "|---|" + "---:|" * len(runs),
    ]
    names = list(dict.fromkeys(name for _, r in runs for name in r["searches"]))
    for name in names:
        cells = []
        for _, r in runs:
            row = r["searches"].get(name)
            cells.append(
                NOTHING
                if row is None
                else (
                    f"{row['p50_ms']:.1f} / {row['p95_ms']:.1f}"
                    f" ({row['entries']}, {row['queries']})"
                )
            )
        shown = re.sub(r"gt[0-9T:.\-]+Z", "gt{an hour ago}", name)
        lines.append(f"| `{shown}` | {' | '.join(cells)} |")
    return lines


def markdown(
    runs: list[tuple[Path, dict[str, Any]]],
    reports: list[tuple[Path, dict[str, Any]]] | None = None,
    fhir: list[tuple[Path, dict[str, Any]]] | None = None,
) -> str:
    """The figures section of docs/PERFORMANCE.md, between its markers, for ``runs``.

    ``reports``: the report runs to show (``report_runs()`` of bench/results/ by default).
    """
    reports = report_runs() if reports is None else reports
    fhir = fhir_runs() if fhir is None else fhir
    machines = sorted({_machine(result) for _, result in runs})
    lines = [
        BEGIN,
        "",
        "The newest complete run of each size in `bench/results/`:",
        "",
        *(_source(path, result) for path, result in runs),
        "",
        f"On {'; '.join(machines)}.",
        "",
        "| target | goal | " + " | ".join(_size(r) for _, r in runs) + " |",
        "|---|---|" + "---|" * len(runs),
    ]
    by_run = [targets(result) for _, result in runs]
    names = list(dict.fromkeys(t.name for ts in by_run for t in ts))
    for name in names:
        cells, goal = [], ""
        for ts in by_run:
            target = next((t for t in ts if t.name == name), None)
            if target is None:
                cells.append(NOTHING)
                continue
            goal = target.goal
            verdict = "met" if target.met else "**missed**"
            cells.append(f"{target.measured} {verdict}: {target.detail}")
        lines.append(f"| {name} | {goal} | {' | '.join(cells)} |")
    for _, result in runs:
        d = result["dispatch"]
        lines += [
            "",
            (
                f"Dispatch, {_size(result)}: {d['reminders_per_s']:,.0f} reminders/s end to end"
                f" ({d['due']:,} due, {d['workers']} worker processes); raw Celery"
                f" {d['raw_celery_per_s']:,.0f} no-op tasks/s; raw SQL claims"
                f" {d['raw_sql_claims_per_s']:,.0f} rows/s at batch {d['raw_sql_batch']},"
                f" {d['raw_sql_claims_per_s_batch_1000']:,.0f} at batch 1000."
            ),
        ]
    for _, result in runs:
        lines += ["", *_queue_table(result)]
    workspace = _workspace_table(runs)
    if workspace:
        lines += ["", *workspace]
    report = _report_table(reports)
    if report:
        lines += ["", *report]
    searches = _fhir_table(fhir)
    if searches:
        lines += ["", *searches]
    lines += ["", END]
    return "\n".join(lines)


def write_doc(doc: Path = DOC, results: Path = RESULTS) -> bool:
    """Put ``markdown`` between the doc's markers; True when the doc changed."""
    text = doc.read_text()
    start, end = text.index(BEGIN), text.index(END) + len(END)
    new = (
        text[:start]
        + markdown(complete_runs(results), report_runs(results), fhir_runs(results))
        + text[end:]
    )
    if new == text:
        return False
    doc.write_text(new)
    return True


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="docs/PERFORMANCE.md's figures from the results")
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--markdown", action="store_true", help="print the figures section")
    group.add_argument("--write", action="store_true", help="write it into docs/PERFORMANCE.md")
    group.add_argument(
        "--check", action="store_true", help="fail if docs/PERFORMANCE.md is not up to date"
    )
    args = parser.parse_args(argv)
    if args.markdown:
        sys.stdout.write(markdown(complete_runs()) + "\n")
    elif args.write:
        changed = write_doc()
        sys.stdout.write(f"{DOC.relative_to(ROOT)}: {'written' if changed else 'up to date'}\n")
    else:
        text = DOC.read_text()
        start, end = text.index(BEGIN), text.index(END) + len(END)
        if text[start:end] != markdown(complete_runs()):
            sys.stderr.write("docs/PERFORMANCE.md's figures are stale: run `make perf-doc`\n")
            raise SystemExit(1)


if __name__ == "__main__":
    main()
