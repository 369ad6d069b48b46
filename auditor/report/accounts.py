"""Accounts: the Accounts sheet (one row per account of the organization, worst first) and the
Errors sheet (accounts not audited, and why).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

import pandas as pd

from auditor.model import AuditResult, Finding, Verdict
from auditor.report.columns import ACCOUNT_COLUMNS, ERROR_COLUMNS, SEVERITY_ORDER
from auditor.report.history import FAILING, RESOLVED, current_findings
from auditor.report.palette import SEVERITY_COLOURS
from auditor.report.policy_text import external_id_state, trust_principals

OK, NOT_CHECKED = "ok", "not checked"


OVERALL_ORDER = [*SEVERITY_ORDER, NOT_CHECKED, OK]


OVERALL_COLOURS = {**SEVERITY_COLOURS, OK: "C6EFCE", NOT_CHECKED: "D9D9D9"}


def worst_severity(findings: Iterable[Finding]) -> str | None:
    sevs = [f.severity for f in findings if f.status in FAILING and f.change != RESOLVED]
    return max(sevs, key=lambda s: s.rank).value if sevs else None


def accounts_frame(result: AuditResult, *, show_external_ids: bool = False) -> pd.DataFrame:
    snaps = {s.account_id: s for s in result.snapshots}
    skipped = dict(result.skipped)
    by_account: dict[str, list[Finding]] = defaultdict(list)
    for f in current_findings(result.findings):
        by_account[f.account_id].append(f)
    denied: dict[str, list[str]] = defaultdict(list)
    partial: dict[str, list[str]] = defaultdict(list)
    for v in result.regions:
        if v.verdict is Verdict.DENIED:
            denied[v.account_id].append(v.region)
        elif v.verdict is Verdict.PARTIAL:
            partial[v.account_id].append(v.region)
    rows = []
    for acct in result.inventory.accounts:
        snap = snaps.get(acct.id)
        failing = [f for f in by_account.get(acct.id, ()) if f.status in FAILING]
        checks = sorted({f.check for f in failing})
        if snap is not None and snap.error is None:
            status, note = "audited", ""
        elif snap is not None and snap.error is not None:
            status, note = "error", f"{snap.error.stage}: {snap.error.code}"
        elif acct.id in skipped:
            status, note = "skipped", skipped[acct.id]
        else:
            status, note = "not audited", "no result for this account in this run"
        overall = worst_severity(failing) or (OK if status == "audited" else NOT_CHECKED)
        role, principals, ext = "", "", ""
        if snap is not None and snap.error is None:
            role = snap.role.arn if snap.role else "missing"
        if snap is not None and snap.role is not None:
            principals = trust_principals(snap.role.trust_policy)
            ext = external_id_state(snap.role.trust_policy, checks, show=show_external_ids)
        error = f"{snap.error.stage}: {snap.error.code}: {snap.error.message}" if snap and snap.error else ""
        rows.append(
            {
                "account_id": acct.id,
                "account_name": acct.name,
                "ou_path": acct.ou_path,
                "overall": overall,
                "audit_status": status,
                "audit_note": note,
                "failing_findings": len(failing),
                "failing_checks": ", ".join(checks),
                "role": role,
                "trust_principals": principals,
                "external_id": ext,
                "regions_denied_count": len(denied.get(acct.id, ())),
                "regions_denied": ", ".join(sorted(denied.get(acct.id, ()))),
                "regions_partial": ", ".join(sorted(partial.get(acct.id, ()))),
                "account_state": acct.status,
                "error": error,
            }
        )
    df = pd.DataFrame(rows, columns=ACCOUNT_COLUMNS)
    df = df.astype({"failing_findings": "int64", "regions_denied_count": "int64"})
    if df.empty:
        return df
    # Worst accounts first, so the top of the sheet is the to-do list.
    rank = df["overall"].map({v: i for i, v in enumerate(OVERALL_ORDER)}).fillna(len(OVERALL_ORDER))
    df = df.assign(_r=rank, _n=df["account_name"].str.lower())
    return df.sort_values(["_r", "_n", "account_id"], kind="stable").drop(columns=["_r", "_n"])


def errors_frame(result: AuditResult) -> pd.DataFrame:
    accounts = {a.id: a for a in result.inventory.accounts}
    seen = {s.account_id for s in result.snapshots} | {a for a, _ in result.skipped}

    def row(account_id: str, kind: str, stage: str, code: str, message: str) -> dict[str, str]:
        acct = accounts.get(account_id)
        return {
            "account_id": account_id,
            "account_name": acct.name if acct else "",
            "ou_path": acct.ou_path if acct else "",
            "kind": kind,
            "stage": stage,
            "code": code,
            "message": message,
        }

    rows = [
        row(s.account_id, "error", s.error.stage, s.error.code, s.error.message)
        for s in result.snapshots
        if s.error
    ]
    rows += [row(a, "skipped", "", "", reason) for a, reason in result.skipped]
    rows += [
        row(a.id, "not audited", "", "", "no result for this account in this run")
        for a in result.inventory.accounts
        if a.id not in seen
    ]
    return pd.DataFrame(rows, columns=ERROR_COLUMNS)
