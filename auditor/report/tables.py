"""AuditResult -> pandas DataFrames: the one place report columns are defined.

CSV files and the workbook are both rendered from these frames, so they always agree.
Column names in FINDING_COLUMNS and REGION_COLUMNS are public (DESIGN.md contracts).
"""

from __future__ import annotations

import pandas as pd

from auditor.model import AuditResult, Finding, Severity

FINDING_COLUMNS = [
    "account_id", "account_name", "ou_path", "check", "severity", "status", "region",
    "title", "detail", "remediation", "evidence", "change",
]
REGION_COLUMNS = [
    "account_id", "account_name", "ou_path", "region", "verdict", "denied_actions",
    "deciding_policies", "unknown_keys", "reason",
]
SEVERITY_ORDER = [s.value for s in sorted(Severity, key=lambda s: -s.rank)]


def finding_row(f: Finding) -> dict[str, str]:
    return {
        "account_id": f.account_id,
        "account_name": f.account_name,
        "ou_path": f.ou_path,
        "check": f.check,
        "severity": f.severity.value,
        "status": f.status.value,
        "region": f.region,
        "title": f.title,
        "detail": f.detail,
        "remediation": f.remediation,
        "evidence": f.evidence,
        "change": f.change,
    }


def findings_frame(findings: tuple[Finding, ...] | list[Finding]) -> pd.DataFrame:
    df = pd.DataFrame([finding_row(f) for f in findings], columns=FINDING_COLUMNS, dtype="string")
    if df.empty:
        return df
    status_rank = {"error": 0, "fail": 1, "pass": 2}
    sev = pd.Categorical(df["severity"], categories=SEVERITY_ORDER, ordered=True)
    df = df.assign(_s=df["status"].map(status_rank), _v=sev.codes)
    return df.sort_values(["_s", "_v", "account_id", "check", "region"], kind="stable").drop(columns=["_s", "_v"])


def regions_frame(result: AuditResult) -> pd.DataFrame:
    by_id = {a.id: a for a in result.inventory.accounts}
    rows = []
    for v in result.regions:
        acct = by_id.get(v.account_id)
        rows.append(
            {
                "account_id": v.account_id,
                "account_name": acct.name if acct else "",
                "ou_path": acct.ou_path if acct else "",
                "region": v.region,
                "verdict": v.verdict.value,
                "denied_actions": ";".join(v.denied_actions),
                "deciding_policies": ";".join(v.deciding_policies),
                "unknown_keys": ";".join(v.unknown_keys),
                "reason": v.reason,
            }
        )
    return pd.DataFrame(rows, columns=REGION_COLUMNS, dtype="string")
