#!/usr/bin/env bash
# Create .venv and install requirements.lock into it; a no-op while the lock is unchanged.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
hash="$(sha256sum requirements.lock | cut -c1-16)"
stamp=".venv/.installed-${hash}"

if [[ -f "$stamp" ]]; then
    exit 0
fi
if [[ ! -x .venv/bin/python ]]; then
    echo "--- creating .venv with $("$PYTHON" --version)"
    "$PYTHON" -m venv .venv
fi
echo "--- installing requirements.lock into .venv"
# This machine's pip configuration names local index folders that may not exist; pip warns
# once per package about them. Keep the rest of what pip says.
.venv/bin/pip install --quiet --disable-pip-version-check -r requirements.lock \
    2> >(grep -v "is ignored: it is neither a file nor a directory" >&2)
rm -f .venv/.installed-*
touch "$stamp"
