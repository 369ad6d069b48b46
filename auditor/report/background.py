"""Write one file in a forked child process while the parent writes the others.

The workbook is the slowest file of a run folder (openpyxl, ~1M cells at 10,000 accounts) and,
after collection, the machine's second core is idle: a child writes it while the parent writes
the rest. The child is a fork, so it needs nothing pickled and starts with the parent's data.

Nothing is ever lost: a child that fails or dies is reported in one warning and the parent then
writes the file itself. Where a fork is not available or not safe, the file is written in-process.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import signal
import sys
import threading
import traceback
from collections.abc import Callable
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Literal

from auditor.heap import frozen_heap
from auditor.report.files import temp_files

log = logging.getLogger("auditor")

MAX_REASON = 2000  # characters: well under a pipe's buffer, so the child's send never blocks
KILL_WAIT_SECONDS = 5.0


def start_method() -> Literal["fork"] | None:
    """"fork" when a child may be forked here and now, None to write in-process (tests patch this)."""
    # macOS: fork is unsafe with its system frameworks; Windows has no fork.
    if sys.platform in ("darwin", "win32") or "fork" not in multiprocessing.get_all_start_methods():
        return None
    # Another live thread (e.g. an account worker abandoned past its deadline) may hold a lock at
    # the moment of the fork (logging, a socket pool, malloc): the child would inherit it locked
    # forever. Python 3.12+ also warns on such a fork. Writing in-process is safe and only slower.
    if threading.active_count() > 1:
        return None
    return "fork"


def remove_temp_files(path: Path) -> None:
    for p in temp_files(path):
        with contextlib.suppress(FileNotFoundError):
            p.unlink()


class BackgroundWrite:
    """One file being written by `write(path)`, in a child process or (at `join`) in this one."""

    def __init__(self, path: Path, write: Callable[[Path], object]) -> None:
        self.path = path
        self._write = write
        self._process: BaseProcess | None = None
        self._reader: Connection | None = None
        self.forked = False
        self._done = False

    def start(self) -> BackgroundWrite:
        method = start_method()
        if method is None:
            return self  # written in-process by join(), in the order the caller had before
        ctx = multiprocessing.get_context(method)
        reader, writer = ctx.Pipe(duplex=False)
        process = ctx.Process(target=_child, args=(self._write, self.path, writer), name=f"write {self.path.name}",
                              daemon=True)  # daemon: terminated if the parent exits first
        # Frozen objects are left alone by the child's garbage collector: without this, its first full
        # collection writes to (and so copies) every page of the parent's heap.
        try:
            with frozen_heap():
                process.start()
        except OSError as exc:  # e.g. ENOMEM: a large process under strict memory overcommit
            reader.close()
            log.warning("%s: cannot start a background writer (%s); writing it in this process", self.path.name, exc)
            return self
        finally:
            writer.close()  # the child holds its own end: EOF here once it exits
        self._process, self._reader, self.forked = process, reader, True
        return self

    def join(self) -> Path:
        """Wait for the child; if it failed or died, warn once and write the file here. Interrupted
        (KeyboardInterrupt, a SIGTERM handler's exception): the child is killed, then it re-raises.
        Once joined or cancelled, a further join does nothing."""
        if self._done:
            return self.path
        self._done = True
        if self._process is None:
            self._write(self.path)
            return self.path
        try:
            self._process.join()
            reason = self._failure()
        except BaseException:
            self.cancel()
            raise
        self._close()
        if reason is not None:
            log.warning("%s: the background writer failed (%s); writing it in this process instead",
                        self.path.name, reason)
            remove_temp_files(self.path)
            self._write(self.path)
        return self.path

    def cancel(self) -> None:
        """Kill the child (if any) and remove its half-written temporary file."""
        self._done = True
        process = self._process
        if process is None:
            return
        if process.is_alive():
            process.kill()  # not terminate(): nothing to clean up in the child but its temp file, removed below
            process.join(KILL_WAIT_SECONDS)
        self._close()
        remove_temp_files(self.path)

    def _failure(self) -> str | None:
        """None when the child wrote the file; otherwise why not."""
        assert self._process is not None and self._reader is not None
        code = self._process.exitcode
        try:
            message = self._reader.recv() if self._reader.poll() else None
        except (EOFError, OSError):
            message = None
        if message == "":  # the file is in place, whatever happened after
            return None
        if isinstance(message, str) and message:
            return message
        if code is not None and code < 0:
            return f"killed by {_signal_name(-code)}"
        return f"exited with code {code} without a result"

    def _close(self) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None
        if self._process is not None and self._process.exitcode is not None:
            self._process.close()
        self._process = None


def write_in_background(path: Path, write: Callable[[Path], object]) -> BackgroundWrite:
    """Start `write(path)` in a forked child where that is safe; `.join()` it later (or `.cancel()`)."""
    return BackgroundWrite(path, write).start()


def _child(write: Callable[[Path], object], path: Path, sender: Connection) -> None:
    # Runs in the forked child. multiprocessing ends it with os._exit: the parent's atexit handlers
    # (log handlers, temp folders) never run here.
    # A Ctrl-C reaches the whole foreground process group: the parent decides what it means, the child
    # carries on. SIGTERM gets its default action back (not the parent's inherited handler), so that
    # multiprocessing's exit-time terminate() of daemon children ends this one.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        write(path)
    except BaseException as exc:  # reported to the parent, which then writes the file itself
        reason = "".join(traceback.format_exception_only(exc)).strip()
        sender.send(reason[:MAX_REASON] or type(exc).__name__)
        sender.close()
        sys.exit(1)  # multiprocessing turns this into the exit code, without printing a traceback
    sender.send("")
    sender.close()


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"

