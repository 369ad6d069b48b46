"""audit.xlsx: the run as a security engineer reads it: the Summary sheet, then one table sheet per family.

The sheets' frames come from accounts.py, findings.py, regions.py and policies.py, the Summary from
summary.py; xlsx.py writes them.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
from openpyxl import Workbook

from auditor.model import AuditResult
from auditor.report.accounts import OVERALL_COLOURS, accounts_frame, errors_frame
from auditor.report.columns import REGION_LEAD_COLUMNS
from auditor.report.files import write_atomic
from auditor.report.findings import findings_frame
from auditor.report.history import NEW, RESOLVED
from auditor.report.palette import CHANGE_COLOURS, SEVERITY_COLOURS, STATUS_COLOURS, VERDICT_COLOURS
from auditor.report.policies import policies_frame
from auditor.report.regions import exclusions_frame, regions_matrix
from auditor.report.summary import summary_sheet
from auditor.report.xlsx import Table, write_table


def _tables(result: AuditResult, accounts: pd.DataFrame) -> Iterator[Table]:
    """The table sheets in order, each frame made only when its sheet is written."""
    yield Table(
        "Accounts",
        "One row per account of the organization. overall = worst failing severity (ok: nothing "
        "failing). Filter account_id or account_name to find an account.",
        accounts,
        freeze_cols=2,
        wrap=(
            "failing_checks",
            "trust_principals",
            "external_id",
            "regions_denied",
            "regions_partial",
            "audit_note",
            "error",
            "role",
        ),
        colours={"overall": OVERALL_COLOURS, "audit_status": STATUS_COLOURS},
        legend=OVERALL_COLOURS,
    )
    yield Table(
        "Findings",
        "Every finding, worst first. change: new = failing since the last run, open = still failing, "
        "resolved = failing last run and fixed now.",
        findings_frame(result.findings),
        freeze_cols=2,
        wrap=("title", "detail", "remediation", "evidence"),
        colours={"severity": SEVERITY_COLOURS, "change": CHANGE_COLOURS},
        legend={
            **SEVERITY_COLOURS,
            "new": CHANGE_COLOURS[NEW],
            "resolved": CHANGE_COLOURS[RESOLVED],
        },
        widths={"evidence": 50.0, "detail": 60.0, "remediation": 60.0},
    )
    matrix = regions_matrix(result)
    region_cols = tuple(c for c in matrix.columns if c not in REGION_LEAD_COLUMNS)
    yield Table(
        "Regions",
        "Can Datadog's role work in each region? One row per account, one column per audited region "
        "(organization policies SCP/RCP evaluated).",
        matrix,
        freeze_cols=2,
        colours={"verdict": VERDICT_COLOURS},
        colour_columns=region_cols,
        legend=VERDICT_COLOURS,
        widths={c: 14.0 for c in region_cols},
    )
    del matrix  # written: free it before the next frame is made
    yield Table(
        "Exclusions",
        "Regions to exclude in Datadog per account (denied by organization policies), and the "
        "include_only list to set instead; not_enabled: audited opt-in regions the account has not "
        "enabled (not judged, never in include_only).",
        exclusions_frame(result),
        freeze_cols=2,
        wrap=("exclude", "include_only", "not_enabled"),
    )
    yield Table(
        "Policies",
        "Every SCP and RCP of the organization, where it is attached, and whether it restricts regions "
        "(a condition on aws:RequestedRegion).",
        policies_frame(result),
        freeze_cols=2,
        text_columns=(),
        wrap=("region_conditions", "attached_to", "description"),
        colours={"restricts_regions": {"yes": "F8CBAD"}},
    )
    yield Table(
        "Errors",
        "Accounts that could not be audited and why, and accounts skipped on purpose.",
        errors_frame(result),
        freeze_cols=2,
        wrap=("message",),
        colours={"kind": STATUS_COLOURS},
    )



def build_workbook(
    result: AuditResult, *, previous: str | None = None, show_external_ids: bool = False
) -> Workbook:
    """The workbook, write-only: rows are already streamed out, so it can be saved once and not read."""
    wb = Workbook(write_only=True)
    accounts = accounts_frame(result, show_external_ids=show_external_ids)
    summary_sheet(wb, result, accounts, previous)
    for table in _tables(result, accounts):
        write_table(wb, table)
        del table  # its rows are written: the frame can go before the next one is made
    wb.active = 0
    return wb


def write_workbook(
    path: Path, result: AuditResult, *, previous: str | None = None, show_external_ids: bool = False
) -> Path:
    """Write audit.xlsx atomically (0600). `previous`: the run compared with (default: from result.run).

    External ids stay masked unless `show_external_ids` ([datadog] show_external_ids).
    """
    wb = build_workbook(result, previous=previous, show_external_ids=show_external_ids)
    buf = io.BytesIO()
    wb.save(buf)
    return write_atomic(path, lambda fh: fh.write(buf.getvalue()))
