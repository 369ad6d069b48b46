"""The role checks of one account: why Datadog can (not) assume its role, as findings.

`role_findings` is what the pipeline calls once per audited account. It is pure: everything it
needs (the snapshot, Datadog's expected values, the AWS-managed policy documents fetched once per
run) comes in as arguments.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

from auditor.checks.audited_role import AuditedRole, RoleCheck
from auditor.checks.catalogue import CheckId, finding
from auditor.checks.context import RoleContext
from auditor.checks.permissions import list_description, permission_findings, probe_permissions, security_audit_note
from auditor.checks.role_name import missing_role_findings, name_findings
from auditor.checks.trust import TRUST_CHECKS
from auditor.model import (
    Account,
    AccountSnapshot,
    ExpectedValues,
    Finding,
    RequiredPermissions,
    RoleInfo,
    Severity,
    Status,
)


def role_findings(
    account: Account,
    snapshot: AccountSnapshot,
    *,
    site: str,
    partition: str,
    role_name: str,
    expected: ExpectedValues | None,
    probe_actions: Sequence[str],
    aws_managed_documents: Mapping[str, str],
    show_external_ids: bool,
    required_permissions: RequiredPermissions | None = None,
) -> list[Finding]:
    """Every role finding of `account`: failures, errors, notes, and `role_present` when healthy.
    `required_permissions`: what the role must allow (Datadog's list); None: the probe actions."""
    out: list[Finding] = []
    if snapshot.error is not None:
        out.append(_error_finding(account, snapshot))
        if snapshot.error.stage == "assume_role" or snapshot.role is None:
            return out + _access_keys(account, expected)  # without the role, "missing" would be a guess
    if expected is not None and expected.uses_access_keys:
        # Datadog never assumes a role here: role, trust and permission checks do not apply.
        return out + _access_keys(account, expected)
    ctx = RoleContext.build(
        account,
        site=site,
        partition=partition,
        role_name=role_name,
        expected=expected,
        show_external_ids=show_external_ids,
    )
    required = required_permissions or probe_permissions(probe_actions)
    audited = AuditedRole.of(
        ctx,
        snapshot.role,
        other_roles=snapshot.other_roles,
        customer_documents=dict(snapshot.managed_policy_documents),
        aws_managed_documents=aws_managed_documents,
        required=required,
    )
    for check in ROLE_CHECKS:
        out.extend(check(audited))
    if snapshot.role is not None and all(f.severity is Severity.INFO or f.status is Status.PASS for f in out):
        out.append(_present(ctx, snapshot.role, expected, required))
    return out


def _permissions(r: AuditedRole) -> list[Finding]:
    if r.role is None:
        return []
    return permission_findings(r.ctx, r.role, customer_documents=r.customer_documents,
                               aws_managed_documents=r.aws_managed_documents, required=r.required)


# Every check of the Datadog role, in the order their findings are reported. Each returns [] where it
# does not apply (role_missing when the role exists, the others when it does not).
ROLE_CHECKS: tuple[RoleCheck, ...] = (missing_role_findings, name_findings, *TRUST_CHECKS, _permissions)


def _access_keys(account: Account, expected: ExpectedValues | None) -> list[Finding]:
    if expected is None or not expected.uses_access_keys:
        return []
    return [finding(
        CheckId.DATADOG_ACCESS_KEYS,
        account,
        Status.FAIL,
        "Datadog reaches this account with an IAM user's access keys (auth_config holds an access key id), not "
        "a role: the role and trust checks do not apply. A role with an external id is Datadog's recommended "
        "setup. The IAM user is not known to the auditor, so SCP conditions on the principal (its ARN, name, "
        "tags) leave regions indeterminate; RCPs do not apply (Datadog calls no sts:AssumeRole here).",
        evidence=json.dumps({"auth": "access_keys", "datadog_config_id": expected.datadog_config_id}),
    )]


def _error_finding(account: Account, snapshot: AccountSnapshot) -> Finding:
    error = snapshot.error
    assert error is not None
    evidence = json.dumps({"stage": error.stage, "code": error.code, "message": error.message})
    if error.stage == "assume_role":
        return finding(
            CheckId.AUDIT_ROLE_UNASSUMABLE,
            account,
            Status.ERROR,
            f"AssumeRole of the audit role failed: {error.code}: {error.message}. The account's Datadog role was "
            "not audited.",
            evidence=evidence,
        )
    return finding(
        CheckId.ACCOUNT_READ_ERROR,
        account,
        Status.ERROR,
        f"Reading the account failed at stage {error.stage!r}: {error.code}: {error.message}. "
        "The checks below it (if any) used only what could be read.",
        evidence=evidence,
    )


def _present(ctx: RoleContext, role: RoleInfo, expected: ExpectedValues | None,
             required: RequiredPermissions) -> Finding:
    arn = role.arn
    principal = ctx.principal.arn if ctx.principal is not None else "Datadog"
    if expected is not None and expected.external_id is not None:
        external_id = f"the external id Datadog shows ({ctx.mask(expected.external_id)})"
    else:
        external_id = "an external id (not compared: no expected values)"
    return finding(
        CheckId.ROLE_PRESENT,
        ctx.account,
        Status.PASS,
        f"{arn} trusts {principal} for sts:AssumeRole with {external_id}, and its policies allow every permission "
        f"of {list_description(required)}."
        + security_audit_note(role),
        evidence=json.dumps({"role_arn": arn}),
    )
