"""Role permission checks: do the role's own policies allow the actions Datadog calls?

Only the role's identity policies (inline and attached) and its permissions boundary are read
here; organization policies per region are the region matrix's job. A statement counts when it
applies to every resource (`"*"`), as Datadog's list/describe calls do. Conditions on an Allow
are not evaluated (they are region or tag tests the region matrix handles); an unconditional
Deny removes the action.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from auditor.checks.catalogue import finding
from auditor.checks.context import RoleContext
from auditor.model import Finding, RoleInfo, Status
from auditor.policy.document import role_statements as parse_policy
from auditor.policy.model import PolicyError as PolicyDocumentError
from auditor.policy.model import Statement
from auditor.policy.model import action_pattern_matches as wildcard_match

PERMISSIONS_MISSING = "role_permissions_missing"
PERMISSIONS_UNVERIFIED = "role_permissions_unverified"
SECURITY_AUDIT_SUFFIX = ":policy/SecurityAudit"


@dataclass(frozen=True)
class _Policy:
    label: str
    statements: tuple[Statement, ...] | None  # None: document unavailable or unreadable
    problem: str = ""


def permission_findings(
    ctx: RoleContext,
    role: RoleInfo,
    *,
    customer_documents: Mapping[str, str],
    aws_managed_documents: Mapping[str, str],
    probe_actions: Sequence[str],
) -> list[Finding]:
    def document(arn: str) -> str | None:
        return customer_documents.get(arn, aws_managed_documents.get(arn))

    policies = [_policy(f"inline policy {p.name}", p.document) for p in role.inline_policies]
    policies += [_policy(f"managed policy {p.name} ({p.arn})", document(p.arn)) for p in role.attached_policies]
    boundary = (
        _policy(f"permissions boundary {role.permissions_boundary_arn}", document(role.permissions_boundary_arn))
        if role.permissions_boundary_arn
        else None
    )
    unavailable = [p for p in [*policies, boundary] if p is not None and p.statements is None]
    missing: dict[str, str] = {}
    unconfirmed: dict[str, str] = {}
    for action in probe_actions:
        why, certain = _why_not_allowed(action, policies, boundary)
        if why:
            (missing if certain else unconfirmed)[action] = why

    out: list[Finding] = []
    if missing:
        out.append(
            finding(
                PERMISSIONS_MISSING,
                ctx.account,
                Status.FAIL,
                f"The policies of {role.arn} do not allow {len(missing)} of the {len(probe_actions)} actions Datadog "
                "calls: "
                + "; ".join(f"{a} ({why})" for a, why in missing.items())
                + ". Attach Datadog's current DatadogAWSIntegrationPolicy (or add these actions to it).",
                evidence=json.dumps({"missing": list(missing), "policies": [p.label for p in policies]}),
            )
        )
    if unconfirmed:
        out.append(
            finding(
                PERMISSIONS_UNVERIFIED,
                ctx.account,
                Status.ERROR,
                f"Could not confirm that {role.arn} allows {', '.join(unconfirmed)}: the readable policies do not "
                "allow them and "
                + "; ".join(f"{p.label}: {p.problem}" for p in unavailable)
                + ". Grant the audit role iam:GetPolicy and iam:GetPolicyVersion, then rerun.",
                evidence=json.dumps({"unconfirmed": list(unconfirmed), "unavailable": [p.label for p in unavailable]}),
            )
        )
    return out


def security_audit_note(role: RoleInfo) -> str:
    """Informational only (never a failure): metrics work without SecurityAudit."""
    if any(p.arn.endswith(SECURITY_AUDIT_SUFFIX) for p in role.attached_policies):
        return ""
    return (
        " Note: SecurityAudit is not attached; Datadog's resource collection and Cloud Security Management"
        " need it (metrics do not)."
    )


def _policy(label: str, document: str | None) -> _Policy:
    if document is None:
        return _Policy(label, None, "document not available to the auditor")
    try:
        return _Policy(label, parse_policy(document, trust=False))
    except PolicyDocumentError as exc:
        return _Policy(label, None, f"document cannot be read ({exc})")


def _covers_all_resources(s: Statement) -> bool:
    if s.not_resource:
        return not any(wildcard_match(r, "*") for r in s.resources)
    return any(wildcard_match(r, "*") for r in s.resources)


def _matches(s: Statement, action: str, effect: str) -> bool:
    return s.effect == effect and s.allows(action) and _covers_all_resources(s)


def _why_not_allowed(action: str, policies: list[_Policy], boundary: _Policy | None) -> tuple[str, bool]:
    """("", True) when the policies allow `action`, else the reason and whether it is certain
    (an unreadable policy might hold the missing Allow, so its absence is then not certain)."""
    readable = [p for p in policies if p.statements is not None]
    some_unreadable = len(readable) < len(policies)
    for p in readable:
        for s in p.statements or ():
            if _matches(s, action, "Deny") and not s.conditions:
                return f"denied by {p.label} {s.label}", True
    if not any(_matches(s, action, "Allow") for p in readable for s in p.statements or ()):
        return (
            "no readable policy allows it" if some_unreadable else "no policy allows it",
            not some_unreadable,
        )
    if boundary is None:
        return "", True
    if boundary.statements is None:
        return f"the {boundary.label} could not be read", False
    if any(_matches(s, action, "Deny") and not s.conditions for s in boundary.statements):
        return f"denied by the {boundary.label}", True
    if not any(_matches(s, action, "Allow") for s in boundary.statements):
        return f"not allowed by the {boundary.label}", True
    return "", True
