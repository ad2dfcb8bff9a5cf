#!/usr/bin/env bash
# The browser test drives Debian's chromium through Playwright (Playwright's own browser
# download cannot run here). Install it when it is missing and we can; otherwise say how.
set -euo pipefail

CHROMIUM="${CAREFLOW_CHROMIUM:-/usr/bin/chromium}"
if [[ -x "$CHROMIUM" ]]; then
    exit 0
fi
if command -v apt-get >/dev/null && [[ "$(id -u)" == 0 ]]; then
    echo "--- installing Debian's chromium for the browser test"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >/dev/null
    apt-get install -y -q chromium >/dev/null
fi
if [[ ! -x "$CHROMIUM" ]]; then
    echo "chromium is not installed at ${CHROMIUM}: apt-get install chromium" >&2
    exit 1
fi
