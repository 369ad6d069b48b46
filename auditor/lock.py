"""One run at a time per output folder: an fcntl.flock on `<output-dir>/.auditor.lock`.

Two overlapping cron runs writing the same folder would interleave log lines, prune each
other's run folders and race on "the latest run". flock is released by the kernel when the
process dies, so a crashed run never leaves a stale lock behind; the PID and start time
written into the file only serve the message shown to the run that has to wait or give up.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from auditor.clock import now_iso  # by name: output_lock has a timer parameter called `clock`
from auditor.safefs import open_private

LOCK_NAME = ".auditor.lock"
POLL_SECONDS = 0.2


class LockBusy(RuntimeError):
    """Another run holds the output folder's lock (and we may not wait, or waited long enough)."""


def _holder(fd: int) -> str:
    """'PID 123 since 2025-01-01T03:00:00Z', as written by the holder (best effort)."""
    try:
        text = os.pread(fd, 256, 0).decode("utf-8", "replace").strip()
    except OSError:
        return "another run"
    fields = dict(part.split("=", 1) for part in text.split() if "=" in part)
    if "pid" in fields:
        return f"PID {fields['pid']} (started {fields.get('started', '?')})"
    return "another run"


def _try_lock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


@contextmanager
def output_lock(
    output_dir: Path,
    *,
    wait: bool,
    timeout_seconds: float,
    on_wait: Callable[[str], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> Iterator[Path]:
    """Hold the folder's lock for the block. `wait=False`: LockBusy at once if it is held.

    UnsafePath when the lock file is a symlink (it is never followed, see safefs).
    """
    output_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = output_dir / LOCK_NAME
    fd = open_private(path, os.O_RDWR)
    try:
        if not _try_lock(fd):
            holder = _holder(fd)
            if not wait:
                raise LockBusy(
                    f"{path} is held by {holder}: another run is writing to {output_dir} "
                    "([output] lock = \"fail\"); try again when it has finished"
                )
            if on_wait:
                on_wait(f"{path} is held by {holder}; waiting up to {timeout_seconds:g}s "
                        "([output] lock_timeout_seconds)")
            deadline = clock() + timeout_seconds
            while not _try_lock(fd):
                if clock() >= deadline:
                    raise LockBusy(
                        f"{path} is still held by {_holder(fd)} after waiting {timeout_seconds:g}s "
                        f"([output] lock_timeout_seconds); the other run is still writing to {output_dir}"
                    )
                time.sleep(POLL_SECONDS)
        started = now_iso()
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid={os.getpid()} started={started}\n".encode(), 0)
        yield path
    finally:
        # Closing the descriptor releases the lock; the file stays (deleting it would race
        # with a waiter that already opened it and would then lock an unlinked inode).
        os.close(fd)
