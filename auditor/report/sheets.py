"""AuditResult -> the DataFrames behind each workbook sheet (no styling here: see workbook.py).

Column names are snake_case like the CSV files, so a filter written for one works on the other.
Trust policies are only inspected as JSON text here (principals, sts:ExternalId values) for
display; judging them is the checks' job.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import pandas as pd

from auditor.model import RCP, SCP, AuditResult, Finding, Verdict
from auditor.report.history import FAILING, NEW, OPEN, RESOLVED, current_findings
from auditor.report.tables import SEVERITY_ORDER
from auditor.secrets import mask_secret

ACCOUNT_COLUMNS = [
    "account_id",
    "account_name",
    "ou_path",
    "overall",
    "audit_status",
    "audit_note",
    "failing_findings",
    "failing_checks",
    "role",
    "trust_principals",
    "external_id",
    "regions_denied_count",
    "regions_denied",
    "regions_partial",
    "account_state",
    "error",
]
EXCLUSION_COLUMNS = ["account_id", "account_name", "ou_path", "exclude_count", "exclude", "include_only"]
POLICY_COLUMNS = [
    "policy_id",
    "name",
    "type",
    "aws_managed",
    "restricts_regions",
    "region_conditions",
    "attached_count",
    "attached_to",
    "description",
]
ERROR_COLUMNS = ["account_id", "account_name", "ou_path", "kind", "stage", "code", "message"]
REGION_LEAD_COLUMNS = ["account_id", "account_name", "ou_path", "denied_count"]
OK, NOT_CHECKED = "ok", "not checked"
NOTHING_LEFT = "(none: every audited region is denied)"
OVERALL_ORDER = [*SEVERITY_ORDER, NOT_CHECKED, OK]
_POLICY_TYPE = {SCP: "SCP", RCP: "RCP"}


def worst_severity(findings: Iterable[Finding]) -> str | None:
    sevs = [f.severity for f in findings if f.status in FAILING and f.change != RESOLVED]
    return max(sevs, key=lambda s: s.rank).value if sevs else None


# --- trust policy inspection (display only) ---------------------------------------------------


def _statements(document: str) -> list[dict[str, Any]]:
    try:
        data = json.loads(document)
    except RecursionError as exc:  # nested deeper than the stack: treated like invalid JSON
        raise ValueError("nested too deeply") from exc
    stmts = data.get("Statement", []) if isinstance(data, dict) else []
    stmts = [stmts] if isinstance(stmts, dict) else stmts
    return [s for s in stmts if isinstance(s, dict)] if isinstance(stmts, list) else []


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def trust_principals(document: str) -> str:
    """The principals Allow statements trust, e.g. `arn:aws:iam::464622532012:root`."""
    try:
        stmts = _statements(document)
    except (ValueError, TypeError):
        return "(trust policy is not valid JSON)"
    found: list[str] = []
    for s in stmts:
        if s.get("Effect") != "Allow":
            continue
        principal = s.get("Principal")
        if principal == "*":
            found.append("* (anyone)")
        elif isinstance(principal, dict):
            for ptype, values in principal.items():
                for v in _as_list(values):
                    found.append(str(v) if ptype == "AWS" else f"{ptype}: {v}")
        if "NotPrincipal" in s:
            found.append("NotPrincipal (everyone but ...)")
    return "; ".join(dict.fromkeys(found))


def external_ids(document: str) -> list[str]:
    """sts:ExternalId condition values of the Allow statements (as stored: may already be masked)."""
    try:
        stmts = _statements(document)
    except (ValueError, TypeError):
        return []
    out: list[str] = []
    for s in stmts:
        cond = s.get("Condition")
        if s.get("Effect") != "Allow" or not isinstance(cond, dict):
            continue
        for block in cond.values():
            if isinstance(block, dict):
                for key, values in block.items():
                    if key.lower() == "sts:externalid":
                        out.extend(str(v) for v in _as_list(values))
    return list(dict.fromkeys(out))


def _mask(value: str, show: bool) -> str:
    return value if value.startswith("****") else mask_secret(value, show=show)


def external_id_state(document: str, failing_checks: Iterable[str], *, show: bool) -> str:
    """The role's external id(s), masked, and the failing external-id checks (the checks compare)."""
    ids = external_ids(document)
    state = ", ".join(_mask(v, show) for v in ids) if ids else "missing (no sts:ExternalId condition)"
    bad = [c for c in failing_checks if "external" in c]
    return state + (f"; failing: {', '.join(bad)}" if bad else "")


# --- sheet frames ---------------------------------------------------------------------------------


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
                "exclude_count": len(e.exclude),
                "exclude": ", ".join(e.exclude),
                "include_only": ", ".join(e.include_only) or (NOTHING_LEFT if e.exclude else ""),
            }
        )
    return pd.DataFrame(rows, columns=EXCLUSION_COLUMNS).astype({"exclude_count": "int64"})


def _region_conditions(content: str) -> Iterator[str]:
    for s in _statements(content):
        cond = s.get("Condition")
        if not isinstance(cond, dict):
            continue
        for op, block in cond.items():
            if not isinstance(block, dict):
                continue
            for key, values in block.items():
                if key.lower() == "aws:requestedregion":
                    yield f"{s.get('Effect', '?')} {op}: {', '.join(str(v) for v in _as_list(values))}"


def region_restriction(content: str) -> tuple[str, str]:
    """("yes"/"no", the Deny/Allow conditions on aws:RequestedRegion) from the policy text."""
    try:
        conds = list(_region_conditions(content))
    except (ValueError, TypeError, AttributeError, RecursionError):
        hit = "aws:requestedregion" in content.lower()
        return ("yes" if hit else "no"), "(policy text is not valid JSON)"
    return ("yes" if conds else "no"), "; ".join(conds)


def policies_frame(result: AuditResult) -> pd.DataFrame:
    inv = result.inventory
    labels = {u.id: f"{u.id} ({u.path})" for u in inv.units}
    labels.update({a.id: f"{a.id} ({a.name}, {a.ou_path})" for a in inv.accounts})
    rows = []
    for p in inv.policies:
        restricts, conds = region_restriction(p.content)
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


# --- summary numbers ---------------------------------------------------------------------------------


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
