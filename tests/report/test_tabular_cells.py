"""One cell rule for every tabular output: every CSV of a run folder and every workbook cell.

Names come from account, OU and policy owners: a leading `=`, `+`, `-`, `@`, tab, CR or LF must not
make a formula, and a CR or LF inside a value must stay inside its cell (a row never splits, so
no line of the file can start with a formula).
"""

from __future__ import annotations

import ast
import csv
from dataclasses import replace
from pathlib import Path

import pytest

from auditor.model import Exclusion
from auditor.report.cells import FORMULA_PREFIXES, csv_frame, write_csv
from auditor.report.findings import findings_frame
from auditor.report.regions import regions_frame
from auditor.report.writer import write_run

from .factory import DEV, HOSTILE_VALUES, OK_ID, account, finding, make_result
from .helpers import all_cells, open_book

AUDITOR = Path(__file__).resolve().parents[2] / "auditor"

HOSTILE_NAMES = (
    *HOSTILE_VALUES,
    '=HYPERLINK("http://evil.example","x")',
    "ok\r=HYPERLINK(\"http://evil.example\",\"x\")",  # bare CR: must not start a new row
    "ok\n@SUM(A1)",
    "ok\r\n+1",
    "\n=1+1",
    "-\r-",
)


def hostile_org_result():
    base = make_result()
    inv = base.inventory
    extra = tuple(account(f"5000000000{i:02d}", "x", DEV) for i in range(len(HOSTILE_NAMES) - len(inv.accounts)))
    accounts = tuple(replace(a, name=HOSTILE_NAMES[i], ou_path=HOSTILE_NAMES[-(i + 1)])
                     for i, a in enumerate((*inv.accounts, *extra)))
    units = tuple(replace(u, name=HOSTILE_NAMES[i + 7], path="Root/" + HOSTILE_NAMES[i + 8])
                  for i, u in enumerate(inv.units))
    policies = tuple(replace(p, name=HOSTILE_NAMES[i + 7], description=HOSTILE_NAMES[i + 8])
                     for i, p in enumerate(inv.policies))
    # every account gets an exclusion row, so every hostile account name reaches exclusions.csv
    exclusions = tuple(Exclusion(a.id, ("ap-southeast-1",), ("us-east-1",)) for a in accounts)
    findings = tuple(finding(OK_ID, f"check_{i}", name=v, detail=v, evidence=v) for i, v in enumerate(HOSTILE_NAMES))
    return replace(base, inventory=replace(inv, accounts=accounts, units=units, policies=policies),
                   exclusions=exclusions, findings=findings)


def _rows(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh, strict=True))


def test_every_csv_of_a_run_folder_is_neutralised_and_keeps_one_row_per_record(tmp_path: Path) -> None:
    result = hostile_org_result()
    run_dir = write_run(result, tmp_path / "out")
    records = {
        "findings.csv": len(findings_frame(result.findings)),
        "regions.csv": len(regions_frame(result)),
        "exclusions.csv": len(result.exclusions),
    }
    assert {p.name for p in run_dir.glob("*.csv")} == set(records), "a new CSV: add its record count here"
    for name, count in records.items():
        rows = _rows(run_dir / name)
        assert len(rows) == count + 1, f"{name}: {len(rows) - 1} rows for {count} records (a value split a row)"
        bad = [cell for row in rows for cell in row if cell.startswith(FORMULA_PREFIXES)]
        assert not bad, f"{name}: formula cells {bad}"
    names = {r[1] for r in _rows(run_dir / "exclusions.csv")[1:]}
    assert "'" + '=HYPERLINK("http://evil.example","x")' in names  # shown, neutralised, not dropped
    assert 'ok\r=HYPERLINK("http://evil.example","x")' in names  # the CR stays inside its cell


def test_every_workbook_cell_is_neutralised(tmp_path: Path) -> None:
    run_dir = write_run(hostile_org_result(), tmp_path / "out")
    checked = 0
    for cell in all_cells(open_book(run_dir / "audit.xlsx")):
        assert cell.data_type not in ("f", "e"), (cell.parent.title, cell.coordinate, cell.value)
        if isinstance(cell.value, str):
            assert not cell.value.startswith(FORMULA_PREFIXES), (cell.parent.title, cell.coordinate, cell.value)
            checked += 1
    assert checked > 100


@pytest.mark.parametrize("prefix", ["=", "+", "-", "@", "\t", "\r", "\n"])
def test_the_cell_rule_covers_each_formula_prefix(prefix: str) -> None:
    assert prefix in FORMULA_PREFIXES


def test_no_module_writes_a_csv_or_sheet_except_through_the_cell_rule() -> None:
    """csv.writer, DictWriter, DataFrame.to_csv/to_excel appear only in report/cells.py."""
    offenders = []
    for path in AUDITOR.rglob("*.py"):
        if path.relative_to(AUDITOR).as_posix() == "report/cells.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr in ("writer", "DictWriter", "to_csv", "to_excel"):
                if node.attr == "writer" and not (isinstance(node.value, ast.Name) and node.value.id == "csv"):
                    continue
                offenders.append(f"{path.relative_to(AUDITOR)}:{node.lineno} {node.attr}")
    assert not offenders


def test_a_csv_cell_is_capped_like_a_workbook_cell_so_csv_readers_and_excel_take_the_file(tmp_path: Path) -> None:
    """5,000 extra principals in a trust policy made a 160,000-character detail: past the csv module's
    default field limit (131,072: csv.Error on read) and Excel's 32,767 characters per cell. findings.json
    keeps the whole text."""
    huge = "arn:aws:iam::123456789012:root, " * 6000
    path = write_csv(tmp_path / "t.csv", csv_frame(["detail", "next"], [[huge, "kept"]]))
    with path.open(newline="", encoding="utf-8") as fh:
        [row] = list(csv.DictReader(fh))
    assert len(row["detail"]) < 32_767 and row["detail"].startswith(huge[:30_000])
    assert row["detail"].endswith("[truncated]") and row["next"] == "kept"
