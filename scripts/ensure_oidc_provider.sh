#!/usr/bin/env bash
# The single sign-on tests run a real OpenID Provider: oidc-provider from npm, under node 20
# or newer (tests/oidc/provider.mjs; tests/security/test_single_sign_on_browser.py). Install
# Debian's nodejs and npm when node is missing and we can, then exactly the locked packages
# (`npm ci` from tests/oidc/package-lock.json) into tests/oidc/node_modules, kept out of git;
# a no-op while the lock is unchanged. Prints nothing when everything is there.
set -euo pipefail
cd "$(dirname "$0")/../tests/oidc"

node_major() { node -e 'process.stdout.write(process.versions.node.split(".")[0])' 2>/dev/null || echo 0; }

if [[ "$(node_major)" -lt 20 ]] && command -v apt-get >/dev/null && [[ "$(id -u)" == 0 ]]; then
    echo "--- installing Debian's nodejs and npm for the single sign-on tests"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >/dev/null
    apt-get install -y -q --no-install-recommends nodejs npm >/dev/null
fi
if [[ "$(node_major)" -lt 20 ]]; then
    echo "node 20 or newer is needed for tests/oidc (oidc-provider): apt-get install nodejs npm" >&2
    exit 1
fi

stamp="node_modules/.installed-$(sha256sum package-lock.json | cut -c1-16)"
if [[ -f "$stamp" ]]; then
    exit 0
fi
echo "--- installing tests/oidc's locked npm packages (oidc-provider)"
npm ci --no-audit --no-fund --loglevel=error >/dev/null
touch "$stamp"
