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
        "analysis_error",
        Severity.HIGH,
        "The auditor could not finish analysing this account",
        "The detail says why: a stop request or the run deadline ([run] run_timeout_seconds) during the "
        "analysis (run again, or raise the deadline), or a document the auditor could not read (fix it, "
        "or report the detail: every other account was audited).",
    ),
    CheckSpec(
        "role_missing",
        Severity.HIGH,
        "The Datadog integration role does not exist",
        "Create the role with Datadog's CloudFormation template, or give Datadog the name of the "
        "role that exists (see role_name_mismatch).",
    ),
    CheckSpec(
        "datadog_access_keys",
        Severity.INFO,
        "Datadog reaches this account with an IAM user's access keys, not a role",
        "Datadog recommends a role: set up the account with Datadog's CloudFormation template (role and "
        "external id), then delete the IAM user's access keys. Until then keep the user's keys rotated.",
    ),
    CheckSpec(
        "role_present",
        Severity.INFO,
        "The Datadog integration role is present and healthy",
        "Nothing to do.",
    ),
    # --- role checks (auditor/checks/role.py and the modules it calls) ---
    CheckSpec(
        "role_name_mismatch",
        Severity.HIGH,
        "The role name Datadog was given differs from the IAM role's name",
        "Give Datadog the role's exact name (with its path, without spaces or invisible characters), "
        "or rename the role to the name Datadog holds.",
    ),
    CheckSpec(
        "trust_policy_invalid",
        Severity.HIGH,
        "The Datadog role's trust policy cannot be read",
        "Replace the trust policy with Datadog's documented one (Allow sts:AssumeRole to Datadog's account "
        "with a StringEquals sts:ExternalId condition).",
    ),
    CheckSpec(
        "trust_principal_wrong_account",
        Severity.HIGH,
        "The trust policy does not trust Datadog's account for the configured site and partition",
        "Set the trust policy's Principal to {\"AWS\": \"arn:<partition>:iam::<Datadog account>:root\"} for "
        "your Datadog site (the detail names the exact ARN).",
    ),
    CheckSpec(
        "trust_principal_not_root",
        Severity.MEDIUM,
        "The trust policy names a role or user in Datadog's account instead of the account",
        "Name Datadog's account root (arn:<partition>:iam::<Datadog account>:root) as the documented principal.",
    ),
    CheckSpec(
        "trust_principal_wildcard",
        Severity.CRITICAL,
        "Any AWS principal may assume the Datadog role",
        "Replace \"*\" (or the NotPrincipal) with Datadog's account principal at once.",
    ),
    CheckSpec(
        "trust_principal_extra",
        Severity.MEDIUM,
        "Principals other than Datadog may assume the Datadog role",
        "Remove every principal except Datadog's account from the trust policy; give other users their own role.",
    ),
    CheckSpec(
        "trust_action_missing",
        Severity.HIGH,
        "The trust policy does not allow Datadog to call sts:AssumeRole",
        "Allow \"sts:AssumeRole\" for Datadog's principal in an Allow statement (Principal, not NotPrincipal) "
        "and remove any Deny of it.",
    ),
    CheckSpec(
        "trust_external_id_missing",
        Severity.HIGH,
        "The trust policy lets Datadog assume the role without an external id",
        "Add \"Condition\": {\"StringEquals\": {\"sts:ExternalId\": \"<id Datadog shows>\"}} to the statement "
        "trusting Datadog.",
    ),
    CheckSpec(
        "trust_external_id_loose",
        Severity.MEDIUM,
        "The trust policy's external id condition is loose or has conditions Datadog cannot meet",
        "Keep exactly one StringEquals sts:ExternalId condition holding the id Datadog shows; remove wildcards, "
        "stale ids, IfExists operators and network/organization/tag conditions.",
    ),
    CheckSpec(
        "trust_external_id_mismatch",
        Severity.HIGH,
        "The trust policy's external id differs from the one Datadog uses",
        "Copy the external id Datadog shows for this account into the sts:ExternalId condition.",
    ),
    CheckSpec(
        "external_id_not_compared",
        Severity.INFO,
        "The external id could not be compared with Datadog's",
        "Configure an expected-values source: [datadog] expected_values = \"csv\" with expected_values_csv, "
        "or \"datadog_api\" with DD_API_KEY and DD_APP_KEY.",
    ),
    CheckSpec(
        "role_permissions_missing",
        Severity.MEDIUM,
        "The Datadog role's policies do not allow actions Datadog calls",
        "Attach Datadog's current DatadogAWSIntegrationPolicy to the role (or add the listed actions).",
    ),
    CheckSpec(
        "role_permissions_unverified",
        Severity.LOW,
        "The Datadog role's permissions could not be fully checked",
        "Let the audit role read the role's managed policies (iam:GetPolicy, iam:GetPolicyVersion).",
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
        evidence=_bounded(evidence),
    )


MAX_EVIDENCE = 4000


def _bounded(evidence: str) -> str:
    """Evidence is for a person reading one row: a pathological document is cut, and says so."""
    if len(evidence) <= MAX_EVIDENCE:
        return evidence
    return evidence[:MAX_EVIDENCE] + f" ... [{len(evidence) - MAX_EVIDENCE} more characters not shown]"
