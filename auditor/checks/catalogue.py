"""The check catalogue: one table, one entry per stable check id, with its subject, severity,
title and fix.

Reports and other tools key on these ids (`CheckId`'s values); renaming one is a breaking change
(README). Every finding is made through `finding()`, so the table is the only source of a check's
severity, title and remediation, and reports ask it (`spec_of`) what a check is about instead of
reading its name.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

from auditor.model import Account, Finding, Severity, Status


class Subject(StrEnum):
    """What a check judges."""

    RUN = "run"  # whether the auditor itself could do its job in an account
    ROLE = "role"  # the Datadog role: present, named as Datadog holds it, permissions
    TRUST = "trust"  # the role's trust policy: principal, action, external id
    REGION = "region"  # the organization's SCPs and RCPs, region by region
    DATADOG = "datadog"  # what Datadog holds for the account (read from the Datadog API)


class CheckId(StrEnum):
    """The stable check ids (the `check` column). A StrEnum: a member is the id's string."""

    AUDIT_ROLE_UNASSUMABLE = "audit_role_unassumable"
    ACCOUNT_READ_ERROR = "account_read_error"
    ANALYSIS_ERROR = "analysis_error"
    ROLE_MISSING = "role_missing"
    ROLE_PRESENT = "role_present"
    DATADOG_ACCESS_KEYS = "datadog_access_keys"
    ROLE_NAME_MISMATCH = "role_name_mismatch"
    TRUST_POLICY_INVALID = "trust_policy_invalid"
    TRUST_PRINCIPAL_WRONG_ACCOUNT = "trust_principal_wrong_account"
    TRUST_PRINCIPAL_NOT_ROOT = "trust_principal_not_root"
    TRUST_PRINCIPAL_WILDCARD = "trust_principal_wildcard"
    TRUST_PRINCIPAL_EXTRA = "trust_principal_extra"
    TRUST_ACTION_MISSING = "trust_action_missing"
    TRUST_EXTERNAL_ID_MISSING = "trust_external_id_missing"
    TRUST_EXTERNAL_ID_LOOSE = "trust_external_id_loose"
    TRUST_EXTERNAL_ID_MISMATCH = "trust_external_id_mismatch"
    EXTERNAL_ID_NOT_COMPARED = "external_id_not_compared"
    ROLE_PERMISSIONS_MISSING = "role_permissions_missing"
    ROLE_PERMISSIONS_UNVERIFIED = "role_permissions_unverified"
    DATADOG_ACCOUNT_NOT_IN_ORG = "datadog_account_not_in_org"
    DATADOG_ACCOUNT_MISSING = "datadog_account_missing"
    DATADOG_REGIONS_INCLUDE_DENIED = "datadog_regions_include_denied"
    DATADOG_PARTITION_MISMATCH = "datadog_partition_mismatch"
    DATADOG_ACCOUNT_DUPLICATED = "datadog_account_duplicated"
    DATADOG_API_ERROR = "datadog_api_error"
    SCP_REGION_DENIED = "scp_region_denied"
    RCP_ASSUME_ROLE_DENIED = "rcp_assume_role_denied"
    ORG_POLICIES_ALLOW = "org_policies_allow"
    REGION_INDETERMINATE = "region_indeterminate"
    POLICY_DOCUMENT_INVALID = "policy_document_invalid"


@dataclass(frozen=True)
class CheckSpec:
    id: CheckId
    subject: Subject
    severity: Severity
    title: str
    remediation: str


_SPECS: tuple[CheckSpec, ...] = (
    CheckSpec(
        CheckId.AUDIT_ROLE_UNASSUMABLE,
        Subject.RUN,
        Severity.HIGH,
        "The auditor could not assume its audit role in this account",
        "Deploy the audit role (config/audit-role.stackset.yaml) in this account and make its "
        "trust policy allow the management (or delegated-admin) account; check SCPs on sts:AssumeRole.",
    ),
    CheckSpec(
        CheckId.ACCOUNT_READ_ERROR,
        Subject.RUN,
        Severity.HIGH,
        "The auditor could not read the Datadog role in this account",
        "Grant the audit role the read-only IAM permissions in config/audit-role-policy.json.",
    ),
    CheckSpec(
        CheckId.ANALYSIS_ERROR,
        Subject.RUN,
        Severity.HIGH,
        "The auditor could not finish analysing this account",
        "The detail says why: a stop request or the run deadline ([run] run_timeout_seconds) during the "
        "analysis (run again, or raise the deadline), or a document the auditor could not read (fix it, "
        "or report the detail: every other account was audited).",
    ),
    CheckSpec(
        CheckId.ROLE_MISSING,
        Subject.ROLE,
        Severity.HIGH,
        "The Datadog integration role does not exist",
        "Create the role with Datadog's CloudFormation template, or give Datadog the name of the "
        "role that exists (see role_name_mismatch).",
    ),
    CheckSpec(
        CheckId.ROLE_PRESENT,
        Subject.ROLE,
        Severity.INFO,
        "The Datadog integration role is present and healthy",
        "Nothing to do.",
    ),
    CheckSpec(
        CheckId.DATADOG_ACCESS_KEYS,
        Subject.DATADOG,
        Severity.INFO,
        "Datadog reaches this account with an IAM user's access keys, not a role",
        "Datadog recommends a role: set up the account with Datadog's CloudFormation template (role and "
        "external id), then delete the IAM user's access keys. Until then keep the user's keys rotated.",
    ),
    CheckSpec(
        CheckId.ROLE_NAME_MISMATCH,
        Subject.ROLE,
        Severity.HIGH,
        "The role name Datadog was given differs from the IAM role's name",
        "Give Datadog the role's exact name (with its path, without spaces or invisible characters), "
        "or rename the role to the name Datadog holds.",
    ),
    CheckSpec(
        CheckId.TRUST_POLICY_INVALID,
        Subject.TRUST,
        Severity.HIGH,
        "The Datadog role's trust policy cannot be read",
        "Replace the trust policy with Datadog's documented one (Allow sts:AssumeRole to Datadog's account "
        "with a StringEquals sts:ExternalId condition).",
    ),
    CheckSpec(
        CheckId.TRUST_PRINCIPAL_WRONG_ACCOUNT,
        Subject.TRUST,
        Severity.HIGH,
        "The trust policy does not trust Datadog's account for the configured site and partition",
        "Set the trust policy's Principal to {\"AWS\": \"arn:<partition>:iam::<Datadog account>:root\"} for "
        "your Datadog site (the detail names the exact ARN).",
    ),
    CheckSpec(
        CheckId.TRUST_PRINCIPAL_NOT_ROOT,
        Subject.TRUST,
        Severity.MEDIUM,
        "The trust policy names a role or user in Datadog's account instead of the account",
        "Name Datadog's account root (arn:<partition>:iam::<Datadog account>:root) as the documented principal.",
    ),
    CheckSpec(
        CheckId.TRUST_PRINCIPAL_WILDCARD,
        Subject.TRUST,
        Severity.CRITICAL,
        "Any AWS principal may assume the Datadog role",
        "Replace \"*\" (or the NotPrincipal) with Datadog's account principal at once.",
    ),
    CheckSpec(
        CheckId.TRUST_PRINCIPAL_EXTRA,
        Subject.TRUST,
        Severity.MEDIUM,
        "Principals other than Datadog may assume the Datadog role",
        "Remove every principal except Datadog's account from the trust policy; give other users their own role.",
    ),
    CheckSpec(
        CheckId.TRUST_ACTION_MISSING,
        Subject.TRUST,
        Severity.HIGH,
        "The trust policy does not allow Datadog to call sts:AssumeRole",
        "Allow \"sts:AssumeRole\" for Datadog's principal in an Allow statement (Principal, not NotPrincipal) "
        "and remove any Deny of it.",
    ),
    CheckSpec(
        CheckId.TRUST_EXTERNAL_ID_MISSING,
        Subject.TRUST,
        Severity.HIGH,
        "The trust policy lets Datadog assume the role without an external id",
        "Add \"Condition\": {\"StringEquals\": {\"sts:ExternalId\": \"<id Datadog shows>\"}} to the statement "
        "trusting Datadog.",
    ),
    CheckSpec(
        CheckId.TRUST_EXTERNAL_ID_LOOSE,
        Subject.TRUST,
        Severity.MEDIUM,
        "The trust policy's external id condition is loose or has conditions Datadog cannot meet",
        "Keep exactly one StringEquals sts:ExternalId condition holding the id Datadog shows; remove wildcards, "
        "stale ids, IfExists operators and network/organization/tag conditions.",
    ),
    CheckSpec(
        CheckId.TRUST_EXTERNAL_ID_MISMATCH,
        Subject.TRUST,
        Severity.HIGH,
        "The trust policy's external id differs from the one Datadog uses",
        "Copy the external id Datadog shows for this account into the sts:ExternalId condition.",
    ),
    CheckSpec(
        CheckId.EXTERNAL_ID_NOT_COMPARED,
        Subject.TRUST,
        Severity.INFO,
        "The external id could not be compared with Datadog's",
        "Configure an expected-values source: [datadog] expected_values = \"csv\" with expected_values_csv, "
        "or \"datadog_api\" with DD_API_KEY and DD_APP_KEY.",
    ),
    CheckSpec(
        CheckId.ROLE_PERMISSIONS_MISSING,
        Subject.ROLE,
        Severity.MEDIUM,
        "The Datadog role's policies do not allow actions Datadog calls",
        "Attach Datadog's current DatadogAWSIntegrationPolicy to the role (or add the listed actions).",
    ),
    CheckSpec(
        CheckId.ROLE_PERMISSIONS_UNVERIFIED,
        Subject.ROLE,
        Severity.LOW,
        "The Datadog role's permissions could not be fully checked",
        "Let the audit role read the role's managed policies (iam:GetPolicy, iam:GetPolicyVersion).",
    ),
    CheckSpec(
        CheckId.DATADOG_ACCOUNT_NOT_IN_ORG,
        Subject.DATADOG,
        Severity.LOW,
        "Datadog monitors an AWS account that is not an active member of the organization",
        "If the account was closed or left the organization, delete it from Datadog's AWS integration; "
        "if it belongs to another organization on purpose, audit it there.",
    ),
    CheckSpec(
        CheckId.DATADOG_ACCOUNT_MISSING,
        Subject.DATADOG,
        Severity.INFO,
        "Datadog does not monitor this active account",
        "Add the account to Datadog's AWS integration (CloudFormation StackSet), or ignore this finding "
        "with [datadog] report_unmonitored_accounts = false if it is meant to stay unmonitored.",
    ),
    CheckSpec(
        CheckId.DATADOG_REGIONS_INCLUDE_DENIED,
        Subject.DATADOG,
        Severity.MEDIUM,
        "Datadog collects from regions the organization denies",
        "Set the account's regions in Datadog to the corrected include_only list "
        "(`auditor datadog sync-regions --run DIR --config FILE --apply`).",
    ),
    CheckSpec(
        CheckId.DATADOG_PARTITION_MISMATCH,
        Subject.DATADOG,
        Severity.HIGH,
        "Datadog's AWS partition for the account differs from the organization's",
        "Fix the account's partition in Datadog's AWS integration "
        "(delete the account there and add it again in the right partition).",
    ),
    CheckSpec(
        CheckId.DATADOG_ACCOUNT_DUPLICATED,
        Subject.DATADOG,
        Severity.MEDIUM,
        "Datadog monitors this AWS account in more than one account config",
        "Keep one config for the account in Datadog's AWS integration and delete the others: Datadog collects "
        "the account's metrics once per config, and a region or role change may go to a config it does not "
        "use. Until then sync-regions and datadog_patches.json change none of them.",
    ),
    CheckSpec(
        CheckId.DATADOG_API_ERROR,
        Subject.DATADOG,
        Severity.HIGH,
        "The Datadog API could not be read; Datadog-side checks were skipped",
        "Check DD_API_KEY / DD_APP_KEY, the application key's scopes (aws_configuration_read), "
        "[datadog] site / api_url, and Datadog's status page; the AWS-side audit is complete.",
    ),
    CheckSpec(
        CheckId.SCP_REGION_DENIED,
        Subject.REGION,
        Severity.MEDIUM,
        "Service control policies deny Datadog's calls in some regions",
        "Exclude these regions in Datadog's AWS integration (exclusions.json / datadog_patches.json in the "
        "run folder), or exempt the Datadog role in the deciding SCPs (e.g. ArnNotLike on aws:PrincipalArn). "
        "`auditor explain --run DIR --account ID --region R` shows the statements.",
    ),
    CheckSpec(
        CheckId.RCP_ASSUME_ROLE_DENIED,
        Subject.REGION,
        Severity.HIGH,
        "A resource control policy denies Datadog's sts:AssumeRole on the integration role",
        "Exempt Datadog in the deciding RCP (e.g. a tag on the role that the RCP excludes, such as "
        "dp:exclude:identity=true, or Datadog's account id in aws:PrincipalAccount), or exclude the regions "
        "in Datadog. `auditor explain` shows the statements.",
    ),
    CheckSpec(
        CheckId.ORG_POLICIES_ALLOW,
        Subject.REGION,
        Severity.INFO,
        "Organization policies let Datadog work in every audited region",
        "Nothing to do.",
    ),
    CheckSpec(
        CheckId.REGION_INDETERMINATE,
        Subject.REGION,
        Severity.MEDIUM,
        "Whether organization policies let Datadog work in some regions could not be decided",
        "The deciding conditions use keys the auditor cannot know (named in the detail). Check those "
        "statements by hand with `auditor explain`, or exempt the Datadog role from them.",
    ),
    CheckSpec(
        CheckId.POLICY_DOCUMENT_INVALID,
        Subject.REGION,
        Severity.MEDIUM,
        "An organization policy could not be parsed by the auditor",
        "Fix or report the policy text named in the detail; until then region verdicts that depend on it "
        "are indeterminate (it may allow or deny anything).",
    ),
)

CATALOGUE: Mapping[CheckId, CheckSpec] = MappingProxyType({s.id: s for s in _SPECS})
if list(CATALOGUE) != list(CheckId) or len(CATALOGUE) != len(_SPECS):
    raise AssertionError("the catalogue must list every CheckId exactly once, in the enum's order")

# The checks that compare the trust policy's external id (report columns list the failing ones).
EXTERNAL_ID_CHECKS = frozenset({
    CheckId.TRUST_EXTERNAL_ID_MISSING,
    CheckId.TRUST_EXTERNAL_ID_LOOSE,
    CheckId.TRUST_EXTERNAL_ID_MISMATCH,
    CheckId.EXTERNAL_ID_NOT_COMPARED,
})


def spec_of(check: str) -> CheckSpec | None:
    """The spec of a check id as read from a run folder; None for an id this version does not know
    (a run folder written by another version)."""
    try:
        return CATALOGUE[CheckId(check)]
    except ValueError:
        return None


def subject_of(check: str) -> Subject | None:
    spec = spec_of(check)
    return spec.subject if spec is not None else None


def finding(
    check: CheckId,
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
