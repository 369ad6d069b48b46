"""A run folder stamped in the future (a wrong clock, or planted) is never "the previous run" and
never makes retention drop a real run: only folders older than the current run count."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from auditor.report.history import apply_history, load_previous_run
from auditor.report.retention import apply_retention, list_run_folders
from auditor.report.writer import write_run

from .factory import HOSTILE_ID, OK_ID, finding, make_result, with_findings

FUTURE = "29991231T000000Z"


def _plant_future_run(out: Path) -> Path:
    """A complete-looking run folder from the year 2999 that claims every problem was already open."""
    planted = write_run(with_findings(make_result(), finding(OK_ID, "external_id_mismatch")), out)
    return planted.rename(out / FUTURE)


def test_a_future_dated_folder_is_not_the_previous_run(tmp_path: Path) -> None:
    out = tmp_path / "reports"
    fixed = finding(HOSTILE_ID, "role_missing")
    real = write_run(apply_history(with_findings(make_result(), fixed), out), out)
    _plant_future_run(out)
    assert json.loads((out / FUTURE / "run.json").read_text())["complete"] is True

    current = apply_history(with_findings(make_result(), finding(OK_ID, "external_id_mismatch")), out)
    assert current.run.compared_with == real.name
    changes = {f.check: f.change for f in current.findings}
    assert changes == {"external_id_mismatch": "new", "role_missing": "resolved"}
    previous = load_previous_run(out)
    assert previous is not None and previous.name == real.name


def test_retention_neither_counts_nor_follows_a_future_dated_folder(tmp_path: Path,
                                                                    caplog: pytest.LogCaptureFixture) -> None:
    out = tmp_path / "reports"
    names = ["20250301T020000Z", "20250302T020000Z", "20250303T020000Z", FUTURE]
    for name in names:
        (out / name).mkdir(parents=True)
    current = out / "20250303T020000Z"
    with caplog.at_level(logging.WARNING, logger="auditor"):
        deleted = apply_retention(out, 2, current)
    assert [p.name for p in deleted] == ["20250301T020000Z"]  # two real runs kept: the future one is not one
    assert [p.name for p in list_run_folders(out)] == ["20250302T020000Z", "20250303T020000Z", FUTURE]
    assert (out / "latest").resolve() == current.resolve()
    assert FUTURE in caplog.text and "future" in caplog.text
