# Helpers sourced by the other scripts (not run on its own).

# Host and port of a redis:// URL, e.g. "127.0.0.1 6379".
redis_host_port() {
    .venv/bin/python - "$1" <<'PY'
import sys
from urllib.parse import urlsplit

url = urlsplit(sys.argv[1])
print(url.hostname or "127.0.0.1", url.port or 6379)
PY
}

# Exit status 0 when Redis at the URL answers PING within a second.
redis_answers() {
    .venv/bin/python - "$1" <<'PY'
import sys

import redis

try:
    redis.Redis.from_url(sys.argv[1], socket_connect_timeout=1, socket_timeout=1).ping()
except Exception:  # noqa: BLE001
    sys.exit(1)
PY
}
