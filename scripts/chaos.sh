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
