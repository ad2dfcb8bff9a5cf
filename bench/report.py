"""The shape of bench/results/latest.json and the table a run prints."""

from __future__ import annotations

from typing import Any

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


def targets(result: dict[str, Any]) -> list[tuple[str, str, str, bool]]:
    """(target, measured, goal, met) for each target of issue 16, as ratios within one run.

    The queue page's 20 ms is issue 16's figure at 1M episodes (`make bench-full`); a smaller
    run shows it against the same goal.
    """
    d, q = result["dispatch"], result["queue"]
    s, m, tr = result["scan"], result["memory"], result["transitions"]
    burst_limit = 1.2 * d["burst_due"] / d["reminders_per_s"]
    return [
        (
            "dispatch vs raw Celery",
            f"{d['reminders_per_s'] / d['raw_celery_per_s']:.2f}x",
            ">= 5x",
            d["reminders_per_s"] >= 5 * d["raw_celery_per_s"],
        ),
        (
            "dispatch vs raw SQL claims",
            f"{d['reminders_per_s'] / d['raw_sql_claims_per_s']:.3f}",
            ">= 0.2",
            d["reminders_per_s"] >= 0.2 * d["raw_sql_claims_per_s"],
        ),
        (
            f"burst of {d['burst_due']:,} through beat",
            f"{d['burst_drain_s']:.1f} s",
            f"<= {burst_limit:.1f} s",
            d["burst_drain_s"] <= burst_limit,
        ),
        (
            "worst queue p95 / its raw SQL p95",
            f"{q['api_vs_raw_worst']:.2f}x",
            "<= 4x",
            q["api_vs_raw_worst"] <= 4,
        ),
        (
            "queue API p95, every queue",
            f"{q['api_p95_ms']:.1f} ms",
            "<= 20 ms",
            q["api_p95_ms"] <= 20,
        ),
        (
            "deep / first page p95",
            f"{q['deep_vs_first_worst']:.2f}x",
            "<= 1.2x",
            q["deep_vs_first_worst"] <= 1.2,
        ),
        (
            f"transitions/s, {tr['clients']} clients",
            f"{tr['per_s']:.0f}/s",
            ">= 100/s",
            tr["per_s"] >= 100 and tr["lost_updates"] == 0,
        ),
        (
            "scan cost big vs 10k",
            f"{s['cost_ratio_1m_vs_10k']:.2f}",
            "<= 1.3",
            s["cost_ratio_1m_vs_10k"] <= 1.3,
        ),
        (
            "memory 100k vs 1k due",
            f"{m['peak_ratio_100k_vs_1k']:.2f}",
            "<= 1.5",
            m["peak_ratio_100k_vs_1k"] <= 1.5,
        ),
    ]


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
            "raw: each statement parsed and planned, as the API's are; prepared (the baseline"
            f" before issue 16's seventh part): worst ratio {q['api_vs_raw_prepared_worst']:.2f}x"
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
            (
                f"workspace: queue page p95 / API p95 worst {w['queue_page_vs_api_p95_worst']:.2f}"
                f" (goal <= 2.5); episode page p95 worst {w['episode_page_p95_ms_worst']:.1f} ms"
                " (goal <= 60 at 1M)"
            ),
            "",
        ]
    lines += [f"{'target':34} {'measured':>10} {'goal':>10}  met"]
    lines += [
        f"{name:34} {measured:>10} {goal:>10}  {'yes' if met else 'NO'}"
        for name, measured, goal, met in targets(result)
    ]
    return "\n".join(lines)
