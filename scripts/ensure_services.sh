#!/usr/bin/env bash
# Make sure the PostgreSQL and Redis that the tests use are answering; start them if we can.
# With POSTGRES_OPTIONAL=1 a PostgreSQL that is neither running nor installed is not an error
# (`make test` then starts the embedded one: scripts/test.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

PG_HOST="${PG_HOST:-127.0.0.1}"
PG_PORT="${PG_PORT:-5432}"

if ! command -v pg_isready >/dev/null || ! pg_isready -q -h "$PG_HOST" -p "$PG_PORT" 2>/dev/null; then
    if command -v pg_ctlcluster >/dev/null && [[ -d /etc/postgresql ]]; then
        version="$(ls /etc/postgresql | sort -V | tail -n1)"
        echo "--- starting PostgreSQL ${version}/main"
        pg_ctlcluster --skip-systemctl-redirect "$version" main start
        for _ in $(seq 1 30); do
            pg_isready -q -h "$PG_HOST" -p "$PG_PORT" && break
            sleep 1
        done
    fi
    if ! pg_isready -q -h "$PG_HOST" -p "$PG_PORT" 2>/dev/null && [[ "${POSTGRES_OPTIONAL:-}" != 1 ]]; then
        echo "PostgreSQL is not answering on ${PG_HOST}:${PG_PORT} and could not be started:" \
            "apt-get install postgresql" >&2
        exit 1
    fi
fi

if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
    if command -v redis-server >/dev/null; then
        echo "--- starting Redis on 127.0.0.1:6379"
        redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
        for _ in $(seq 1 30); do
            redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break
            sleep 0.2
        done
    else
        echo "Redis is not answering on 127.0.0.1:6379 and redis-server is not installed:" \
            "apt-get install redis-server" >&2
        exit 1
    fi
fi
