"""Debian's PgBouncer in transaction mode, started for a test run and stopped after it.

Used three ways: the pooler tests' fixture (tests/pooler/), the fault tests' rig when
``CAREFLOW_TEST_POOLER`` is set (tests/chaos/), and ``python -m tests.pooler.pgbouncer``, which
`make chaos` runs in front of the API tests: it writes the DATABASE_URL that goes through the
pooler to the file it is given and stays up until it is sent SIGTERM.

PgBouncer refuses to run as root: as root, it runs as the ``postgres`` user, in a directory
of its own. Every database of the server is reachable through it (``* =``).
https://www.pgbouncer.org/config.html
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Self
from urllib.parse import quote, urlsplit

from tests.processes import free_port, stop

PGBOUNCER = "/usr/sbin/pgbouncer"
ENSURE = Path(__file__).resolve().parents[2] / "scripts" / "ensure_pgbouncer.sh"
START_TIMEOUT_SECONDS = 60


class PoolerError(RuntimeError):
    """PgBouncer did not start."""


class PgBouncer:
    """One PgBouncer on a free port in front of ``host``/``port`` (transaction pooling)."""

    def __init__(
        self,
        *,
        host: str,
        port: str | int | None,
        user: str,
        password: str = "",
        pool_size: int = 2,
    ) -> None:
        self.upstream_host = host or "127.0.0.1"
        self.upstream_port = str(port) if port else ""
        self.user = user or "postgres"
        self.password = password
        self.pool_size = pool_size
        self.home = Path(tempfile.mkdtemp(prefix="careflow-pgbouncer-"))
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def log(self) -> str:
        parts = [self.home / "stdout.log", self.home / "pgbouncer.log"]
        return "\n".join(p.read_text(errors="replace")[-3000:] for p in parts if p.exists())

    def url(self, database: str) -> str:
        """The DATABASE_URL of ``database`` through this pooler."""
        password = f":{quote(self.password, safe='')}" if self.password else ""
        return f"postgres://{quote(self.user, safe='')}{password}@127.0.0.1:{self.port}/{database}"

    def start(self) -> Self:
        subprocess.run([str(ENSURE)], check=True)
        server = f"host={self.upstream_host}" + (
            f" port={self.upstream_port}" if self.upstream_port else ""
        )
        (self.home / "userlist.txt").write_text(f'"{self.user}" ""\n')
        (self.home / "pgbouncer.ini").write_text(
            f"[databases]\n* = {server}\n"
            "[pgbouncer]\n"
            f"listen_addr = 127.0.0.1\nlisten_port = {self.port}\nunix_socket_dir =\n"
            f"auth_type = trust\nauth_file = {self.home / 'userlist.txt'}\n"
            f"pool_mode = transaction\ndefault_pool_size = {self.pool_size}\n"
            "max_client_conn = 500\n"
            "ignore_startup_parameters = extra_float_digits,options\n"
            f"logfile = {self.home / 'pgbouncer.log'}\npidfile = {self.home / 'pgbouncer.pid'}\n"
        )
        argv = [PGBOUNCER, str(self.home / "pgbouncer.ini")]
        if os.geteuid() == 0:
            owner = pwd.getpwnam("postgres")
            for path in (self.home, *self.home.iterdir()):
                os.chown(path, owner.pw_uid, owner.pw_gid)
            argv = ["runuser", "-u", "postgres", "--", *argv]
        with (self.home / "stdout.log").open("wb") as out:
            self.process = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                msg = f"pgbouncer exited {self.process.returncode}:\n{self.log}"
                raise PoolerError(msg)
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return self
            except OSError:
                time.sleep(0.2)
        self.stop()
        msg = f"pgbouncer not ready in {START_TIMEOUT_SECONDS} s:\n{self.log}"
        raise PoolerError(msg)

    def stop(self) -> None:
        if self.process is not None:
            stop(self.process)
            self.process = None
        shutil.rmtree(self.home, ignore_errors=True)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()


def in_front_of(settings_dict: dict, *, pool_size: int = 2) -> PgBouncer:
    """A PgBouncer (not started) in front of the server of a Django connection's settings."""
    return PgBouncer(
        host=settings_dict.get("OPTIONS", {}).get("host") or settings_dict.get("HOST") or "",
        port=settings_dict.get("PORT"),
        user=settings_dict.get("USER") or "postgres",
        password=settings_dict.get("PASSWORD") or "",
        pool_size=pool_size,
    )


def main() -> None:
    """Start a pooler in front of $DATABASE_URL's server; write its URL; run until SIGTERM."""
    url_file = Path(sys.argv[1])
    upstream = urlsplit(os.environ["DATABASE_URL"])
    pooler = PgBouncer(
        host=upstream.hostname or "",
        port=upstream.port,
        user=upstream.username or "postgres",
        password=upstream.password or "",
        pool_size=int(os.environ.get("CAREFLOW_TEST_POOL_SIZE", "10")),
    )
    pooler.start()
    stopping = False

    def _stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    partial = url_file.with_suffix(".partial")
    partial.write_text(pooler.url(upstream.path.lstrip("/")) + "\n")
    partial.replace(url_file)  # whole or not at all: the script waits for the file
    try:
        while not stopping and pooler.process is not None and pooler.process.poll() is None:
            time.sleep(0.2)
    finally:
        pooler.stop()
    sys.exit(0)


if __name__ == "__main__":
    main()
