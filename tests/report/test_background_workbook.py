"""audit.xlsx written by a forked child while the parent writes the other run-folder files."""

from __future__ import annotations

import logging
import multiprocessing.process
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FrameType
from typing import IO

import pytest

from auditor.model import AuditResult
from auditor.pipeline import Interrupted
from auditor.report import background, writer
from auditor.report.background import write_in_background
from auditor.report.files import temp_files, write_atomic
from auditor.report.writer import write_result_files

from .factory import EXTERNAL_ID, make_result
from .helpers import open_book, sheet_values

REAL_WRITE_WORKBOOK = writer.write_workbook
RUN_FILES = {"findings.json", "findings.csv", "regions.csv", "inventory.json", "exclusions.json", "exclusions.csv",
             "exclusions.tf.json", "datadog_patches.json", "audit.xlsx"}


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@pytest.fixture
def warnings_logged() -> Iterator[list[str]]:
    # On the "auditor" logger itself: setup_logging (run by other tests) turns its propagation off.
    handler = Records()
    logger = logging.getLogger("auditor")
    logger.addHandler(handler)
    try:
        yield handler.messages
    finally:
        logger.removeHandler(handler)


@pytest.fixture
def fork(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(background, "start_method", lambda: "fork")


def record_writer_pid(monkeypatch: pytest.MonkeyPatch, pids: Path) -> None:
    """writer.write_workbook notes which process ran it (the child sees the patch: it is a fork)."""

    def recording(path: Path, result: AuditResult, **kwargs: bool) -> Path:
        with pids.open("a") as fh:
            fh.write(f"{os.getpid()}\n")
        return REAL_WRITE_WORKBOOK(path, result, **kwargs)

    monkeypatch.setattr(writer, "write_workbook", recording)


def in_child_only(monkeypatch: pytest.MonkeyPatch, action: Callable[[Path], object]) -> None:
    """writer.write_workbook does `action` in a child process and the real thing in the parent."""
    parent = os.getpid()

    def patched(path: Path, result: AuditResult, **kwargs: bool) -> Path:
        if os.getpid() != parent:
            action(path)
        return REAL_WRITE_WORKBOOK(path, result, **kwargs)

    monkeypatch.setattr(writer, "write_workbook", patched)


def in_process_book(tmp_path: Path, result: AuditResult) -> dict:
    return sheet_values(open_book(REAL_WRITE_WORKBOOK(tmp_path / "reference.xlsx", result)))


def half_written_then(path: Path, then: Callable[[], None]) -> None:
    """Start the atomic write of `path` (its temporary file exists, with some bytes) and then `then()`."""

    def dump(fh: IO[bytes]) -> None:
        fh.write(b"PK\x03\x04 half a workbook")
        fh.flush()
        then()

    write_atomic(path, dump)


def wait_for(condition: Callable[[], bool], seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_workbook_written_by_the_child_matches_the_in_process_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fork: None, warnings_logged: list[str]
) -> None:
    result = make_result()
    pids = tmp_path / "pids"
    record_writer_pid(monkeypatch, pids)
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    write_result_files(result, run_dir, show_external_ids=True)
    assert [int(p) for p in pids.read_text().split()] != [os.getpid()]  # one write, by another process
    assert len(pids.read_text().split()) == 1
    assert {p.name for p in run_dir.iterdir()} == RUN_FILES  # no temporary file either
    child_book = sheet_values(open_book(run_dir / "audit.xlsx"))
    reference = sheet_values(open_book(REAL_WRITE_WORKBOOK(tmp_path / "ref.xlsx", result, show_external_ids=True)))
    assert child_book == reference
    assert any(EXTERNAL_ID in str(v) for rows in child_book.values() for row in rows for v in row)  # kwarg passed
    assert warnings_logged == []


def test_a_child_that_raises_is_reported_once_and_the_parent_writes_the_workbook(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fork: None, warnings_logged: list[str]
) -> None:
    def boom(_path: Path) -> None:
        raise RuntimeError("boom in the child")

    in_child_only(monkeypatch, boom)
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    write_result_files(make_result(), run_dir)
    assert len(warnings_logged) == 1
    assert "audit.xlsx" in warnings_logged[0] and "RuntimeError: boom in the child" in warnings_logged[0]
    assert {p.name for p in run_dir.iterdir()} == RUN_FILES
    assert sheet_values(open_book(run_dir / "audit.xlsx")) == in_process_book(tmp_path, make_result())


def test_a_child_killed_mid_write_leaves_no_temp_file_and_the_parent_writes_the_workbook(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fork: None, warnings_logged: list[str]
) -> None:
    in_child_only(monkeypatch, lambda path: half_written_then(path, lambda: os.kill(os.getpid(), signal.SIGKILL)))
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    write_result_files(make_result(), run_dir)
    assert len(warnings_logged) == 1
    assert "audit.xlsx" in warnings_logged[0] and "killed by SIGKILL" in warnings_logged[0]
    assert {p.name for p in run_dir.iterdir()} == RUN_FILES  # no .audit.xlsx.*.tmp
    assert sheet_values(open_book(run_dir / "audit.xlsx")) == in_process_book(tmp_path, make_result())


def test_no_fork_while_another_thread_is_alive(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pids = tmp_path / "pids"
    record_writer_pid(monkeypatch, pids)
    stop = threading.Event()
    other = threading.Thread(target=stop.wait, name="abandoned-account-worker", daemon=True)
    other.start()
    try:
        assert background.start_method() is None
        assert write_in_background(tmp_path / "x.xlsx", lambda _p: None).forked is False
        run_dir = tmp_path / "run"
        run_dir.mkdir()
        write_result_files(make_result(), run_dir)
    finally:
        stop.set()
        other.join()
    assert [int(p) for p in pids.read_text().split()] == [os.getpid()]
    assert {p.name for p in run_dir.iterdir()} == RUN_FILES


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="fork is used on Linux")
def test_by_default_on_linux_the_workbook_is_written_by_a_child(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Other tests in this worker may have left idle daemon threads (moto, HTTP servers) behind; the
    # auditor itself has none left at this point of a run.
    monkeypatch.setattr(background.threading, "active_count", lambda: 1)
    pids = tmp_path / "pids"
    record_writer_pid(monkeypatch, pids)
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    write_result_files(make_result(), run_dir)
    assert [int(p) for p in pids.read_text().split()] != [os.getpid()]
    assert {p.name for p in run_dir.iterdir()} == RUN_FILES


def test_no_fork_on_macos(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(background.sys, "platform", "darwin")
    assert background.start_method() is None


def test_without_a_fork_the_file_is_written_in_process_at_join(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(background, "start_method", lambda: None)
    writes: list[int] = []
    job = write_in_background(tmp_path / "f", lambda p: writes.append(os.getpid()))
    assert job.forked is False and writes == []  # in the caller's original order: at join
    job.join()
    job.join()
    assert writes == [os.getpid()]  # once


def test_a_fork_that_fails_to_start_is_reported_and_the_file_written_in_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fork: None, warnings_logged: list[str]
) -> None:
    def no_memory(_self: object) -> None:
        raise OSError(12, "Cannot allocate memory")

    monkeypatch.setattr(multiprocessing.process.BaseProcess, "start", no_memory)
    writes: list[int] = []
    job = write_in_background(tmp_path / "audit.xlsx", lambda p: writes.append(os.getpid()))
    assert job.forked is False
    job.join()
    assert writes == [os.getpid()]
    assert len(warnings_logged) == 1 and "audit.xlsx" in warnings_logged[0] and "Cannot allocate" in warnings_logged[0]


def _raise_keyboard_interrupt(_signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def test_parent_interrupted_while_waiting_kills_the_child_and_leaves_no_temp_file(
    tmp_path: Path, fork: None, warnings_logged: list[str]
) -> None:
    path = tmp_path / "audit.xlsx"
    pid_file = tmp_path / "child.pid"

    def slow(p: Path) -> None:
        pid_file.write_text(str(os.getpid()))
        half_written_then(p, lambda: time.sleep(60))

    job = write_in_background(path, slow)
    assert job.forked
    wait_for(lambda: bool(temp_files(path)) and pid_file.exists() and pid_file.read_text() != "")
    child = int(pid_file.read_text())
    previous = signal.signal(signal.SIGALRM, _raise_keyboard_interrupt)
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.2)  # a Ctrl-C while join() waits for the child
        started = time.monotonic()
        with pytest.raises(KeyboardInterrupt):
            job.join()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert time.monotonic() - started < 30  # did not wait for the child's minute
    assert gone(child)
    assert temp_files(path) == [] and not path.exists()
    assert warnings_logged == []  # an interrupt is not a writer failure: nothing written in-process


def test_parent_interrupted_while_writing_the_other_files_kills_the_child(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fork: None
) -> None:
    pid_file = tmp_path / "child.pid"
    run_dir = tmp_path / "run"
    run_dir.mkdir()

    def slow(p: Path) -> None:
        pid_file.write_text(str(os.getpid()))
        half_written_then(p, lambda: time.sleep(60))

    def sigterm_meanwhile(*_args: object) -> None:
        wait_for(lambda: bool(temp_files(run_dir / "audit.xlsx")) and pid_file.exists())
        raise Interrupted("SIGTERM")

    in_child_only(monkeypatch, slow)
    monkeypatch.setattr(writer, "write_exclusions", sigterm_meanwhile)
    with pytest.raises(Interrupted):
        write_result_files(make_result(), run_dir)
    wait_for(lambda: pid_file.read_text() != "")
    assert gone(int(pid_file.read_text()))
    assert not any(p.name.startswith(".") for p in run_dir.iterdir())
    assert not (run_dir / "audit.xlsx").exists()


def test_a_ctrl_c_reaching_the_child_does_not_stop_its_write(
    tmp_path: Path, fork: None, warnings_logged: list[str]
) -> None:
    path = tmp_path / "audit.xlsx"
    pid_file, go_on = tmp_path / "child.pid", tmp_path / "go-on"

    def waits_for_go_on(p: Path) -> None:
        pid_file.write_text(str(os.getpid()))
        half_written_then(p, lambda: wait_for(go_on.exists))

    job = write_in_background(path, waits_for_go_on)
    wait_for(lambda: bool(temp_files(path)) and pid_file.exists() and pid_file.read_text() != "")
    os.kill(int(pid_file.read_text()), signal.SIGINT)  # as a terminal's Ctrl-C does to the process group
    time.sleep(0.1)
    go_on.touch()
    job.join()
    assert warnings_logged == []
    assert path.read_bytes().startswith(b"PK") and temp_files(path) == []
