"""A symlink planted in the output folder is never followed: the file it points at stays untouched
(content and mode), and the run refuses with one clear message naming the path (exit 2)."""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

import pytest

import auditor.commands.run
from auditor.cli import main
from auditor.config import LoggingConfig
from auditor.lock import LOCK_NAME, output_lock
from auditor.logsetup import setup_logging
from auditor.safefs import UnsafePath, output_folder_warning

PRECIOUS = "precious: must not be truncated, appended to or chmod-ed\n"


@pytest.fixture
def victim(tmp_path: Path) -> Path:
    path = tmp_path / "elsewhere" / "victim.txt"
    path.parent.mkdir()
    path.write_text(PRECIOUS)
    path.chmod(0o644)
    return path


def _untouched(victim: Path) -> None:
    assert victim.read_text() == PRECIOUS
    assert stat.S_IMODE(victim.stat().st_mode) == 0o644


@pytest.fixture
def no_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    def unreachable(*_: object, **__: object) -> None:
        raise AssertionError("the run went on to AWS with a planted symlink")

    monkeypatch.setattr(auditor.commands.run, "run_audit", unreachable)


def _run(tmp_path: Path, out: Path) -> int:
    cfg = tmp_path / "auditor.toml"
    cfg.write_text("")
    cfg.chmod(0o600)
    return main(["run", "--config", str(cfg), "--output-dir", str(out)])


@pytest.mark.parametrize("planted", [LOCK_NAME, "auditor.log", ".__auditor.lock"])
def test_a_run_refuses_a_planted_symlink_and_leaves_its_target_alone(
    planted: str, tmp_path: Path, victim: Path, no_aws: None, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    out.mkdir(mode=0o700)
    (out / planted).symlink_to(victim)
    assert _run(tmp_path, out) == 2
    err = capsys.readouterr().err
    assert str(out / planted) in err and "symbolic link" in err
    assert len([ln for ln in err.splitlines() if ln.strip()]) <= 2, err  # one clear message, no traceback
    _untouched(victim)


def test_the_lock_refuses_a_symlink(tmp_path: Path, victim: Path) -> None:
    (tmp_path / LOCK_NAME).symlink_to(victim)
    with pytest.raises(UnsafePath, match="symbolic link"), output_lock(tmp_path, wait=False, timeout_seconds=0):
        pytest.fail("locked through a symlink")
    _untouched(victim)


def test_a_log_swapped_for_a_symlink_during_the_run_is_not_followed(tmp_path: Path, victim: Path) -> None:
    path = setup_logging(LoggingConfig(), tmp_path)
    assert path is not None
    log = logging.getLogger("auditor")
    try:
        log.warning("first line")
        for h in log.handlers:
            h.flush()
        path.unlink()
        path.symlink_to(victim)
        logging.raiseExceptions = False  # the handler's refusal is reported by logging, not raised here
        log.warning("second line")
    finally:
        logging.raiseExceptions = True
        for h in list(log.handlers):
            log.removeHandler(h)
            h.close()
    _untouched(victim)


@pytest.mark.parametrize(("mode", "warned"), [(0o700, False), (0o750, False), (0o770, True), (0o777, True),
                                              (0o1777, True), (0o702, True)])
def test_an_output_folder_writable_by_others_is_named_in_one_warning(tmp_path: Path, mode: int,
                                                                     warned: bool) -> None:
    out = tmp_path / "out"
    out.mkdir()
    out.chmod(mode)
    message = output_folder_warning(out)
    if warned:
        assert message is not None and str(out) in message and f"{mode:o}" in message and "\n" not in message
    else:
        assert message is None


def test_the_run_warns_about_a_shared_output_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(auditor.commands.run, "run_audit", lambda *a, **k: (_ for _ in ()).throw(KeyboardInterrupt))
    out = tmp_path / "out"
    out.mkdir()
    os.chmod(out, 0o777)
    _run(tmp_path, out)
    err = capsys.readouterr().err
    assert f"{out}" in err and "777" in err and "writable" in err


@pytest.mark.parametrize("planted", ["LATEST", "latest", ".latest.%d.tmp"])
def test_the_latest_pointers_replace_a_planted_symlink_without_following_it(planted: str, tmp_path: Path,
                                                                            victim: Path) -> None:
    from auditor.report.retention import update_latest

    out = tmp_path / "out"
    run = out / "20250101T000000Z"
    run.mkdir(parents=True)
    (out / (planted % os.getpid() if "%d" in planted else planted)).symlink_to(victim)
    update_latest(out, run)
    _untouched(victim)
    assert (out / "LATEST").read_text() == run.name + "\n" and not (out / "LATEST").is_symlink()
