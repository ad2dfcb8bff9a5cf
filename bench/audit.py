"""The access audit at scale: "who read this patient" and its CSV, at growing table sizes.

``python -m bench.audit --rows 1000000 10000000`` on the bench database (``bench.run``'s
``careflow_bench``, migrated here): the access records are topped up to each size (spread
over 24 months of monthly partitions, over the bench's patients, one patient given
``--heavy`` records of their own), then a privacy officer's first page of a patient's
records is timed through the API in process (Django's test client, no HTTP), beside its
SQL run raw, and the heavy patient's whole CSV is streamed with its peak Python memory
measured by tracemalloc. Writes bench/results/audit.json (``audit.who_read_p95_ms``,
``export.peak_mb``).
"""

from __future__ import annotations

import argparse
import os
import random
import time
import tracemalloc
from typing import Any

from bench.run import BIG_DB, RESULTS, bench_env, manage, say, stats_ms, write_part

PATIENTS_TIMED = 200


def top_up(cursor: Any, rows: int, patients: int, heavy_patient: int, heavy: int) -> None:
    cursor.execute("SELECT count(*) FROM episodes_accessrecord")
    have = cursor.fetchone()[0]
    cursor.execute(
        "SELECT count(*) FROM episodes_accessrecord WHERE patient_id = %s", [heavy_patient]
    )
    have_heavy = cursor.fetchone()[0]
    if have_heavy < heavy:
        cursor.execute(
            "INSERT INTO episodes_accessrecord (at, username, action, method, path, status_code,"
            " address, patient_id) SELECT now() - random() * interval '700 days',"
            " 'bench-reader', 'read', 'GET', '/api/patients/' || %s || '/', 200,"
            " '198.51.100.7', %s FROM generate_series(1, %s)",
            [heavy_patient, heavy_patient, heavy - have_heavy],
        )
        have += heavy - have_heavy
    batch = 1_000_000
    while have < rows:
        n = min(batch, rows - have)
        cursor.execute(
            "INSERT INTO episodes_accessrecord (at, username, action, method, path, status_code,"
            " address, patient_id) SELECT now() - random() * interval '700 days',"
            " 'bench-reader-' || (g %% 100), 'read', 'GET', '/queues/urgent/', 200,"
            " ('198.51.100.' || (g %% 250))::inet, 1 + floor(random() * %s)::bigint"
            " FROM generate_series(1, %s) g",
            [patients, n],
        )
        have += n
        say(f"  access records: {have:,}")
    cursor.execute("ANALYZE episodes_accessrecord")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--heavy", type=int, default=1_000_000)
    args = parser.parse_args(argv)
    started = time.monotonic()
    os.environ.update(bench_env(BIG_DB))
    manage(BIG_DB, "migrate", "--noinput", "-v0")

    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Permission
    from django.db import connection
    from django.test import Client

    from episodes.models import Patient
    from workspace.views.privacy import access_log_csv

    officer, _created = get_user_model().objects.get_or_create(
        username="bench-privacy-officer", defaults={"is_staff": True}
    )
    officer.user_permissions.add(Permission.objects.get(codename="view_accessrecord"))
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(officer)
    patients = Patient.objects.count()
    heavy_patient = Patient.objects.order_by("id").values_list("id", flat=True).first()
    result: dict[str, Any] = {"sizes": {}}
    rng = random.Random(7)  # noqa: S311 - which patients to time, not a secret
    for rows in sorted(args.rows):
        with connection.cursor() as cursor:
            top_up(cursor, rows, patients, heavy_patient, args.heavy)
            cursor.execute("SELECT count(*) FROM episodes_accessrecord")
            total = cursor.fetchone()[0]
        chosen = [rng.randint(1, patients) for _ in range(PATIENTS_TIMED)]
        for pk in chosen[:10]:
            client.get(f"/api/patients/{pk}/access-records/")
        api, raw, deep = [], [], []
        for pk in chosen:
            t0 = time.perf_counter()
            response = client.get(f"/api/patients/{pk}/access-records/")
            api.append(time.perf_counter() - t0)
            assert response.status_code == 200, response.status_code  # noqa: S101 - a bench's own check
            with connection.cursor() as wrapper:
                # psycopg's own cursor: unprepared, as the API's statement is.
                cursor = wrapper.cursor
                t0 = time.perf_counter()
                cursor.execute(
                    "SELECT id, at, username, user_id, action, method, path, status_code,"
                    " address, episode_id FROM episodes_accessrecord WHERE patient_id = %s"
                    " ORDER BY at DESC, id DESC LIMIT 51",
                    [pk],
                    prepare=False,
                )
                cursor.fetchall()
                raw.append(time.perf_counter() - t0)
        # The heavy patient's pages, 100 deep: a keyset page reads only its own rows.
        url = f"/api/patients/{heavy_patient}/access-records/"
        for _ in range(100):
            t0 = time.perf_counter()
            response = client.get(url)
            deep.append(time.perf_counter() - t0)
            url = response.json()["next"]
        size = {
            "records": total,
            "who_read": stats_ms(api),
            "who_read_raw_sql": stats_ms(raw),
            "who_read_first_100_pages_of_heavy": stats_ms(deep),
        }
        say(
            f"{total:,} records: who-read p95 {size['who_read']['p95_ms']:.1f} ms"
            f" (raw SQL {size['who_read_raw_sql']['p95_ms']:.1f} ms),"
            " heavy patient's pages p95"
            f" {size['who_read_first_100_pages_of_heavy']['p95_ms']:.1f} ms"
        )
        result["sizes"][str(rows)] = size
    # The heavy patient's whole CSV through the view, streamed; Python's peak memory.
    request = client.get("/").wsgi_request
    request.user = officer
    tracemalloc.start()
    t0 = time.perf_counter()
    response = access_log_csv(request, heavy_patient)
    lines = sum(chunk.count(b"\n") if isinstance(chunk, bytes) else 1 for chunk in response)
    seconds = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    result["export"] = {"rows": lines - 1, "seconds": seconds, "peak_mb": peak}
    say(f"CSV of {lines - 1:,} records in {seconds:.1f} s, peak {peak:.1f} MB")
    largest = result["sizes"][str(max(args.rows))]
    result["audit"] = {"who_read_p95_ms": largest["who_read"]["p95_ms"]}
    write_part(RESULTS / "audit.json", result, started)


if __name__ == "__main__":
    main()
