from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest

from auditor.checks.catalogue import CheckId
from auditor.model import Severity, Status
from auditor.report.history import (
    apply_history,
    compare_findings,
    current_findings,
    load_previous_run,
    unverified_accounts,
)
from auditor.report.load import RunLoadError, load_findings, read_json
from auditor.report.workbook import write_workbook
from auditor.report.writer import write_run

from .factory import ERROR_ID, HOSTILE_ID, MGMT_ID, OK_ID, finding, make_result, with_findings
from .helpers import open_book, records, summary_value

FIXED = finding(HOSTILE_ID, "role_missing")
STILL = finding(OK_ID, "org_region_denied", severity=Severity.MEDIUM, region="ap-southeast-1")
PASSING = finding(OK_ID, "role_present", Status.PASS, Severity.INFO)


def _changes(findings) -> dict[str, str]:
    return {f.key: f.change for f in findings}


def test_a_fix_between_two_runs_shows_as_resolved_everywhere(tmp_path: Path) -> None:
    out = tmp_path / "reports"
    first = with_findings(make_result(), FIXED, STILL, PASSING)
    write_run(apply_history(first, out), out)
    new_problem = finding(OK_ID, "external_id_mismatch")
    second = with_findings(make_result(started_at="2025-03-02T02:00:00Z"), STILL, PASSING, new_problem)
    compared = apply_history(second, out)
    run_dir = write_run(compared, out)

    assert compared.run.compared_with != ""
    assert _changes(compared.findings) == {
        STILL.key: "open",
        PASSING.key: "",
        new_problem.key: "new",
        FIXED.key: "resolved",
    }
    resolved = next(f for f in compared.findings if f.change == "resolved")
    assert resolved.status is Status.FAIL and resolved.severity is Severity.HIGH  # as it was before
    assert _changes(load_findings(run_dir / "findings.json"))[FIXED.key] == "resolved"
    csv = pd.read_csv(run_dir / "findings.csv", dtype=str, keep_default_na=False)
    assert csv.loc[csv["check"] == "role_missing", "change"].tolist() == ["resolved"]
    wb = open_book(run_dir / "audit.xlsx")
    rows = records(wb["Findings"])
    assert [(r["check"], r["change"]) for r in rows if r["change"] == "resolved"] == [
        ("role_missing", "resolved")
    ]
    summary = wb["Summary"]
    assert (
        summary_value(summary, "New"),
        summary_value(summary, "Resolved"),
        summary_value(summary, "Still open"),
    ) == (1, 1, 1)
    assert summary_value(summary, "Compared with run") == compared.run.compared_with


def test_resolved_findings_do_not_count_as_current_problems(tmp_path: Path) -> None:
    findings = compare_findings([PASSING], [FIXED])
    assert [f.change for f in findings] == ["", "resolved"]
    assert current_findings(findings) == [findings[0]]
    wb = open_book(write_workbook(tmp_path / "a.xlsx", with_findings(make_result(), *findings)))
    hostile = {r["account_id"]: r for r in records(wb["Accounts"])}[HOSTILE_ID]
    assert hostile["overall"] == "ok" and hostile["failing_findings"] == 0


def test_first_run_is_not_compared(tmp_path: Path) -> None:
    result = with_findings(make_result(), FIXED, PASSING)
    assert apply_history(result, tmp_path / "empty") is result
    assert {f.change for f in result.findings} == {""}


def test_error_findings_take_part_and_a_resolved_finding_is_not_resolved_again() -> None:
    err = finding(ERROR_ID, "audit_role_unassumable", Status.ERROR)
    assert _changes(compare_findings([err], [replace(err, status=Status.FAIL)])) == {err.key: "open"}
    assert _changes(compare_findings([], [replace(FIXED, change="resolved")])) == {}


def test_problems_of_accounts_not_audited_this_run_are_not_called_resolved() -> None:
    result = make_result()  # ERROR_ID errored this run; the hostile and OK accounts were audited
    was = finding(ERROR_ID, "role_missing")
    findings = compare_findings([], [was, FIXED], unverified={ERROR_ID})
    assert _changes(findings) == {FIXED.key: "resolved"}
    assert ERROR_ID in unverified_accounts(result) and OK_ID not in unverified_accounts(result)


def test_datadog_side_problems_are_not_resolved_when_the_datadog_api_failed(tmp_path: Path) -> None:
    out = tmp_path / "reports"
    unmonitored = finding(OK_ID, CheckId.DATADOG_ACCOUNT_MISSING, severity=Severity.INFO)
    write_run(with_findings(make_result(), unmonitored, FIXED), out)
    api_down = finding(MGMT_ID, CheckId.DATADOG_API_ERROR, Status.ERROR)
    compared = apply_history(with_findings(make_result(), api_down), out)
    assert _changes(compared.findings) == {api_down.key: "new", FIXED.key: "resolved"}


def _fake_run(out: Path, name: str, findings, *, complete: object = True, run_json: bool = True) -> Path:
    d = out / name
    d.mkdir(parents=True)
    (d / "findings.json").write_text(
        json.dumps([{**f.__dict__, "severity": f.severity.value, "status": f.status.value} for f in findings])
    )
    if run_json:
        (d / "run.json").write_text(json.dumps({"complete": complete}))
    return d


def test_previous_run_is_the_newest_complete_run_folder(tmp_path: Path) -> None:
    _fake_run(tmp_path, "20250301T020000Z", [FIXED])
    _fake_run(tmp_path, "20250302T020000Z", [STILL])
    _fake_run(tmp_path, "20250302T020000Z-2", [PASSING])  # same second, later run
    _fake_run(tmp_path, "20250303T020000Z", [STILL], run_json=False)  # still being written / crashed
    _fake_run(tmp_path, "20250304T020000Z", [STILL], complete=False)  # audit did not complete
    _fake_run(tmp_path, "zz-not-a-run", [STILL])
    (tmp_path / "20250305T020000Z-1").mkdir()
    (tmp_path / "20250305T020000Z-1" / "run.json").write_text("{truncated")
    previous = load_previous_run(tmp_path)
    assert previous is not None and previous.name == "20250302T020000Z-2"
    assert previous.findings == (PASSING,)


def test_unreadable_findings_fall_back_to_the_run_before(tmp_path: Path) -> None:
    _fake_run(tmp_path, "20250301T020000Z", [FIXED])
    broken = _fake_run(tmp_path, "20250302T020000Z", [STILL])
    (broken / "findings.json").write_text('[{"account_id": 1}]')
    previous = load_previous_run(tmp_path)
    assert previous is not None and previous.name == "20250301T020000Z"


@pytest.mark.parametrize("name", ["findings.json", "run.json"])
def test_a_previous_run_file_nested_too_deep_to_parse_is_skipped_not_a_crash(tmp_path: Path, name: str) -> None:
    """A hand-edited or corrupted file of 100,000 nested brackets made json raise RecursionError (not a
    ValueError): the new run ended with exit 3 and wrote nothing."""
    _fake_run(tmp_path, "20250301T020000Z", [FIXED])
    broken = _fake_run(tmp_path, "20250302T020000Z", [STILL])
    (broken / name).write_text("[" * 100_000 + "]" * 100_000)
    previous = load_previous_run(tmp_path)
    assert previous is not None and previous.name == "20250301T020000Z"
    with pytest.raises(RunLoadError, match=f"{name}: not valid JSON"):
        read_json(broken / name)


def test_an_output_folder_that_cannot_be_listed_has_no_previous_run_instead_of_an_error(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The output folder replaced by a file (or unreadable) while the audit ran: listing it raised
    NotADirectoryError out of the run as an internal error; now the run goes on to report what it
    cannot write, like any other write failure."""
    out = tmp_path / "reports"
    out.write_text("not a folder")
    assert load_previous_run(out) is None
    assert "history:" in caplog.text and str(out) in caplog.text
