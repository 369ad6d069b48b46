"""Regions: regions.csv (one row per account and region), the Regions matrix and the Exclusions sheet."""

from __future__ import annotations

import pandas as pd

from auditor.model import AuditResult, Verdict
from auditor.report.columns import EXCLUSION_COLUMNS, REGION_COLUMNS, REGION_LEAD_COLUMNS

NOTHING_LEFT = "(none: every audited region is denied)"


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


def regions_matrix(result: AuditResult) -> pd.DataFrame:
    """One row per account with verdicts, one column per region (audited order), verdict per cell."""
    if not result.regions:
        return pd.DataFrame(columns=REGION_LEAD_COLUMNS + list(result.audited_regions))
    long = pd.DataFrame(
        {
            "account_id": [v.account_id for v in result.regions],
            "region": [v.region for v in result.regions],
            "verdict": [v.verdict.value for v in result.regions],
        }
    ).drop_duplicates(["account_id", "region"], keep="last")
    wide = long.pivot(index="account_id", columns="region", values="verdict")
    extra = sorted(set(wide.columns) - set(result.audited_regions))
    regions = [r for r in result.audited_regions if r in wide.columns] + extra
    wide = wide.reindex(columns=regions).sort_index()
    names = {a.id: (a.name, a.ou_path) for a in result.inventory.accounts}
    lead = pd.DataFrame(
        {
            "account_id": wide.index,
            "account_name": [names.get(i, ("", ""))[0] for i in wide.index],
            "ou_path": [names.get(i, ("", ""))[1] for i in wide.index],
            "denied_count": (wide == Verdict.DENIED.value).sum(axis=1).to_numpy(),
        }
    )
    return pd.concat([lead, wide.reset_index(drop=True)], axis=1)


def exclusions_frame(result: AuditResult) -> pd.DataFrame:
    names = {a.id: a for a in result.inventory.accounts}
    rows = []
    for e in sorted(result.exclusions, key=lambda e: e.account_id):
        acct = names.get(e.account_id)
        rows.append(
            {
                "account_id": e.account_id,
                "account_name": acct.name if acct else "",
                "ou_path": acct.ou_path if acct else "",
                "excluded_count": len(e.exclude),
                "exclude": ", ".join(e.exclude),
                "include_only": ", ".join(e.include_only) or (NOTHING_LEFT if e.exclude else ""),
                "not_enabled": ", ".join(e.not_enabled),
            }
        )
    return pd.DataFrame(rows, columns=EXCLUSION_COLUMNS).astype({"excluded_count": "int64"})
