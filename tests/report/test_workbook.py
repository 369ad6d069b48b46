from __future__ import annotations

import csv
import os
import stat
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest

from auditor.model import AccountSnapshot, Exclusion, Severity, Status
from auditor.report.columns import (
    ACCOUNT_COLUMNS,
    ERROR_COLUMNS,
    EXCLUSION_COLUMNS,
    FINDING_COLUMNS,
    POLICY_COLUMNS,
)
from auditor.report.palette import SEVERITY_COLOURS, VERDICT_COLOURS
from auditor.report.workbook import write_workbook
from auditor.report.writer import write_run
from auditor.report.xlsx import HEADER_ROW, MAX_CELL_TEXT, WRAP_WIDTH

from .factory import (
    ERROR_ID,
    EXTERNAL_ID,
    HOSTILE_ID,
    OK_ID,
    REGIONS,
    SKIPPED_ID,
    finding,
    make_result,
    role,
    trust_policy,
)
from .helpers import all_cells, header, open_book, records, summary_value

TABLE_SHEETS = ["Accounts", "Findings", "Regions", "Exclusions", "Policies", "Errors"]


@pytest.fixture
def book(tmp_path: Path):
    return open_book(write_workbook(tmp_path / "audit.xlsx", make_result()))


def test_workbook_has_summary_first_then_every_table_sheet(book) -> None:
    assert book.sheetnames == ["Summary", *TABLE_SHEETS]
    assert book.active.title == "Summary"


def test_table_sheets_have_the_public_headers(book) -> None:
    assert header(book["Findings"]) == FINDING_COLUMNS
    assert header(book["Accounts"]) == ACCOUNT_COLUMNS
    assert header(book["Exclusions"]) == EXCLUSION_COLUMNS
    assert header(book["Policies"]) == POLICY_COLUMNS
    assert header(book["Errors"]) == ERROR_COLUMNS
    regions = header(book["Regions"])
    assert regions[:4] == ["account_id", "account_name", "ou_path", "denied_count"]
    assert regions[4:7] == list(REGIONS)  # audited order first; extra regions after
    assert regions[7:] == ["eu-central-1"]


@pytest.mark.parametrize("sheet", TABLE_SHEETS)
def test_every_table_has_frozen_header_and_autofilter_over_all_rows(book, sheet: str) -> None:
    ws = book[sheet]
    assert ws.freeze_panes == f"C{HEADER_ROW + 1}"
    last_col = ws.cell(row=HEADER_ROW, column=len(header(ws))).column_letter
    assert ws.auto_filter.ref == f"A{HEADER_ROW}:{last_col}{HEADER_ROW + len(records(ws))}"


@pytest.mark.parametrize("sheet", ["Accounts", "Findings", "Regions", "Exclusions", "Errors"])
def test_account_ids_are_text_with_leading_zeros(book, sheet: str) -> None:
    ws = book[sheet]
    col = header(ws).index("account_id") + 1
    cells = [ws.cell(row=r, column=col) for r in range(HEADER_ROW + 1, ws.max_row + 1)]
    ids = [c.value for c in cells if c.value is not None]
    assert ids and all(isinstance(v, str) and len(v) == 12 for v in ids)
    assert all(c.data_type == "s" and c.number_format == "@" for c in cells if c.value is not None)
    if sheet != "Errors":
        assert OK_ID in ids  # "012345678901" kept its leading zero


def test_run_times_are_real_datetimes(book) -> None:
    ws = book["Summary"]
    assert summary_value(ws, "Run started (UTC)") == datetime(2025, 3, 1, 2, 0, 0)
    assert summary_value(ws, "Run finished (UTC)") == datetime(2025, 3, 1, 2, 7, 30)


def test_summary_counts_accounts_and_findings(book) -> None:
    ws = book["Summary"]
    assert summary_value(ws, "In the organization") == 4
    assert summary_value(ws, "Audited") == 2
    assert summary_value(ws, "Could not be audited (see Errors)") == 1
    assert summary_value(ws, "Skipped (out of scope, not active)") == 1
    assert summary_value(ws, "Account × region cells denied") == 1
    assert summary_value(ws, "Organization") == "o-abc123def4"
    assert summary_value(ws, "Scope") == "3 of 4 accounts in scope, 3 regions audited"
    assert summary_value(ws, "Compared with run").startswith("not compared")


def test_summary_has_a_bar_chart_of_failing_findings(book) -> None:
    charts = book["Summary"]._charts
    assert len(charts) == 1 and charts[0].tagname == "barChart"
    assert [s.tx.strRef.f.split("!")[1] for s in charts[0].series]  # series titled from the table


def test_summary_without_failing_findings_has_no_chart(tmp_path: Path) -> None:
    result = make_result(findings=(finding(OK_ID, "role_present", Status.PASS, Severity.INFO),))
    wb = open_book(write_workbook(tmp_path / "a.xlsx", result))
    assert wb["Summary"]._charts == []


def test_accounts_sheet_has_one_row_per_account_with_status(book) -> None:
    rows = {r["account_id"]: r for r in records(book["Accounts"])}
    assert set(rows) == {OK_ID, HOSTILE_ID, ERROR_ID, SKIPPED_ID}
    assert rows[OK_ID]["overall"] == "medium" and rows[OK_ID]["audit_status"] == "audited"
    assert rows[OK_ID]["role"].endswith(":role/DatadogIntegrationRole")
    assert rows[OK_ID]["trust_principals"] == "arn:aws:iam::464622532012:root"
    assert rows[OK_ID]["regions_denied_count"] == 1 and rows[OK_ID]["regions_denied"] == "ap-southeast-1"
    assert rows[HOSTILE_ID]["role"] == "missing" and rows[HOSTILE_ID]["overall"] == "high"
    assert rows[ERROR_ID]["audit_status"] == "error"
    assert rows[ERROR_ID]["error"].startswith("assume_role: AccessDenied")
    assert rows[SKIPPED_ID]["audit_status"] == "skipped"
    assert rows[SKIPPED_ID]["audit_note"] == "account is suspended"


def test_external_ids_are_masked_unless_configured(tmp_path: Path) -> None:
    masked = open_book(write_workbook(tmp_path / "m.xlsx", make_result()))
    state = {r["account_id"]: r["external_id"] for r in records(masked["Accounts"])}[OK_ID]
    assert state == "****" + EXTERNAL_ID[-4:]
    assert not any(isinstance(c.value, str) and EXTERNAL_ID in c.value for c in all_cells(masked))
    shown = open_book(write_workbook(tmp_path / "s.xlsx", make_result(), show_external_ids=True))
    assert {r["account_id"]: r["external_id"] for r in records(shown["Accounts"])}[OK_ID] == EXTERNAL_ID


def test_external_id_state_says_missing_and_names_failing_checks(tmp_path: Path) -> None:
    base = make_result()
    snaps = (AccountSnapshot(OK_ID, role(trust_policy(external_id=None))), *base.snapshots[1:])
    result = replace(base, snapshots=snaps, findings=(*base.findings, finding(OK_ID, "trust_external_id_missing")))
    wb = open_book(write_workbook(tmp_path / "a.xlsx", result))
    state = {r["account_id"]: r["external_id"] for r in records(wb["Accounts"])}[OK_ID]
    assert state == "missing (no sts:ExternalId condition); failing: trust_external_id_missing"


def test_findings_sheet_lists_every_finding_worst_first(book) -> None:
    rows = records(book["Findings"])
    assert len(rows) == 4
    assert [r["status"] for r in rows] == ["error", "fail", "fail", "pass"]
    assert [r["severity"] for r in rows[1:3]] == ["high", "medium"]


def test_regions_matrix_holds_a_verdict_per_account_and_region(book) -> None:
    rows = {r["account_id"]: r for r in records(book["Regions"])}
    assert rows[OK_ID]["ap-southeast-1"] == "denied" and rows[OK_ID]["us-east-1"] == "allowed"
    assert rows[OK_ID]["denied_count"] == 1
    assert rows[HOSTILE_ID]["eu-central-1"] == "indeterminate"


def _rules(ws) -> dict[str, list[tuple[str, str]]]:
    """range -> [(compared value, fill colour)] of the sheet's conditional formatting."""
    out: dict[str, list[tuple[str, str]]] = {}
    for cf in ws.conditional_formatting:
        out[str(cf.sqref)] = [(r.formula[0].strip('"'), r.dxf.fill.fgColor.rgb[-6:]) for r in cf.rules]
    return out


def test_regions_matrix_is_coloured_by_verdict_with_a_legend(book) -> None:
    ws = book["Regions"]
    rules = _rules(ws)
    assert rules["E4:H5"] == [(v, c) for v, c in VERDICT_COLOURS.items()]
    legend = {c.value: c.fill.fgColor.rgb[-6:] for c in ws[2] if c.value and c.value != "Colours:"}
    assert legend == VERDICT_COLOURS


def test_findings_severity_is_coloured_with_a_legend(book) -> None:
    ws = book["Findings"]
    sev_col = ws.cell(row=HEADER_ROW, column=FINDING_COLUMNS.index("severity") + 1).column_letter
    assert _rules(ws)[f"{sev_col}4:{sev_col}7"] == list(SEVERITY_COLOURS.items())
    legend = {c.value: c.fill.fgColor.rgb[-6:] for c in ws[2] if c.value in SEVERITY_COLOURS}
    assert legend == SEVERITY_COLOURS


def test_columns_have_capped_widths_and_long_text_wraps(tmp_path: Path) -> None:
    long = "x" * 500
    result = make_result(findings=(finding(OK_ID, "role_missing", detail=long, evidence=long),))
    wb = open_book(write_workbook(tmp_path / "a.xlsx", result))
    ws = wb["Findings"]
    widths = [d.width for d in ws.column_dimensions.values() if d.width]
    assert widths and max(widths) <= WRAP_WIDTH
    detail = ws.cell(row=HEADER_ROW + 1, column=FINDING_COLUMNS.index("detail") + 1)
    assert detail.value == long and detail.alignment.wrap_text


def test_text_longer_than_a_cell_holds_is_cut_and_control_characters_replaced(tmp_path: Path) -> None:
    result = make_result(
        findings=(finding(OK_ID, "role_missing", detail="y" * 40_000, evidence="bad\x01\x1bchars"),)
    )
    wb = open_book(write_workbook(tmp_path / "a.xlsx", result))
    row = records(wb["Findings"])[0]
    assert len(row["detail"]) < 32_767 and row["detail"].startswith("y" * MAX_CELL_TEXT)
    assert row["evidence"] == "bad\ufffd\ufffdchars"


def test_policies_sheet_shows_attachments_and_region_restrictions(book) -> None:
    rows = {r["policy_id"]: r for r in records(book["Policies"])}
    deny = rows["p-regiondeny"]
    assert deny["type"] == "SCP" and deny["restricts_regions"] == "yes"
    assert deny["region_conditions"] == "Deny StringNotEquals: us-east-1, eu-west-1"
    assert deny["attached_to"] == "ou-ab12-prod0001 (Root/Prod); 012345678901 (payments-prod, Root/Prod)"
    assert rows["p-perimeter"]["type"] == "RCP" and rows["p-perimeter"]["restricts_regions"] == "no"
    assert rows["p-FullAWSAccess"]["aws_managed"] == "yes"


def test_policy_text_that_is_not_json_is_still_inspected(tmp_path: Path) -> None:
    base = make_result()
    bad = replace(base.inventory.policies[0], content='{"Condition": "aws:RequestedRegion" broken')
    result = replace(base, inventory=replace(base.inventory, policies=(bad,)))
    row = records(open_book(write_workbook(tmp_path / "a.xlsx", result))["Policies"])[0]
    assert row["restricts_regions"] == "yes" and "not valid JSON" in row["region_conditions"]


def test_errors_sheet_lists_errored_and_skipped_accounts(book) -> None:
    rows = records(book["Errors"])
    assert [(r["account_id"], r["kind"]) for r in rows] == [(ERROR_ID, "error"), (SKIPPED_ID, "skipped")]
    assert rows[0]["stage"] == "assume_role" and rows[0]["code"] == "AccessDenied"


def test_exclusions_sheet_lists_regions_to_exclude_and_include_only(book) -> None:
    rows = {r["account_id"]: r for r in records(book["Exclusions"])}
    assert (
        rows[OK_ID]["exclude"] == "ap-southeast-1" and rows[OK_ID]["include_only"] == "eu-west-1, us-east-1"
    )
    assert rows[HOSTILE_ID]["excluded_count"] == 0


def test_exclusions_sheet_names_its_columns_as_exclusions_csv_does(book, tmp_path: Path) -> None:
    """A filter written for exclusions.csv works on the Exclusions sheet (the count was exclude_count there)."""
    run_dir = write_run(make_result(), tmp_path / "out")
    with (run_dir / "exclusions.csv").open(newline="") as fh:
        csv_header = next(csv.reader(fh))
    assert "excluded_count" in csv_header
    assert set(csv_header) <= set(header(book["Exclusions"]))


def test_workbook_of_an_empty_result_is_still_valid(tmp_path: Path) -> None:
    base = make_result(findings=())
    result = replace(base, regions=(), exclusions=(), snapshots=(), skipped=())
    wb = open_book(write_workbook(tmp_path / "a.xlsx", result))
    assert wb["Regions"].auto_filter.ref == "A3:G3"
    assert records(wb["Findings"]) == []


def test_workbook_is_written_private_and_replaced_atomically(tmp_path: Path) -> None:
    path = tmp_path / "audit.xlsx"
    path.write_text("old")
    write_workbook(path, make_result())
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert open_book(path).sheetnames[0] == "Summary"
    assert [p.name for p in tmp_path.iterdir()] == ["audit.xlsx"]  # no temporary file left behind


def test_policies_that_restrict_regions_come_first(book) -> None:
    rows = records(book["Policies"])
    assert rows[0]["policy_id"] == "p-regiondeny"
    assert [r["restricts_regions"] for r in rows] == ["yes", "no", "no"]


def test_an_account_with_every_region_denied_says_so_instead_of_an_empty_list(tmp_path: Path) -> None:
    base = make_result()
    result = replace(base, exclusions=(Exclusion(OK_ID, REGIONS, ()),))
    (row,) = records(open_book(write_workbook(tmp_path / "a.xlsx", result))["Exclusions"])
    assert row["include_only"] == "(none: every audited region is denied)"


def test_accounts_are_listed_worst_first(book) -> None:
    overall = [r["overall"] for r in records(book["Accounts"])]
    assert overall == ["high", "high", "medium", "not checked"]


def test_the_exclusions_sheet_names_the_regions_an_account_has_not_enabled() -> None:
    from auditor.report.regions import exclusions_frame

    result = make_result()
    first = result.exclusions[0]
    opted_out = replace(first, include_only=tuple(r for r in first.include_only if r != "ap-east-1"),
                        not_enabled=("ap-east-1",))
    frame = exclusions_frame(replace(result, exclusions=(opted_out, *result.exclusions[1:])))
    row = frame.set_index("account_id").loc[first.account_id]
    assert row["not_enabled"] == "ap-east-1" and "ap-east-1" not in row["include_only"]
