"""Write one run folder: JSON, CSV, exclusion lists, inventory and the workbook.

Each file is written atomically (the workbook by a child process, in parallel with the others);
run.json is written last, so a folder whose run.json says `complete: true` holds every file.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from auditor.model import AuditResult, Status
from auditor.report.background import write_in_background
from auditor.report.cells import write_csv
from auditor.report.exclusions import write_exclusions
from auditor.report.files import make_run_dir, write_json
from auditor.report.findings import findings_frame
from auditor.report.history import current_findings
from auditor.report.inventory_json import inventory_to_dict
from auditor.report.regions import regions_frame
from auditor.report.run_folder import RunFolder
from auditor.report.serialize import to_jsonable
from auditor.report.workbook import write_workbook


def run_summary(result: AuditResult, *, exit_code: int | None = None) -> dict[str, Any]:
    errored = {s.account_id for s in result.snapshots if s.error}
    current = current_findings(result.findings)
    by_status = Counter(f.status.value for f in current)
    failing = Counter(f.severity.value for f in current if f.status is Status.FAIL)
    changes = Counter(f.change for f in result.findings if f.change)
    return {
        **to_jsonable(result.run),
        "api_calls": dict(result.run.api_calls),
        "api_calls_total": sum(n for _, n in result.run.api_calls),
        "organization_id": result.inventory.organization_id,
        "accounts_total": len(result.inventory.accounts),
        "accounts_audited": len(result.snapshots) - len(errored),
        "accounts_errored": len(errored),
        "accounts_skipped": len(result.skipped),
        "regions_audited": len(result.audited_regions),
        "findings_by_status": dict(sorted(by_status.items())),
        "failing_by_severity": dict(sorted(failing.items())),
        "changes": dict(sorted(changes.items())),
        "exit_code": exit_code,
    }


def write_run(
    result: AuditResult,
    output_dir: Path,
    *,
    exit_code: int | None = None,
    show_external_ids: bool = False,
    extra: Mapping[str, Any] | None = None,
) -> Path:
    """The run folder; `extra` adds keys to run.json (what the command knows: the Datadog send state)."""
    run_dir = make_run_dir(output_dir)
    write_result_files(result, run_dir, show_external_ids=show_external_ids)
    write_json(RunFolder(run_dir).run_json, {**run_summary(result, exit_code=exit_code), **(extra or {})})
    return run_dir


def write_result_files(result: AuditResult, run_dir: Path, *, show_external_ids: bool = False) -> None:
    """Everything but run.json (also used to re-render a run from its JSON).

    The workbook (the slowest file) is written by a child process while this one writes the rest;
    it is joined before returning, so the caller's run.json still comes last.
    """
    folder = RunFolder(run_dir)
    workbook = write_in_background(
        folder.workbook, lambda path: write_workbook(path, result, show_external_ids=show_external_ids)
    )
    try:
        findings = findings_frame(result.findings)
        write_json(folder.findings_json, [to_jsonable(f) for f in result.findings])
        write_csv(folder.findings_csv, findings)
        write_csv(folder.regions_csv, regions_frame(result))
        write_json(folder.inventory_json, inventory_to_dict(result))
        accounts = {a.id: a for a in result.inventory.accounts}
        write_exclusions(run_dir, result.exclusions, result.audited_regions, accounts, result.expected)
    except BaseException:
        workbook.cancel()  # the folder is not finished anyway: no child left writing into it
        raise
    workbook.join()
