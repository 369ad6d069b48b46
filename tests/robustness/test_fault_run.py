"""Whole runs under faults: exit codes, and what the run folder holds afterwards."""

from __future__ import annotations

import csv
import json
import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest
from fault_org import Org, make_config
from faults import Request

import auditor.commands.run
from auditor.commands.run import execute
from auditor.exit_codes import ExitCode
from auditor.lock import output_lock

FILES = ("findings.json", "findings.csv", "regions.csv", "exclusions.json", "run.json", "inventory.json", "audit.xlsx")


@pytest.fixture
def release() -> Iterator[threading.Event]:
    """Set at teardown: lets threads a test left stuck in a fault hook finish."""
    event = threading.Event()
    yield event
    event.set()


def run_folders(out: Path) -> list[Path]:
    return [p for p in out.iterdir() if p.is_dir() and not p.is_symlink() and p.name[:1].isdigit()]


def assert_folder_whole(run_dir: Path) -> dict:
    """Every file present, parseable and private; no temporary file left behind."""
    assert sorted(p.name for p in run_dir.iterdir() if p.name.startswith(".")) == []
    for name in FILES:
        assert (run_dir / name).stat().st_mode & 0o777 == 0o600, name
    for name in ("findings.json", "exclusions.json", "inventory.json"):
        json.loads((run_dir / name).read_text())
    for name in ("findings.csv", "regions.csv"):
        list(csv.DictReader((run_dir / name).open()))
    openpyxl.load_workbook(run_dir / "audit.xlsx", read_only=True).close()
    return json.loads((run_dir / "run.json").read_text())


def accounts_in(run_dir: Path) -> list[str]:
    inv = json.loads((run_dir / "inventory.json").read_text())
    return [s["account_id"] for s in inv["snapshots"]] + [s["account_id"] for s in inv["skipped"]]


def snapshot_errors(run_dir: Path) -> dict[str, dict]:
    inv = json.loads((run_dir / "inventory.json").read_text())
    return {s["account_id"]: s["error"] for s in inv["snapshots"] if s["error"]}


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_mid_run_keeps_what_finished_and_marks_the_folder_incomplete(
    org: Org, tmp_path: Path, release: threading.Event, signum: signal.Signals
) -> None:
    reads: list[str] = []

    def get_role(r: Request) -> None:
        if r.attempt == 1:
            reads.append(r.account)
        if len(reads) == 3 and reads[-1] == r.account and r.attempt == 1:
            os.kill(os.getpid(), signum)  # delivered to the main thread, like `kill` from cron or Ctrl-C
            release.wait(10)
        return None

    org.faults.add("iam.GetRole", get_role)
    cfg = make_config(run={"workers": 1})
    previous = signal.getsignal(signum)
    code, run_dir = execute(cfg, tmp_path, session=org.session, quiet=True, env={})
    assert signal.getsignal(signum) is previous  # handler restored
    assert code == ExitCode.INCOMPLETE and run_dir is not None
    run = assert_folder_whole(run_dir)
    assert run["complete"] is False and run["incomplete_reason"] == f"interrupted by {signum.name}"
    assert run["exit_code"] == ExitCode.INCOMPLETE
    assert sorted(accounts_in(run_dir)) == sorted(org.all_accounts)
    errors = snapshot_errors(run_dir)
    assert set(errors) == org.all_accounts - set(reads[:2])  # the two finished ones are kept
    assert {e["stage"] for e in errors.values()} == {"interrupted"}
    assert any(e["message"].startswith("still being read") for e in errors.values())
    assert f"interrupted by {signum.name}" in (tmp_path / "auditor.log").read_text()


def test_run_deadline_turns_pending_accounts_into_errors_and_exits_3(
    org: Org, tmp_path: Path, release: threading.Event
) -> None:
    first: list[str] = []

    def get_role(r: Request) -> None:
        if not first:
            first.append(r.account)
        if r.account != first[0]:
            release.wait(10)  # every account but the first is slower than the run
        return None

    org.faults.add("iam.GetRole", get_role)
    cfg = make_config(run={"workers": 2, "run_timeout_seconds": 1.5})
    started = time.monotonic()
    code, run_dir = execute(cfg, tmp_path, session=org.session, quiet=True, env={})
    assert time.monotonic() - started < 8
    assert code == ExitCode.INCOMPLETE and run_dir is not None
    run = assert_folder_whole(run_dir)
    assert run["complete"] is False and "[run] run_timeout_seconds" in run["incomplete_reason"]
    assert sorted(accounts_in(run_dir)) == sorted(org.all_accounts)
    errors = snapshot_errors(run_dir)
    assert set(errors) == org.all_accounts - set(first)
    assert {(e["stage"], e["code"]) for e in errors.values()} == {("timeout", "RunDeadline")}


def test_account_deadline_gives_up_on_a_stuck_account_keeps_the_pool_going_and_discards_its_late_result(
    org: Org, tmp_path: Path
) -> None:
    stuck: list[str] = []

    def get_role(r: Request) -> None:
        if not stuck:
            stuck.append(r.account)
        time.sleep(1.6 if r.account == stuck[0] else 0.35)
        return None

    org.faults.add("iam.GetRole", get_role)
    cfg = make_config(run={"workers": 1, "account_timeout_seconds": 0.8})
    code, run_dir = execute(cfg, tmp_path, session=org.session, quiet=True, env={})
    assert run_dir is not None and code != ExitCode.INCOMPLETE
    run = assert_folder_whole(run_dir)
    assert run["complete"] is True
    errors = snapshot_errors(run_dir)
    assert list(errors) == stuck and errors[stuck[0]]["stage"] == "timeout"
    assert errors[stuck[0]]["code"] == "AccountTimeout"
    assert sorted(accounts_in(run_dir)) == sorted(org.all_accounts)
    assert f"account {stuck[0]}: late result discarded" in (tmp_path / "auditor.log").read_text()


def test_organizations_failing_mid_pagination_exits_3_and_writes_no_run_folder(org: Org, tmp_path: Path) -> None:
    calls: list[int] = []

    def walk(r: Request) -> None:
        calls.append(r.attempt)
        if calls.count(1) >= 3:  # the third page of the OU walk, and all its retries
            return r.error("ServiceException", "AWS Organizations can't complete your request", 500)
        return None

    org.faults.add("organizations.ListAccountsForParent", walk)
    org.faults.add("organizations.ListOrganizationalUnitsForParent", walk)
    code, run_dir = execute(make_config(), tmp_path, session=org.session, quiet=True, env={})
    assert (code, run_dir) == (ExitCode.INCOMPLETE, None)
    assert run_folders(tmp_path) == []
    log = (tmp_path / "auditor.log").read_text()
    assert "cannot read the organization" in log and "ServiceException" in log and "nothing was written" in log


@pytest.mark.parametrize("mode", ["fail", "wait"])
def test_overlapping_run_on_the_same_output_folder_exits_3_without_writing(
    org: Org, tmp_path: Path, mode: str
) -> None:
    cfg = make_config(output={"lock": mode, "lock_timeout_seconds": 0.3})
    with output_lock(tmp_path, wait=False, timeout_seconds=0):  # the other run
        code, run_dir = execute(cfg, tmp_path, session=org.session, quiet=True, env={})
    assert (code, run_dir) == (ExitCode.INCOMPLETE, None)
    assert run_folders(tmp_path) == []
    assert f"held by PID {os.getpid()}" in (tmp_path / "auditor.log").read_text()
    assert sum(org.faults.sent.values()) == 0  # not a single AWS call


def test_signal_while_writing_finishes_the_folder_first(org: Org, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    real_write = auditor.commands.run.write_run

    def write_after_sigterm(*args: object, **kwargs: object) -> Path:
        os.kill(os.getpid(), signal.SIGTERM)
        return real_write(*args, **kwargs)

    monkeypatch.setattr(auditor.commands.run, "write_run", write_after_sigterm)
    code, run_dir = execute(make_config(), tmp_path, session=org.session, quiet=True, env={})
    assert run_dir is not None and code in (0, 1)
    run = assert_folder_whole(run_dir)
    assert run["complete"] is True
    log = (tmp_path / "auditor.log").read_text()
    assert "SIGTERM received and not acted on: the run folder was finished first" in log


def test_signal_while_the_policies_are_still_listed_keeps_every_account_read_and_judges_no_region(
    org: Org, tmp_path: Path, release: threading.Event
) -> None:
    # The policies' target listings are the longest chains (throttled, they go on long after the
    # last account is read): a stop request landing then must not lose the accounts.
    signalled: list[bool] = []
    lock = threading.Lock()

    def held_listing(r: Request) -> None:
        with lock:  # every policy's listing comes here; one of them sends the signal
            if signalled:
                return None
            signalled.append(True)
        deadline = time.monotonic() + 20
        while org.faults.sent["iam.GetRole"] < len(org.all_accounts) and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.5)  # the last account's other reads, then the main thread waits for the policies
        os.kill(os.getpid(), signal.SIGTERM)
        release.wait(3)
        return None

    org.faults.add("organizations.ListTargetsForPolicy", held_listing)
    code, run_dir = execute(make_config(), tmp_path, session=org.session, quiet=True, env={})
    assert code == ExitCode.INCOMPLETE and run_dir is not None
    run = assert_folder_whole(run_dir)
    assert run["complete"] is False
    assert "SIGTERM" in run["incomplete_reason"] and "policies" in run["incomplete_reason"]
    assert sorted(accounts_in(run_dir)) == sorted(org.all_accounts)
    assert snapshot_errors(run_dir) == {}  # every account's reads are kept
    rows = list(csv.DictReader((run_dir / "regions.csv").open()))
    assert rows and {r["verdict"] for r in rows} == {"not_applicable"}
    assert all("policies" in r["reason"] for r in rows)
    assert json.loads((run_dir / "exclusions.json").read_text()) == []  # nothing judged, nothing to apply
    findings = json.loads((run_dir / "findings.json").read_text())
    assert {f["check"] for f in findings} & {"role_present", "external_id_not_compared"}  # role checks ran
    assert not {f["check"] for f in findings} & {"scp_region_denied", "rcp_assume_role_denied", "org_policies_allow"}


@pytest.mark.parametrize("code", ["AccessDeniedException", "ServiceException"])
def test_aws_error_while_the_policies_are_listed_keeps_every_account_read_and_judges_no_region(
    org: Org, tmp_path: Path, code: str
) -> None:
    # Like a stop request at the same point (above): the accounts already read are not thrown away.
    def failing_listing(r: Request) -> object:
        deadline = time.monotonic() + 20
        while org.faults.sent["iam.GetRole"] < len(org.all_accounts) and time.monotonic() < deadline:
            time.sleep(0.02)
        return r.error(code, "injected fault", 500 if code == "ServiceException" else 400)

    org.faults.add("organizations.ListTargetsForPolicy", failing_listing)
    exit_code, run_dir = execute(make_config(), tmp_path, session=org.session, quiet=True, env={})
    assert exit_code == ExitCode.INCOMPLETE and run_dir is not None
    run = assert_folder_whole(run_dir)
    assert run["complete"] is False
    assert code in run["incomplete_reason"] and "ListTargetsForPolicy" in run["incomplete_reason"]
    assert sorted(accounts_in(run_dir)) == sorted(org.all_accounts)
    assert snapshot_errors(run_dir) == {}
    rows = list(csv.DictReader((run_dir / "regions.csv").open()))
    assert rows and {r["verdict"] for r in rows} == {"not_applicable"}
    assert all("ListTargetsForPolicy" in r["reason"] for r in rows)
    assert json.loads((run_dir / "exclusions.json").read_text()) == []
    findings = json.loads((run_dir / "findings.json").read_text())
    assert {f["check"] for f in findings} & {"role_present", "external_id_not_compared"}
    assert "no account was audited" not in (tmp_path / "auditor.log").read_text()


def test_signal_during_the_analysis_writes_the_folder_incomplete_with_every_account_read(
    org: Org, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import auditor.analysis

    real = auditor.analysis.role_findings
    checked: list[str] = []

    def checks_then_sigterm(acct: object, snap: object, **kw: object) -> object:
        checked.append(acct.id)  # type: ignore[attr-defined]
        if len(checked) == 2:
            os.kill(os.getpid(), signal.SIGTERM)  # lands in the main thread, inside the analysis
        return real(acct, snap, **kw)

    monkeypatch.setattr(auditor.analysis, "role_findings", checks_then_sigterm)
    code, run_dir = execute(make_config(), tmp_path, session=org.session, quiet=True, env={})
    assert code == ExitCode.INCOMPLETE and run_dir is not None
    run = assert_folder_whole(run_dir)
    assert run["complete"] is False
    assert "SIGTERM" in run["incomplete_reason"] and "analysis" in run["incomplete_reason"]
    assert sorted(accounts_in(run_dir)) == sorted(org.all_accounts)
    assert snapshot_errors(run_dir) == {}  # every account's reads are kept
    findings = json.loads((run_dir / "findings.json").read_text())
    analysed = {f["account_id"] for f in findings if f["check"] == "external_id_not_compared"}
    not_analysed = {f["account_id"] for f in findings if f["check"] == "analysis_error"}
    assert analysed and not_analysed and analysed | not_analysed == org.all_accounts
    rows = list(csv.DictReader((run_dir / "regions.csv").open()))
    assert {r["account_id"] for r in rows} >= org.all_accounts - {org.management}
    assert {r["verdict"] for r in rows} == {"not_applicable"}
    assert "interrupted by SIGTERM before any account result" not in (tmp_path / "auditor.log").read_text()


def test_run_deadline_while_the_policies_are_still_listed_keeps_every_account_read_and_judges_no_region(
    org: Org, tmp_path: Path, release: threading.Event
) -> None:
    # The deadline is honoured in this phase too: the run does not wait for the listing to end.
    def held_listing(r: Request) -> None:
        release.wait(60)
        return None

    org.faults.add("organizations.ListTargetsForPolicy", held_listing)
    # 10 s: every account is read well before it even on a loaded machine (about 1 s when idle).
    cfg = make_config(run={"run_timeout_seconds": 10})
    started = time.monotonic()
    code, run_dir = execute(cfg, tmp_path, session=org.session, quiet=True, env={})
    assert time.monotonic() - started < 40  # not the listing's 60 s
    assert code == ExitCode.INCOMPLETE and run_dir is not None
    run = assert_folder_whole(run_dir)
    assert "[run] run_timeout_seconds" in run["incomplete_reason"] and "policies" in run["incomplete_reason"]
    assert sorted(accounts_in(run_dir)) == sorted(org.all_accounts)
    assert snapshot_errors(run_dir) == {}  # every account was read within the 10 s
    rows = list(csv.DictReader((run_dir / "regions.csv").open()))
    assert rows and {r["verdict"] for r in rows} == {"not_applicable"}
    assert json.loads((run_dir / "exclusions.json").read_text()) == []


def test_a_second_stop_request_cuts_the_wait_for_the_policies_listing(
    org: Org, tmp_path: Path, release: threading.Event
) -> None:
    # The first SIGTERM stops the collection; the run then waits for the policies' listing (held
    # here for 40 s). A second SIGTERM, as from an operator pressing Ctrl-C again, ends that wait.
    reads: list[str] = []

    def get_role(r: Request) -> None:
        if r.attempt == 1:
            reads.append(r.account)
            if len(reads) == 2:
                os.kill(os.getpid(), signal.SIGTERM)
                threading.Timer(1.0, os.kill, (os.getpid(), signal.SIGTERM)).start()
        return None

    def held_listing(r: Request) -> None:
        release.wait(40)
        return None

    org.faults.add("iam.GetRole", get_role)
    org.faults.add("organizations.ListTargetsForPolicy", held_listing)
    started = time.monotonic()
    code, run_dir = execute(make_config(run={"workers": 1}), tmp_path, session=org.session, quiet=True, env={})
    assert time.monotonic() - started < 25  # not the listing's 40 s
    assert code == ExitCode.INCOMPLETE and run_dir is not None
    run = assert_folder_whole(run_dir)
    assert run["incomplete_reason"].startswith("interrupted by SIGTERM; ")
    assert "policies" in run["incomplete_reason"]
    assert sorted(accounts_in(run_dir)) == sorted(org.all_accounts)
    rows = list(csv.DictReader((run_dir / "regions.csv").open()))
    assert rows and {r["verdict"] for r in rows} == {"not_applicable"}
