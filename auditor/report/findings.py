"""Findings: findings.csv and the Findings sheet, from one frame."""

from __future__ import annotations

import pandas as pd

from auditor.model import Finding
from auditor.report.columns import FINDING_COLUMNS, SEVERITY_ORDER


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
