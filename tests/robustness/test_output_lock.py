"""Two runs on the same output folder never interleave: flock on <output-dir>/.auditor.lock."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from auditor.lock import LOCK_NAME, LockBusy, output_lock

HOLD = """
import sys, time
from pathlib import Path
from auditor.lock import output_lock
with output_lock(Path(sys.argv[1]), wait=False, timeout_seconds=0):
    print("held", flush=True)
    time.sleep(60)
"""


@pytest.fixture
def other_process(tmp_path: Path):
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    yield proc
    proc.kill()
    proc.wait()


def test_fail_mode_refuses_at_once_naming_the_other_runs_pid(tmp_path: Path, other_process: subprocess.Popen) -> None:
    started = time.monotonic()
    busy = rf"held by PID {other_process.pid} \(started 20\d\d-.*Z\).*lock = \"fail\""
    with pytest.raises(LockBusy, match=busy), output_lock(tmp_path, wait=False, timeout_seconds=30):
        pytest.fail("entered a held lock")
    assert time.monotonic() - started < 1


def test_wait_mode_gives_up_after_the_lock_timeout(tmp_path: Path, other_process: subprocess.Popen) -> None:
    messages: list[str] = []
    started = time.monotonic()
    gave_up = r"still held by PID .* after waiting 0.5s \(\[output\] lock_timeout_seconds\)"
    with pytest.raises(LockBusy, match=gave_up), output_lock(tmp_path, wait=True, timeout_seconds=0.5,
                                                             on_wait=messages.append):
        pytest.fail("entered a held lock")
    assert 0.5 <= time.monotonic() - started < 3
    assert messages and f"PID {other_process.pid}" in messages[0]


def test_lock_of_a_killed_run_is_free_at_once(tmp_path: Path, other_process: subprocess.Popen) -> None:
    other_process.kill()
    other_process.wait()
    with output_lock(tmp_path, wait=False, timeout_seconds=0) as path:
        assert path.read_text().startswith(f"pid={os.getpid()} started=")


def test_wait_mode_enters_when_the_holder_finishes(tmp_path: Path) -> None:
    order: list[str] = []
    held = threading.Event()

    def first() -> None:
        with output_lock(tmp_path, wait=False, timeout_seconds=0):
            held.set()
            time.sleep(0.4)
            order.append("first done")

    t = threading.Thread(target=first)
    t.start()
    held.wait(5)
    with output_lock(tmp_path, wait=True, timeout_seconds=10):
        order.append("second in")
    t.join()
    assert order == ["first done", "second in"]


def test_lock_file_is_private_and_kept_after_release(tmp_path: Path) -> None:
    out = tmp_path / "new" / "reports"
    with output_lock(out, wait=False, timeout_seconds=0):
        pass
    assert (out / LOCK_NAME).stat().st_mode & 0o777 == 0o600
    assert out.stat().st_mode & 0o777 == 0o700
    with output_lock(out, wait=False, timeout_seconds=0):  # released: enters again at once
        pass
