"""The log file becoming unwritable during a run (its folder removed or replaced, a full disk) is said
once on stderr, not as a "--- Logging error ---" traceback for every later log line."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pytest

from auditor.config import LoggingConfig
from auditor.logsetup import setup_logging


def test_a_log_file_lost_mid_run_is_reported_once_and_the_console_still_gets_the_warnings(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "reports"
    path = setup_logging(LoggingConfig(), out)
    assert path is not None
    log = logging.getLogger("auditor.accounts")
    try:
        log.warning("before")
        shutil.rmtree(out)
        out.write_text("an operator's file where the folder was")
        for i in range(30):
            log.warning("account %d: still audited", i)
    finally:
        for h in list(logging.getLogger("auditor").handlers):
            h.flush()
    err = capfd.readouterr().err
    assert "Logging error" not in err and "Traceback" not in err
    assert err.count("cannot write the log") == 1 and str(path) in err
    assert "account 29: still audited" in err  # the console handler is untouched
