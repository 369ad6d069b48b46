"""Run-over-run comparison: which problems are new, still open, or resolved since the last run.

Findings are matched by `Finding.key` (account, check, region). Only failing findings (status
`fail` or `error`) take part:
- a failing finding is `new` if the previous run did not have it failing, else `open`;
- a finding failing in the previous run and not failing now is added as `resolved`, with the
  previous run's status, severity and text (what was fixed);
- pass findings get change "" (nothing to track: a pass is not a problem that can be new or open).

A previous problem is only called resolved when this run looked again: findings of accounts that
this run could not audit (error, skipped, not reached) and Datadog-side findings when the Datadog API
failed this run are dropped instead, because "not seen" is not "fixed".

The previous run is the newest earlier run folder in the same output folder whose run.json is
readable and says `complete: true`; with none, findings keep change "" (not compared). A folder
stamped later than now is not an earlier run (retention.list_run_folders), whatever it holds.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from auditor import clock
from auditor.checks.catalogue import CheckId, Subject, subject_of
from auditor.model import AuditResult, Finding, Status
from auditor.report.load import RunLoadError
from auditor.report.retention import list_run_folders
from auditor.report.run_folder import RunFolder

log = logging.getLogger("auditor")

NEW, OPEN, RESOLVED = "new", "open", "resolved"
FAILING = (Status.FAIL, Status.ERROR)


@dataclass(frozen=True)
class PreviousRun:
    name: str  # the run folder's name
    findings: tuple[Finding, ...]


def is_failing(f: Finding) -> bool:
    return f.status in FAILING and f.change != RESOLVED


def current_findings(findings: Iterable[Finding]) -> list[Finding]:
    """The findings of this run, without the `resolved` ones carried over from the previous run.

    Counts, exit codes and "worst severity" must use these: a resolved finding keeps its old `fail`.
    """
    return [f for f in findings if f.change != RESOLVED]


def _complete(run_dir: Path) -> bool:
    return RunFolder(run_dir).is_complete()


def load_previous_run(output_dir: Path, *, before: str | None = None,
                      now: datetime | None = None) -> PreviousRun | None:
    """The newest complete run folder stamped before `now` (default: the clock; and named before
    `before`, when given) with readable findings."""
    try:
        run_dirs = list_run_folders(output_dir, now=clock.now() if now is None else now)
    except OSError as exc:  # replaced by a file, unreadable: writing the new folder will say what is wrong
        log.warning("history: cannot list %s (%s); findings not compared", output_dir, exc.strerror)
        return None
    for run_dir in reversed(run_dirs):
        if before is not None and run_dir.name >= before:
            continue
        if not _complete(run_dir):
            continue
        try:
            return PreviousRun(run_dir.name, RunFolder(run_dir).load_findings())
        except RunLoadError as exc:
            log.warning("history: skipping run %s: %s", run_dir.name, exc)
    return None


def compare_findings(
    current: Sequence[Finding],
    previous: Sequence[Finding],
    *,
    unverified: Iterable[str] = (),
    datadog_unverified: bool = False,
) -> tuple[Finding, ...]:
    """Current findings with `change` set, followed by the resolved ones (sorted by key).

    `unverified`: account ids this run did not look at; `datadog_unverified`: the Datadog side was
    not read this run. Their previous problems are neither resolved nor carried.
    """
    before = {f.key: f for f in previous if is_failing(f)}
    now_failing = {f.key for f in current if f.status in FAILING}
    out = [
        replace(f, change=(OPEN if f.key in before else NEW) if f.status in FAILING else "") for f in current
    ]
    skip = set(unverified)
    for key in sorted(before.keys() - now_failing):
        old = before[key]
        if old.account_id in skip and old.check != CheckId.DATADOG_API_ERROR:
            continue
        if datadog_unverified and subject_of(old.check) is Subject.DATADOG:
            continue
        out.append(replace(old, change=RESOLVED))
    return tuple(out)


def unverified_accounts(result: AuditResult) -> set[str]:
    """Accounts of the organization this run did not audit successfully."""
    ok = {s.account_id for s in result.snapshots if s.error is None}
    return {a.id for a in result.inventory.accounts} - ok


def apply_history(result: AuditResult, output_dir: Path) -> AuditResult:
    """The result with findings marked new/open and resolved ones added, against the previous run.

    Call it before the run folder is written (a folder without run.json is never the previous run).
    """
    previous = load_previous_run(output_dir)
    if previous is None:
        log.info("history: no earlier complete run in %s; findings not compared", output_dir)
        return result
    datadog_down = any(f.check == CheckId.DATADOG_API_ERROR and f.status in FAILING for f in result.findings)
    findings = compare_findings(
        result.findings,
        previous.findings,
        unverified=unverified_accounts(result),
        datadog_unverified=datadog_down,
    )
    counts = {c: sum(1 for f in findings if f.change == c) for c in (NEW, OPEN, RESOLVED)}
    log.info(
        "history: compared with run %s: %d new, %d still open, %d resolved",
        previous.name,
        counts[NEW],
        counts[OPEN],
        counts[RESOLVED],
    )
    return replace(result, findings=findings, run=replace(result.run, compared_with=previous.name))
