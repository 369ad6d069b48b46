"""Exit codes cron can rely on: 2 bad config, 3 the run did not complete (never 1, which means findings)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import auditor.commands.run
from auditor.cli import main
from auditor.lock import output_lock


def _config(tmp_path: Path, text: str = "", mode: int = 0o600) -> Path:
    path = tmp_path / "auditor.toml"
    path.write_text(text)
    path.chmod(mode)
    return path


def test_a_bug_exits_3_not_1_and_the_traceback_is_logged(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_: object, **__: object) -> None:
        raise ZeroDivisionError("a bug in the pipeline")

    monkeypatch.setattr(auditor.commands.run, "run_audit", broken)
    out = tmp_path / "out"
    assert main(["run", "--config", str(_config(tmp_path)), "--output-dir", str(out), "--quiet"]) == 3
    log = (out / "auditor.log").read_text()
    assert "internal error" in log and "ZeroDivisionError: a bug in the pipeline" in log


def test_overlapping_run_with_lock_fail_exits_3_naming_the_holder(tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    cfg = _config(tmp_path, '[output]\nlock = "fail"\n')
    out = tmp_path / "out"
    with output_lock(out, wait=False, timeout_seconds=0):
        assert main(["run", "--config", str(cfg), "--output-dir", str(out)]) == 3
    err = capsys.readouterr().err
    assert f"held by PID {os.getpid()}" in err and "another run is writing" in err


def test_world_readable_config_with_a_secret_exits_2_with_the_fix(tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    cfg = _config(tmp_path, '[organization]\naudit_role_external_id = "ext-0123456789"\n', 0o644)
    assert main(["run", "--config", str(cfg), "--output-dir", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert f"chmod 600 {cfg}" in err and "ext-0123456789" not in err
