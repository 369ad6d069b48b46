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
    # Column by column, not a dict per row: at 10,000 accounts x 30 regions the row dicts alone
    # would hold ~200 MB.
    accounts = [result.inventory.account(v.account_id) for v in result.regions]
    columns = {
        "account_id": [v.account_id for v in result.regions],
        "account_name": [a.name if a else "" for a in accounts],
        "ou_path": [a.ou_path if a else "" for a in accounts],
        "region": [v.region for v in result.regions],
        "verdict": [v.verdict.value for v in result.regions],
        "denied_actions": [";".join(v.denied_actions) for v in result.regions],
        "deciding_policies": [";".join(v.deciding_policies) for v in result.regions],
        "unknown_keys": [";".join(v.unknown_keys) for v in result.regions],
        "reason": [v.reason for v in result.regions],
    }
    return pd.DataFrame(columns, columns=REGION_COLUMNS, dtype="string")
