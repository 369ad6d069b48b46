"""The Summary sheet: the run's facts, the numbers behind them, and a chart of failing findings.

Laid out on the generic writer's grid (xlsx.Grid), two blocks side by side: facts (A:B), counts and
chart (D:I).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import pandas as pd
from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from auditor import clock
from auditor.model import AuditResult, Verdict
from auditor.report.columns import SEVERITY_ORDER
from auditor.report.history import FAILING, NEW, OPEN, RESOLVED, current_findings
from auditor.report.palette import CHANGE_COLOURS, SEVERITY_COLOURS, STATUS_COLOURS, VERDICT_COLOURS
from auditor.report.xlsx import (
    DATE_FORMAT,
    NOTE_FONT,
    TEXT_FORMAT,
    TITLE_FONT,
    Cursor,
    Grid,
    page_setup,
)


@dataclass(frozen=True)
class SummaryNumbers:
    accounts_total: int
    audited: int
    errored: int
    skipped: int
    not_audited: int
    accounts_failing: int
    accounts_with_denied: int
    verdicts: dict[str, int]
    by_severity: pd.DataFrame  # index severity, columns fail/error/pass/total
    by_check: pd.DataFrame  # index check, columns severities (failing only)
    changes: dict[str, int]


def summary_numbers(result: AuditResult, accounts: pd.DataFrame) -> SummaryNumbers:
    current = current_findings(result.findings)
    status_counts = Counter((f.severity.value, f.status.value) for f in current)
    by_severity = pd.DataFrame(
        [[status_counts[(s, st)] for st in ("fail", "error", "pass")] for s in SEVERITY_ORDER],
        index=SEVERITY_ORDER,
        columns=["fail", "error", "pass"],
    )
    by_severity["total"] = by_severity.sum(axis=1)
    failing = [f for f in current if f.status in FAILING]
    checks = sorted({f.check for f in failing})
    check_counts = Counter((f.check, f.severity.value) for f in failing)
    by_check = pd.DataFrame(
        [[check_counts[(c, s)] for s in SEVERITY_ORDER] for c in checks],
        index=checks,
        columns=SEVERITY_ORDER,
    )
    if not by_check.empty:
        by_check = by_check.loc[by_check.sum(axis=1).sort_values(ascending=False, kind="stable").index]
    status = accounts["audit_status"].value_counts() if not accounts.empty else pd.Series(dtype=int)
    verdicts = Counter(v.verdict.value for v in result.regions)
    return SummaryNumbers(
        accounts_total=len(result.inventory.accounts),
        audited=int(status.get("audited", 0)),
        errored=int(status.get("error", 0)),
        skipped=int(status.get("skipped", 0)),
        not_audited=int(status.get("not audited", 0)),
        accounts_failing=int((accounts["failing_findings"] > 0).sum()) if not accounts.empty else 0,
        accounts_with_denied=int((accounts["regions_denied_count"] > 0).sum()) if not accounts.empty else 0,
        verdicts={v.value: verdicts.get(v.value, 0) for v in Verdict},
        by_severity=by_severity,
        by_check=by_check,
        changes={c: sum(1 for f in result.findings if f.change == c) for c in (NEW, OPEN, RESOLVED)},
    )


def _as_datetime(iso: str) -> datetime | str:
    """Naive UTC datetime (Excel has no time zones), or the text when it is not ISO 8601."""
    try:
        dt = clock.parse_iso(iso)
    except (TypeError, ValueError):
        return iso
    return dt.replace(tzinfo=None)


def _scope(result: AuditResult, n: SummaryNumbers) -> str:
    regions = len(result.audited_regions)
    return (
        f"{n.audited + n.errored} of {n.accounts_total} accounts in scope, "
        f"{regions} region{'s' if regions != 1 else ''} audited"
    )


_SHEET_GUIDE: Sequence[tuple[str, str]] = (
    ("Accounts", "one row per account: overall status, role, trust, external id, denied regions"),
    ("Findings", "every finding with remediation, worst first; filter by account_id or check"),
    ("Regions", "account × region verdicts (allowed / denied / partial ...)"),
    ("Exclusions", "regions to exclude in Datadog per account"),
    ("Policies", "SCPs and RCPs, where attached, and whether they restrict regions"),
    ("Errors", "accounts that could not be audited, and skipped accounts"),
)
_LEFT, _RIGHT = 1, 4  # the two blocks of the Summary sheet: facts (A:B), counts and chart (D:I)


def _facts(cur: Cursor, result: AuditResult, n: SummaryNumbers, compared: str) -> None:
    run, inv = result.run, result.inventory
    cur.title("Run")
    cur.pair("Run started (UTC)", _as_datetime(run.started_at), fmt=DATE_FORMAT)
    cur.pair("Run finished (UTC)", _as_datetime(run.finished_at), fmt=DATE_FORMAT)
    cur.pair(
        "Run complete",
        "yes" if run.complete else "NO: some accounts were not reached",
        colour=None if run.complete else "FF9999",
    )
    cur.pair("Organization", inv.organization_id)
    cur.pair("Management account", inv.management_account_id, fmt=TEXT_FORMAT)
    cur.pair("Partition", inv.partition)
    cur.pair("Scope", _scope(result, n))
    cur.pair("Regions audited", ", ".join(result.audited_regions) or "(none)")
    cur.pair("Compared with run", compared or "not compared (no earlier complete run)")
    cur.pair("Tool version / config digest", f"{run.tool_version} / {run.config_digest}")
    cur.gap()
    cur.title("Accounts")
    cur.pair("In the organization", n.accounts_total)
    cur.pair("Audited", n.audited, colour=STATUS_COLOURS["audited"])
    cur.pair(
        "Could not be audited (see Errors)", n.errored, colour=STATUS_COLOURS["error"] if n.errored else None
    )
    cur.pair("Skipped (out of scope, not active)", n.skipped)
    if n.not_audited:
        cur.pair("Not reached in this run", n.not_audited, colour=STATUS_COLOURS["not audited"])
    cur.pair("With failing findings", n.accounts_failing)
    cur.pair("With denied regions", n.accounts_with_denied)
    cur.pair(
        "Account × region cells denied", n.verdicts[Verdict.DENIED.value], colour=VERDICT_COLOURS["denied"]
    )
    cur.pair("… partial", n.verdicts[Verdict.PARTIAL.value], colour=VERDICT_COLOURS["partial"])
    cur.pair(
        "… indeterminate", n.verdicts[Verdict.INDETERMINATE.value], colour=VERDICT_COLOURS["indeterminate"]
    )
    cur.gap()
    cur.title("Changes since the previous run (failing findings)")
    if compared:
        cur.pair("New", n.changes[NEW], colour=CHANGE_COLOURS[NEW] if n.changes[NEW] else None)
        cur.pair(
            "Resolved", n.changes[RESOLVED], colour=CHANGE_COLOURS[RESOLVED] if n.changes[RESOLVED] else None
        )
        cur.pair("Still open", n.changes[OPEN])
    else:
        cur.pair("Not compared", "no earlier complete run in this output folder")
    cur.gap()
    cur.title("Sheets")
    for name, what in _SHEET_GUIDE:
        cur.pair(name, what)


def _counts_and_chart(ws: WriteOnlyWorksheet, cur: Cursor, n: SummaryNumbers) -> None:
    cur.title("Findings by severity and status (this run)")
    cur.grid("severity", n.by_severity, SEVERITY_COLOURS)
    cur.gap()
    cur.title("Failing findings by check and severity")
    if n.by_check.empty:
        cur.pair("No failing findings", "")
        return
    top, bottom = cur.grid("check", n.by_check, SEVERITY_COLOURS)
    chart = BarChart()
    chart.type, chart.grouping, chart.overlap = "bar", "stacked", 100
    chart.title = None
    chart.y_axis.title = "failing findings"
    chart.x_axis.scaling.orientation = "maxMin"  # biggest check at the top, like the table above
    chart.x_axis.delete = chart.y_axis.delete = False
    chart.legend.position = "b"
    # An explicit scale: LibreOffice sizes a stacked bar chart's axis to the largest series, not the stack.
    chart.y_axis.scaling.min, chart.y_axis.scaling.max = 0, _nice_max(int(n.by_check.sum(axis=1).max()))
    chart.y_axis.majorGridlines = None
    chart.width, chart.height = 22.0, max(7.0, 0.8 * len(n.by_check) + 4)
    data = Reference(
        ws, min_col=cur.col + 1, max_col=cur.col + len(SEVERITY_ORDER), min_row=top, max_row=bottom
    )
    chart.add_data(data, titles_from_data=True)
    chart.set_categories(Reference(ws, min_col=cur.col, min_row=top + 1, max_row=bottom))
    for series, sev in zip(chart.series, SEVERITY_ORDER, strict=True):
        series.graphicalProperties.solidFill = SEVERITY_COLOURS[sev]
        series.graphicalProperties.line.solidFill = SEVERITY_COLOURS[sev]
    anchor = f"{get_column_letter(cur.col)}{cur.row + 1}"
    ws.add_chart(chart, anchor)


def _nice_max(value: int) -> int:
    """A round axis end at or above value: 27 -> 30, 140 -> 150, 4 -> 5."""
    if value <= 5:
        return 5
    magnitude = 10 ** (len(str(value)) - 1)
    return math.ceil(value * 2 / magnitude) * magnitude // 2


def summary_sheet(
    wb: Workbook, result: AuditResult, accounts: pd.DataFrame, previous: str | None
) -> WriteOnlyWorksheet:
    ws = wb.create_sheet("Summary", 0)
    n = summary_numbers(result, accounts)
    for letter, width in {"A": 34, "B": 46, "C": 3, "D": 32, "E": 9, "F": 9, "G": 9, "H": 9, "I": 9}.items():
        ws.column_dimensions[letter].width = width
    page_setup(ws)
    grid = Grid(ws)
    grid.cell(1, 1, "Datadog AWS integration audit").font = TITLE_FONT
    grid.cell(
        2,
        1,
        "Can Datadog assume its role in every account and region? "
        "Start here, then filter the Accounts and Findings sheets.",
    ).font = NOTE_FONT
    compared = previous if previous is not None else result.run.compared_with
    _facts(Cursor(grid, 4, _LEFT), result, n, compared)
    _counts_and_chart(ws, Cursor(grid, 4, _RIGHT), n)
    grid.flush()
    return ws
