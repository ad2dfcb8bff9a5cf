"""scripts/respawn.sh: a command that exits is started again; SIGTERM or SIGINT stop it all.

`make run` runs the Celery worker and beat under it. The command here is a small Python
program that writes its pid to a file and sleeps, and writes "stopped" on SIGTERM.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings

SCRIPT = Path(settings.BASE_DIR) / "scripts" / "respawn.sh"
TIMEOUT_SECONDS = 30
CHILD = """
import os, signal, sys, time
path = sys.argv[1]
def stop(*_):
    with open(path, "a") as f:
        f.write(f"stopped {os.getpid()}\\n")
    sys.exit(0)
signal.signal(signal.SIGTERM, stop)
with open(path, "a") as f:
    f.write(f"started {os.getpid()}\\n")
for _ in range(600):
    time.sleep(0.1)
"""


def _lines(path: Path, word: str) -> list[int]:
    if not path.exists():
        return []
    return [int(line.split()[1]) for line in path.read_text().splitlines() if line.startswith(word)]


def _wait(check, what: str):
    deadline = time.monotonic() + TIMEOUT_SECONDS
    while not (result := check()):
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)
    return result


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is gone in all but name: its parent has not reaped it yet.
    return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"


def _default_signals() -> None:
    """In the child, before exec: SIGINT and SIGTERM as a terminal or supervisor leaves them.

    A test run started as a background job of a non-interactive shell (`make test &`)
    inherits SIGINT ignored, and a shell cannot trap a signal ignored on entry (bash(1),
    "trap"): the script would never see the SIGINT this test sends.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


@pytest.fixture
def wrapped(tmp_path):
    record = tmp_path / "pids.txt"
    program = tmp_path / "child.py"
    program.write_text(CHILD)
    process = subprocess.Popen(
        [str(SCRIPT), sys.executable, str(program), str(record)],
        env={**os.environ, "RESPAWN_MIN_DELAY": "1", "RESPAWN_MAX_DELAY": "2"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
        preexec_fn=_default_signals,  # noqa: PLW1509 - no threads started by this test
    )
    yield process, record
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


@pytest.mark.parametrize("stop_with", [signal.SIGTERM, signal.SIGINT])
def test_a_killed_command_comes_back_and_a_signal_stops_everything(wrapped, stop_with):
    process, record = wrapped
    (first,) = _wait(lambda: _lines(record, "started"), "the command to start")
    os.kill(first, signal.SIGKILL)  # as the OOM killer would

    started = _wait(lambda: s if len(s := _lines(record, "started")) == 2 else None, "a respawn")
    second = started[1]
    assert second != first
    assert _alive(second)

    os.kill(process.pid, stop_with)  # honcho's, systemd's or Ctrl-C's stop
    assert process.wait(timeout=TIMEOUT_SECONDS) == 0
    assert _lines(record, "stopped") == [second]  # told to stop, not killed
    assert not _alive(second)
    assert _lines(record, "started") == [first, second]  # and not started again


def test_a_command_that_keeps_failing_is_retried_with_a_growing_delay(tmp_path):
    marker = tmp_path / "runs.txt"
    process = subprocess.Popen(
        [str(SCRIPT), "sh", "-c", f"echo run >> {marker}; exit 3"],
        env={**os.environ, "RESPAWN_MIN_DELAY": "1", "RESPAWN_MAX_DELAY": "2"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        _wait(lambda: marker.exists() and len(marker.read_text().split()) >= 3, "three runs")
    finally:
        os.kill(process.pid, signal.SIGTERM)
        process.wait(timeout=TIMEOUT_SECONDS)
    errors = process.stderr.read().decode()
    assert "sh exited with status 3; starting it again in 1 s" in errors
    assert "starting it again in 2 s" in errors
