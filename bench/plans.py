"""``python -m bench.plans``: each queue page's plan, first page and deep, as the API sends it.

For every queue, the SQL of its first page and of a page ``--deep-rows`` deep (reached by
following the ``next`` cursors, as a client would) is captured from the API in process
(Django's test client, ``bench-coordinator-1-1``), and the page's statement is run under
``EXPLAIN (ANALYZE, BUFFERS)`` on the bench database (``BENCH_DB``, as ``bench.run``).
Printed per page: the plan's node types, index entries and rows read against rows returned,
shared buffers, and the best execution time of ``--repeats`` runs; ``--text DIR`` writes the
plans in full; ``--time N`` also runs each page's statement N times on its own (no EXPLAIN)
and prints its p50 and p95 as the client sees them. What it shows: a page users walk through
is one indexed query, an ordered range of the team's index entries at any depth.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psycopg

from bench.run import BIG_DB, PG_BASE, bench_env

PAGE = 25
WALK = 100


def _walk(node: dict[str, Any], out: list[dict[str, Any]]) -> None:
    out.append(node)
    for child in node.get("Plans", ()):
        _walk(child, out)


def summary(plan: dict[str, Any]) -> dict[str, Any]:
    """Node types, rows read by scans (kept + removed by filter), rows returned, buffers."""
    nodes: list[dict[str, Any]] = []
    _walk(plan["Plan"], nodes)
    # The page's own scans: the red-flag and imaging subqueries (SubPlan) run once per row
    # shown and are counted apart.
    shapes, read = [], 0
    for node in nodes:
        kind = node["Node Type"]
        name = node.get("Index Name") or node.get("Relation Name") or ""
        if node.get("Parent Relationship") == "SubPlan" or name.startswith(
            ("episodes_redflag", "episodes_imagingstudy")
        ):
            continue
        shapes.append(f"{kind}{f' {name}' if name else ''}")
        if "Scan" in kind and kind != "Bitmap Heap Scan":
            loops = node.get("Actual Loops", 1)
            read += (node["Actual Rows"] + node.get("Rows Removed by Filter", 0)) * loops
    top = plan["Plan"]
    return {
        "nodes": shapes,
        "read": read,
        "returned": top["Actual Rows"],
        "buffers": top.get("Shared Hit Blocks", 0) + top.get("Shared Read Blocks", 0),
        "ms": plan["Execution Time"],
        "planning_ms": plan["Planning Time"],
    }


def page_sql(client: Any, path: str, token: str) -> str:
    from bench.run import captured_sql

    statements = [
        sql
        for sql in captured_sql(client, path, token)
        if 'FROM "episodes_episode"' in sql and "LIMIT" in sql
    ]
    if len(statements) != 1:
        msg = f"{path}: {len(statements)} page statements"
        raise RuntimeError(msg)
    return statements[0]


def deep_path(client: Any, name: str, token: str, rows: int) -> tuple[str, int]:
    seen, walk, deep = 0, f"/api/queues/{name}/?page_size={WALK}", None
    while seen < rows:
        page = client.get(walk, HTTP_AUTHORIZATION=f"Token {token}").json()
        seen += len(page["results"])
        if not page["next"]:
            break
        parts = urlsplit(page["next"])
        walk = f"{parts.path}?{parts.query}"
        deep = walk.replace(f"page_size={WALK}", f"page_size={PAGE}")
    return (deep, seen) if deep else (f"/api/queues/{name}/?page_size={PAGE}", 0)


def explain(conn: psycopg.Connection, sql: str, repeats: int) -> tuple[dict[str, Any], str]:
    best = None
    for _ in range(repeats):
        plan = conn.execute(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {sql}").fetchone()[0][0]
        if best is None or plan["Execution Time"] < best["Execution Time"]:
            best = plan
    text = "\n".join(row[0] for row in conn.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}").fetchall())
    return best, text


def sql_times(conn: psycopg.Connection, sql: str, repeats: int) -> dict[str, float]:
    from bench.run import percentile, timed

    def run() -> None:
        conn.execute(sql).fetchall()

    run()
    seconds = timed(run, repeats)
    return {
        "p50_ms": statistics.median(seconds) * 1000,
        "p95_ms": percentile(seconds, 0.95) * 1000,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--deep-rows", type=int, default=5000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--time", type=int, default=0, help="also time each statement N times")
    parser.add_argument("--queues", nargs="*", help="only these queues")
    parser.add_argument("--text", type=Path, help="write each plan in full into this folder")
    parser.add_argument("--json", type=Path, help="write the summaries as JSON")
    args = parser.parse_args(argv)
    os.environ.update(bench_env(BIG_DB))

    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.test import Client
    from knox.models import AuthToken

    from episodes.selectors import QUEUES

    user = get_user_model().objects.get(username="bench-coordinator-1-1")
    instance, token = AuthToken.objects.create(user=user)
    client = Client(HTTP_HOST="127.0.0.1")
    out: dict[str, Any] = {}
    try:
        with psycopg.connect(f"{PG_BASE}/{BIG_DB}", autocommit=True) as conn:
            for name in args.queues or QUEUES:
                deep, depth = deep_path(client, name, token, args.deep_rows)
                for label, path in (
                    ("first", f"/api/queues/{name}/?page_size={PAGE}"),
                    ("deep", deep),
                ):
                    sql = page_sql(client, path, token)
                    plan, text = explain(conn, sql, args.repeats)
                    row = summary(plan)
                    row["depth"] = depth if label == "deep" else 0
                    if args.time:
                        row["sql"] = sql_times(conn, sql, args.time)
                    out[f"{name}/{label}"] = row
                    if args.text:
                        args.text.mkdir(parents=True, exist_ok=True)
                        (args.text / f"{name}-{label}.txt").write_text(f"{sql}\n\n{text}\n")
                    sys.stdout.write(
                        f"{name:20} {label:5} depth {row['depth']:5} {row['ms']:7.2f} ms"
                        f" read {row['read']:6} returned {row['returned']:3}"
                        f" buffers {row['buffers']:6}"
                        + (
                            f" sql p50 {row['sql']['p50_ms']:.2f} p95 {row['sql']['p95_ms']:.2f}"
                            if args.time
                            else ""
                        )
                        + f"  {' > '.join(row['nodes'])}\n"
                    )
                    sys.stdout.flush()
    finally:
        instance.delete()
    if args.json:
        args.json.write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
