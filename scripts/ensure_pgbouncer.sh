#!/usr/bin/env bash
# The pooler test runs Careflow through Debian's PgBouncer in transaction mode
# (tests/pooler/; README, "Running at scale"). Install the package when it is missing and we
# can; otherwise say how. Prints nothing when it is there.
set -euo pipefail

PGBOUNCER=/usr/sbin/pgbouncer
if [[ -x "$PGBOUNCER" ]]; then
    exit 0
fi
if command -v apt-get >/dev/null && [[ "$(id -u)" == 0 ]]; then
    echo "--- installing Debian's pgbouncer for the pooler test"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >/dev/null
    # The package's own service is not wanted: the test starts its own PgBouncer.
    apt-get install -y -q --no-install-recommends pgbouncer >/dev/null
    if command -v service >/dev/null; then service pgbouncer stop >/dev/null 2>&1 || true; fi
fi
if [[ ! -x "$PGBOUNCER" ]]; then
    echo "pgbouncer is not installed at ${PGBOUNCER}: apt-get install pgbouncer" >&2
    exit 1
fi
