#!/usr/bin/env bash
# `make test`: lint, then the whole suite on PostgreSQL and again on SQLite.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/venv.sh
scripts/ensure_services.sh
scripts/ensure_chromium.sh
make --no-print-directory lint

export DJANGO_SETTINGS_MODULE=config.settings.test
export PYTHONUNBUFFERED=1
mkdir -p var
read -r -a pytest_args <<<"${PYTEST_ARGS:-}"

status=0
run_suite() {
    local label="$1" url="$2"
    echo
    echo "=== Careflow tests on ${label} (${url}) ==="
    DATABASE_URL="$url" .venv/bin/python -m pytest "${pytest_args[@]}" || status=1
}

run_suite PostgreSQL "${TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/careflow}"
run_suite SQLite "sqlite:///${PWD}/var/test.sqlite3"

if [[ $status -ne 0 ]]; then
    echo "=== Careflow tests FAILED on at least one database ===" >&2
fi
exit "$status"
