"""Policy facts for display (principals, sts:ExternalId values, conditions on aws:RequestedRegion),
read from the policy model (`auditor/policy/`), the same reading the checks judge.
"""

from __future__ import annotations

from collections.abc import Iterable

from auditor.checks.catalogue import EXTERNAL_ID_CHECKS
from auditor.policy.document import parse_policy, role_statements
from auditor.policy.model import PolicyError, Statement
from auditor.secrets import EXTERNAL_ID_KEY, mask_secret

REGION_KEY = "aws:requestedregion"


def _trust_statements(document: str) -> tuple[Statement, ...] | str:
    """The statements, or why the trust policy cannot be read (shown in the cell)."""
    try:
        return role_statements(document, trust=True)
    except PolicyError as exc:
        if str(exc).startswith("not valid JSON"):
            return "(trust policy is not valid JSON)"
        return f"(trust policy cannot be read: {exc})"


def trust_principals(document: str) -> str:
    """The principals Allow statements trust, e.g. `arn:aws:iam::464622532012:root`."""
    stmts = _trust_statements(document)
    if isinstance(stmts, str):
        return stmts
    found: list[str] = []
    for s in stmts:
        if s.effect != "Allow":
            continue
        if s.not_principal:
            found.append("NotPrincipal (everyone but ...)")
            continue
        for p in s.named:
            if p.type == "*":
                found.append("* (anyone)")
            else:
                found.append(p.value if p.type == "AWS" else f"{p.type}: {p.value}")
    return "; ".join(dict.fromkeys(found))


def external_ids(document: str) -> list[str]:
    """sts:ExternalId condition values of the Allow statements (as stored: may already be masked)."""
    stmts = _trust_statements(document)
    if isinstance(stmts, str):
        return []
    out = [v for s in stmts if s.effect == "Allow" for c in s.conditions_on(EXTERNAL_ID_KEY) for v in c.values]
    return list(dict.fromkeys(out))


def external_id_state(document: str, failing_checks: Iterable[str], *, show: bool) -> str:
    """The role's external id(s), masked, and the failing external-id checks (the checks compare)."""
    ids = external_ids(document)
    state = ", ".join(mask_secret(v, show=show) for v in ids) if ids else "missing (no sts:ExternalId condition)"
    bad = [c for c in failing_checks if c in EXTERNAL_ID_CHECKS]
    return state + (f"; failing: {', '.join(bad)}" if bad else "")


def region_restriction(content: str, *, policy_id: str = "", name: str = "") -> tuple[str, str]:
    """("yes"/"no", the Deny/Allow conditions on aws:RequestedRegion) of an organization policy."""
    try:
        statements = parse_policy(content, policy_id=policy_id, name=name).statements
    except PolicyError as exc:
        hit = "yes" if REGION_KEY in content.lower() else "no"
        if "not valid JSON" in str(exc):
            return hit, "(policy text is not valid JSON)"
        return hit, f"(policy cannot be read: {exc})"
    conds = [
        f"{s.effect} {c.operator}: {', '.join(c.values)}"
        for s in statements
        for c in s.conditions
        if c.key.lower() == REGION_KEY
    ]
    return ("yes" if conds else "no"), "; ".join(conds)
