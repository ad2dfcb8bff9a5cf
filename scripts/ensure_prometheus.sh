#!/usr/bin/env bash
# The alert-rule tests run Debian's promtool, and the scrape test a real Prometheus
# (tests/ops/; docs/OPERATIONS.md). Install Debian's prometheus package when they are missing
# and we can; otherwise say how. Prints nothing when both are there.
set -euo pipefail

PROMTOOL=/usr/bin/promtool
PROMETHEUS=/usr/bin/prometheus
if [[ -x "$PROMTOOL" && -x "$PROMETHEUS" ]]; then
    exit 0
fi
if command -v apt-get >/dev/null && [[ "$(id -u)" == 0 ]]; then
    echo "--- installing Debian's prometheus (promtool) for the alert-rule tests"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >/dev/null
    # The package's service is not wanted here: the tests start their own Prometheus.
    apt-get install -y -q --no-install-recommends prometheus >/dev/null
fi
if [[ ! -x "$PROMTOOL" || ! -x "$PROMETHEUS" ]]; then
    echo "prometheus/promtool are not installed at ${PROMETHEUS} and ${PROMTOOL}: apt-get install prometheus" >&2
    exit 1
fi
