"""No attacker-controlled value becomes a formula, in the workbook or the CSVs; files stay private."""

from __future__ import annotations

import csv
import os
import stat
from dataclasses import replace
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from auditor.model import AccountError, AccountSnapshot
from auditor.report.cells import FORMULA_PREFIXES
from auditor.report.workbook import build_workbook, write_workbook
from auditor.report.writer import write_run

from .factory import HOSTILE_ID, HOSTILE_VALUES, OK_ID, finding, inventory, make_result
from .helpers import all_cells, open_book, reopen


def hostile_result():
    """Every free-text field an attacker (or a careless colleague) controls, set to a formula."""
    base = make_result()
    inv = base.inventory
    accounts = tuple(
        replace(a, name=HOSTILE_VALUES[i % len(HOSTILE_VALUES)], ou_path=HOSTILE_VALUES[(i + 1) % 7])
        for i, a in enumerate(inv.accounts)
    )
    policies = tuple(replace(p, name=HOSTILE_VALUES[2], description=HOSTILE_VALUES[3]) for p in inv.policies)
    findings = tuple(
        finding(OK_ID, f"check_{i}", name=v, detail=v, evidence=v, region=v)
        for i, v in enumerate(HOSTILE_VALUES)
    )
    snaps = (
        *base.snapshots,
        AccountSnapshot(HOSTILE_ID, None, error=AccountError("+stage", "-code", "@message")),
    )
    return replace(
        base,
        inventory=replace(inv, accounts=accounts, policies=policies, organization_id=HOSTILE_VALUES[0]),
        findings=findings,
        snapshots=snaps,
        skipped=((accounts[3].id, HOSTILE_VALUES[4]),),
    )


def assert_no_formula(wb) -> int:
    checked = 0
    for cell in all_cells(wb):
        assert cell.data_type != "f", f"{cell.parent.title}!{cell.coordinate} is a formula: {cell.value!r}"
        if isinstance(cell.value, str):
            assert not cell.value.startswith(FORMULA_PREFIXES), f"{cell.coordinate}: {cell.value!r}"
            checked += 1
    return checked


def test_hostile_names_and_text_never_become_formulas_in_the_workbook(tmp_path: Path) -> None:
    wb = open_book(write_workbook(tmp_path / "a.xlsx", hostile_result()))
    assert assert_no_formula(wb) > 100
    # Shown, not dropped. A bare CR reads back as LF when the XML writer leaves it raw (XML's line-end
    # normalisation) and as CR when it escapes it (lxml): compare with line ends made alike.
    neutralised = {c.value.replace("\r", "\n") for c in all_cells(wb)
                   if isinstance(c.value, str) and c.value.startswith("'")}
    assert {"'" + v.replace("\r", "\n") for v in HOSTILE_VALUES} <= neutralised


def test_error_literals_are_not_stored_as_error_cells(tmp_path: Path) -> None:
    base = make_result()
    result = replace(base, findings=(finding(OK_ID, "role_missing", name="#REF!", detail="#N/A"),))
    wb = open_book(write_workbook(tmp_path / "a.xlsx", result))
    assert not [c for c in all_cells(wb) if c.data_type == "e"]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.text(
        alphabet=st.sampled_from(["=", "+", "-", "@", "\t", "\r", "\n", "\x00", "\x1f", "#", "a", "'", " "]),
        min_size=1,
        max_size=12,
    )
)
def test_any_account_name_is_written_as_plain_text(name: str) -> None:
    base = make_result()
    inv = replace(base.inventory, accounts=tuple(replace(a, name=name) for a in inventory().accounts))
    wb = reopen(build_workbook(replace(base, inventory=inv)))
    for cell in all_cells(wb):
        assert cell.data_type not in ("f", "e"), (cell.coordinate, cell.value)
        assert not (isinstance(cell.value, str) and cell.value.startswith(FORMULA_PREFIXES))


def _csv_fields(path: Path) -> list[str]:
    with path.open(newline="", encoding="utf-8") as fh:
        return [field for row in csv.reader(fh) for field in row]


def test_csv_files_are_neutralised(tmp_path: Path) -> None:
    run_dir = write_run(hostile_result(), tmp_path / "out")
    for name in ("findings.csv", "regions.csv"):
        fields = _csv_fields(run_dir / name)
        assert fields, name
        assert not [f for f in fields if f.startswith(FORMULA_PREFIXES)], name
    assert "'" + HOSTILE_VALUES[0] in _csv_fields(run_dir / "findings.csv")


def test_csv_field_with_a_carriage_return_cannot_start_a_formula_row(tmp_path: Path) -> None:
    run_dir = write_run(make_result(findings=(finding(OK_ID, "role_missing", detail="\r=1+1"),)), tmp_path)
    fields = _csv_fields(run_dir / "findings.csv")
    assert not [f for f in fields if f.startswith(FORMULA_PREFIXES)]


def test_run_files_are_private(tmp_path: Path) -> None:
    run_dir = write_run(make_result(), tmp_path / "out")
    assert stat.S_IMODE(os.stat(run_dir).st_mode) == 0o700
    for path in run_dir.iterdir():
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600, path.name
