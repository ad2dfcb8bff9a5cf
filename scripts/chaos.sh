#!/usr/bin/env bash
# `make chaos`: the fault tests (tests/chaos/, docs/RELIABILITY.md) on PostgreSQL, then the
# figures of each fault. They start their own redis-server on a spare port, workers, beat
# and dispatchers; every process they start is stopped when they end.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/venv.sh
scripts/ensure_services.sh
command -v redis-server >/dev/null || {
    echo "make chaos starts a private Redis: apt-get install redis-server" >&2
    exit 1
}

export DJANGO_SETTINGS_MODULE=config.settings.test
export PYTHONUNBUFFERED=1
mkdir -p var/chaos
rm -rf var/chaos/figures var/chaos/logs
read -r -a pytest_args <<<"${PYTEST_ARGS:-}"
url="${TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/careflow}"

echo "=== Careflow fault tests on PostgreSQL (${url}) ==="
status=0
DATABASE_URL="$url" .venv/bin/python -m pytest -m chaos tests/chaos "${pytest_args[@]}" || status=1

# Many processes, one database, a pooler between them (README, "Run it at scale"): the
# dispatch faults again with every process of the rig behind PgBouncer in transaction mode,
# then the API tests with the test run itself behind one.
echo
echo "=== The dispatch faults through PgBouncer (transaction mode, prepared statements off) ==="
CAREFLOW_TEST_POOLER=1 DATABASE_URL="$url" .venv/bin/python -m pytest -m chaos tests/chaos \
    "${pytest_args[@]}" || status=1

echo
echo "=== The API tests through PgBouncer (transaction mode, prepared statements off) ==="
scripts/ensure_pgbouncer.sh
pooler_dir="$(mktemp -d)"
DATABASE_URL="${url%/*}/careflow_pooler" .venv/bin/python -m tests.pooler.pgbouncer \
    "$pooler_dir/url" &
pooler_pid=$!
for _ in $(seq 1 300); do
    [[ -s "$pooler_dir/url" ]] && break
    sleep 0.2
done
pooled_url="$(cat "$pooler_dir/url")"
# pytest-django's test database is created through the pooler and kept (--reuse-db): a
# database cannot be dropped while the pooler holds server connections to it, so it is
# dropped directly once the pooler has stopped.
CAREFLOW_DB_PREPARED_STATEMENTS=false DATABASE_URL="$pooled_url" \
    .venv/bin/python -m pytest -q -p no:cacheprovider --create-db --reuse-db tests/api \
    "${pytest_args[@]}" || status=1
kill "$pooler_pid" 2>/dev/null || true
wait "$pooler_pid" 2>/dev/null || true
rm -rf "$pooler_dir"
psql "${url%/*}/postgres" -qc "DROP DATABASE IF EXISTS test_careflow_pooler WITH (FORCE)" || true

echo
echo "=== Figures per fault (var/chaos/figures/) ==="
.venv/bin/python - <<'PY'
import json
from pathlib import Path

# Duplicates are counted at the recipient: SMS on the patient's phone (the fake Twilio
# deduplicates nothing), email in the mailbox.
columns = ["due", "delivered_once", "skipped_stale", "lost", "duplicated_sms",
           "duplicated_email", "raw_calls", "raw_repeats", "interrupted_attempts",
           "reconciled"]
print(f"{'fault':30}" + "".join(f"{c:>21}" for c in columns))
for path in sorted(Path("var/chaos/figures").glob("*.json")):
    figures = json.loads(path.read_text())
    print(f"{figures['fault']:30}" + "".join(f"{figures.get(c, '-')!s:>21}" for c in columns))
PY
exit "$status"
