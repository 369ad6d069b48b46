"""A stop request lands wherever the main thread happens to be: between two phases, while a worker
thread is being started. Wherever it lands, the run folder is written with every account read."""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fault_org import Org, make_config
from test_fault_run import accounts_in, assert_folder_whole

import auditor.fanout
import auditor.pipeline
from auditor.commands.run import execute
from auditor.exit_codes import ExitCode


def sigterm_then(real: Callable[..., Any], times: list[int]) -> Callable[..., Any]:
    """`real`, preceded (on its first call only) by a SIGTERM to this process."""

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not times:
            times.append(1)
            os.kill(os.getpid(), signal.SIGTERM)  # handled in the main thread, here and now
        return real(*args, **kwargs)

    return wrapped


# Places outside any phase's own stop handling: a handler that raised there ended the run with
# nothing written ("interrupted before any account result"), every account read lost.
WINDOWS = {
    "while a worker thread starts": (auditor.fanout._FanOut, "add_worker"),
    "between the collection and the policies": (auditor.pipeline, "_read_policies"),
    "between the policies and the analysis": (auditor.pipeline, "select_scope"),
    "before the analysis": (auditor.pipeline, "_warn_opt_in_unknown"),
}


@pytest.mark.parametrize("window", list(WINDOWS))
def test_a_stop_request_landing_between_phases_still_writes_the_run_folder_with_every_account(
    org: Org, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, window: str
) -> None:
    owner, name = WINDOWS[window]
    monkeypatch.setattr(owner, name, sigterm_then(getattr(owner, name), []))
    code, run_dir = execute(make_config(), tmp_path, session=org.session, quiet=True, env={})
    assert run_dir is not None, "the run folder was not written"
    assert code == ExitCode.INCOMPLETE
    run = assert_folder_whole(run_dir)
    assert run["complete"] is False and "interrupted by SIGTERM" in run["incomplete_reason"]
    assert sorted(accounts_in(run_dir)) == sorted(org.all_accounts)
    assert "before any account result" not in (tmp_path / "auditor.log").read_text()


def test_a_stop_request_after_the_analysis_is_noted_and_the_complete_run_is_written(
    org: Org, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(auditor.pipeline, "RunInfo", sigterm_then(auditor.pipeline.RunInfo, []))
    code, run_dir = execute(make_config(), tmp_path, session=org.session, quiet=True, env={})
    assert run_dir is not None and code in (ExitCode.OK, ExitCode.FAILED)
    assert assert_folder_whole(run_dir)["complete"] is True
    assert "SIGTERM received" in (tmp_path / "auditor.log").read_text()
