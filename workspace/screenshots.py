"""`make screenshots`: the board, a queue, an episode, enrolment and the report as PNGs in docs/.

Builds a throw-away database (``careflow_screenshots``, on the PostgreSQL that DATABASE_URL
names, else the embedded one in var/postgres) with `migrate` and `seed_demo`, starts
`runserver` on a free local port, signs in as the demo coordinator in Debian's headless
Chromium and photographs the pages the README shows, at a laptop's size (whole pages,
docs/workspace-*.png) and a tablet's and a phone's (first screens, docs/screens/). Nothing
else is touched: no Redis is needed for these pages.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

import psycopg

if TYPE_CHECKING:
    from collections.abc import Callable

    from playwright.sync_api import Page

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
DATABASE = "careflow_screenshots"
CHROMIUM = os.environ.get("CAREFLOW_CHROMIUM", "/usr/bin/chromium")
START_TIMEOUT_SECONDS = 30
SIZES = {
    "laptop": {"width": 1366, "height": 768},
    "tablet": {"width": 768, "height": 1024},
    "phone": {"width": 390, "height": 844},
}
# A closed network: Chromium must not try to reach Google's hosts (as in the browser tests).
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run"]
CHROMIUM_ARGS += ["--disable-background-networking", "--disable-component-update"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _server_url() -> str:
    """DATABASE_URL, else the embedded server's (started if it is not running)."""
    if os.environ.get("DATABASE_URL"):
        return os.environ["DATABASE_URL"]
    started = subprocess.run(
        [sys.executable, "scripts/embedded_db.py", "start", "var/postgres", "careflow"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    return started.stdout.strip()


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def _recreate(server: str) -> None:
    with psycopg.connect(_with_database(server, "postgres"), autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{DATABASE}"')


def _drop(server: str) -> None:
    with psycopg.connect(_with_database(server, "postgres"), autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')


def _env(server: str) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "DATABASE_URL": _with_database(server, DATABASE),
        "DJANGO_LOG_LEVEL": "WARNING",
    }


def _manage(server: str, *args: str) -> None:
    subprocess.run(  # noqa: S603 - fixed argument list
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=_env(server),
        check=True,
        capture_output=True,
    )


def _wait(url: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 - our own local server
                return
        except OSError:
            time.sleep(0.3)
    msg = f"the server at {url} did not answer within {START_TIMEOUT_SECONDS} s"
    raise RuntimeError(msg)


def _pages(page: Page, base: str) -> tuple[tuple[str, Callable[[], object]], ...]:
    """Each page the README shows, opened as a coordinator opens it: (name, opened)."""

    def visit(url: str) -> Callable[[], object]:
        return lambda: page.goto(url)

    def urgent_episode() -> None:
        page.goto(f"{base}/queues/urgent/")
        page.locator("tbody a").first.click()
        page.wait_for_url("**/episodes/*/")

    def enrolment_with_errors() -> None:
        page.goto(f"{base}/enrol/")
        page.locator("form button[type=submit]").last.click()
        page.wait_for_load_state()

    return (
        ("board", visit(f"{base}/")),
        ("queue", visit(f"{base}/queues/unassigned/")),
        ("episode", urgent_episode),
        ("enrol-errors", enrolment_with_errors),
        ("report", visit(f"{base}/reports/adherence/")),
    )


def _shoot(base: str) -> list[Path]:
    """The laptop's whole pages for the README; the tablet's and phone's first screens."""
    from playwright.sync_api import sync_playwright  # noqa: PLC0415 - a dev dependency

    shots = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for size, viewport in SIZES.items():
            page = browser.new_context(viewport=viewport).new_page()
            page.goto(f"{base}/login/")
            page.get_by_label("Username").fill("coordinator")
            page.get_by_label("Password").fill("careflow-demo")
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_url(f"{base}/")
            for name, open_page in _pages(page, base):
                open_page()
                path = DOCS / (
                    f"workspace-{name}.png" if size == "laptop" else f"screens/{name}-{size}.png"
                )
                path.parent.mkdir(exist_ok=True)
                page.screenshot(path=str(path), full_page=size == "laptop")
                shots.append(path)
            page.context.close()
        browser.close()
    return shots


def main() -> None:
    database = _server_url()
    _recreate(database)
    _manage(database, "migrate", "--noinput")
    _manage(database, "seed_demo")
    port = _free_port()
    server = subprocess.Popen(  # noqa: S603 - fixed argument list
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
        cwd=ROOT,
        env=_env(database),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        _wait(f"{base}/login/")
        for path in _shoot(base):
            sys.stdout.write(f"wrote {path.relative_to(ROOT)}\n")
    finally:
        server.terminate()
        server.wait(timeout=10)
        _drop(database)


if __name__ == "__main__":
    main()
