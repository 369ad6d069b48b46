"""The check catalogue: one entry per stable check id, with its severity, title and fix.

Reports and other tools key on these ids; renaming one is a breaking change (README).
Every finding is made through `finding()`, so the catalogue is the only source of a check's
severity, title and remediation.
"""

from __future__ import annotations

from dataclasses import dataclass

from auditor.model import Account, Finding, Severity, Status


@dataclass(frozen=True)
class CheckSpec:
    id: str
    severity: Severity
    title: str
    remediation: str


_SPECS: tuple[CheckSpec, ...] = (
    CheckSpec(
        "audit_role_unassumable",
        Severity.HIGH,
        "The auditor could not assume its audit role in this account",
        "Deploy the audit role (config/audit-role.stackset.yaml) in this account and make its "
        "trust policy allow the management (or delegated-admin) account; check SCPs on sts:AssumeRole.",
    ),
    CheckSpec(
        "account_read_error",
        Severity.HIGH,
        "The auditor could not read the Datadog role in this account",
        "Grant the audit role the read-only IAM permissions in config/audit-role-policy.json.",
    ),
    CheckSpec(
        "role_missing",
        Severity.HIGH,
        "The Datadog integration role does not exist",
        "Create the role with Datadog's CloudFormation template, or give Datadog the name of the "
        "role that exists (see role_name_mismatch).",
    ),
    CheckSpec(
        "role_present",
        Severity.INFO,
        "The Datadog integration role is present and healthy",
        "Nothing to do.",
    ),
)

CATALOGUE: dict[str, CheckSpec] = {s.id: s for s in _SPECS}


def register(*specs: CheckSpec) -> None:
    """Add check specs (used by check modules at import time). Ids must be unique."""
    for spec in specs:
        if spec.id in CATALOGUE and CATALOGUE[spec.id] != spec:
            raise ValueError(f"check id {spec.id!r} registered twice with different specs")
        CATALOGUE[spec.id] = spec


def finding(
    check: str,
    account: Account,
    status: Status,
    detail: str,
    *,
    region: str = "",
    evidence: str = "",
    severity: Severity | None = None,
) -> Finding:
    """A finding for `check`; pass findings get severity info unless told otherwise."""
    spec = CATALOGUE[check]
    if severity is None:
        severity = spec.severity if status is not Status.PASS else Severity.INFO
    return Finding(
        account_id=account.id,
        account_name=account.name,
        ou_path=account.ou_path,
        check=check,
        severity=severity,
        status=status,
        region=region,
        title=spec.title,
        detail=detail,
        remediation=spec.remediation,
        evidence=evidence,
    )
