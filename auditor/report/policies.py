"""Policies: the Policies sheet (every SCP and RCP, where attached, whether it restricts regions)."""

from __future__ import annotations

import pandas as pd

from auditor.model import RCP, SCP, AuditResult
from auditor.report.columns import POLICY_COLUMNS
from auditor.report.policy_text import region_restriction

_POLICY_TYPE = {SCP: "SCP", RCP: "RCP"}


def policies_frame(result: AuditResult) -> pd.DataFrame:
    inv = result.inventory
    labels = {u.id: f"{u.id} ({u.path})" for u in inv.units}
    labels.update({a.id: f"{a.id} ({a.name}, {a.ou_path})" for a in inv.accounts})
    rows = []
    for p in inv.policies:
        restricts, conds = region_restriction(p.content, policy_id=p.id, name=p.name)
        rows.append(
            {
                "policy_id": p.id,
                "name": p.name,
                "type": _POLICY_TYPE.get(p.type, p.type),
                "aws_managed": "yes" if p.aws_managed else "no",
                "restricts_regions": restricts,
                "region_conditions": conds,
                "attached_count": len(p.targets),
                "attached_to": "; ".join(labels.get(t, t) for t in p.targets),
                "description": p.description,
            }
        )
    df = pd.DataFrame(rows, columns=POLICY_COLUMNS).astype({"attached_count": "int64"})
    if df.empty:
        return df
    # Region-restricting policies first: they are why regions are denied.
    order = df.assign(_r=df["restricts_regions"] != "yes", _n=df["name"].str.lower())
    return order.sort_values(["_r", "type", "_n", "policy_id"], kind="stable").drop(columns=["_r", "_n"])
