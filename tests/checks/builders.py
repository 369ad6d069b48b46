"""Plain-data builders for the role checks' tests: a healthy role, and ways to break it."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from auditor.checks.role import role_findings
from auditor.config import DEFAULT_PROBE_ACTIONS
from auditor.model import (
    Account,
    AccountError,
    AccountSnapshot,
    ExpectedValues,
    Finding,
    InlinePolicy,
    ManagedPolicyRef,
    RequiredPermissions,
    RoleCandidate,
    RoleInfo,
    Status,
)

ACCOUNT_ID = "012345678901"
ACCOUNT = Account(
    id=ACCOUNT_ID,
    name="payments-prod",
    email="aws+payments@example.com",
    status="ACTIVE",
    parent_id="ou-ab12-cdef3456",
    ou_path="Root/Prod",
    chain=("r-ab12", "ou-ab12-cdef3456", ACCOUNT_ID),
)
US = "464622532012"
AP1 = "417141415827"
GOV_GOV = "065115117704"  # ddog-gov.com in aws-us-gov
GOV_COMMERCIAL = "392588925713"  # ddog-gov.com in aws
EXTERNAL_ID = "4f1c2e3d5a6b7c8d9e0fa1b2c3d4e5f6"
OTHER_EXTERNAL_ID = "99999999aaaabbbbccccddddeeee0000"
ROLE_NAME = "DatadogIntegrationRole"
SECURITY_AUDIT = "arn:aws:iam::aws:policy/SecurityAudit"

INTEGRATION_POLICY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": [
                    "cloudwatch:Get*",
                    "cloudwatch:List*",
                    "ec2:Describe*",
                    "tag:GetResources",
                    "logs:Describe*",
                    "rds:Describe*",
                    "lambda:List*",
                ],
                "Resource": "*",
            }
        ],
    }
)
AWS_MANAGED = {
    SECURITY_AUDIT: json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": ["iam:Get*", "ec2:Describe*"], "Resource": "*"}],
        }
    )
}


def datadog_statement(
    account: str = US, external_id: str | None = EXTERNAL_ID, partition: str = "aws", **overrides: Any
) -> dict[str, Any]:
    statement: dict[str, Any] = {
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:{partition}:iam::{account}:root"},
        "Action": "sts:AssumeRole",
    }
    if external_id is not None:
        statement["Condition"] = {"StringEquals": {"sts:ExternalId": external_id}}
    statement.update(overrides)
    return {k: v for k, v in statement.items() if v is not None}


def trust(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements or [datadog_statement()])})


def role(
    trust_policy: str | None = None,
    *,
    name: str = ROLE_NAME,
    path: str = "/",
    inline: Sequence[InlinePolicy] = (InlinePolicy("DatadogAWSIntegrationPolicy", INTEGRATION_POLICY),),
    attached: Sequence[ManagedPolicyRef] = (ManagedPolicyRef("SecurityAudit", SECURITY_AUDIT),),
    boundary: str = "",
    partition: str = "aws",
) -> RoleInfo:
    return RoleInfo(
        name=name,
        path=path,
        arn=f"arn:{partition}:iam::{ACCOUNT_ID}:role{path}{name}",
        trust_policy=trust_policy if trust_policy is not None else trust(datadog_statement(partition=partition)),
        tags=(),
        attached_policies=tuple(attached),
        inline_policies=tuple(inline),
        permissions_boundary_arn=boundary,
    )


def candidate(
    name: str,
    trust_policy: str = '{"Statement": {"Effect": "Allow", '
    '"Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}}',
    path: str = "/",
) -> RoleCandidate:
    return RoleCandidate(
        name=name, path=path, arn=f"arn:aws:iam::{ACCOUNT_ID}:role{path}{name}", trust_policy=trust_policy
    )


def snapshot(
    role_info: RoleInfo | None = None,
    *,
    missing: bool = False,
    other_roles: Sequence[RoleCandidate] = (),
    managed: Mapping[str, str] | None = None,
    error: AccountError | None = None,
) -> AccountSnapshot:
    return AccountSnapshot(
        account_id=ACCOUNT_ID,
        role=None if missing else (role_info or role()),
        other_roles=tuple(other_roles),
        managed_policy_documents=tuple((managed or {}).items()),
        error=error,
    )


_DEFAULT: Any = object()


def expected(external_id: str | None = EXTERNAL_ID, role_name: str | None = ROLE_NAME) -> ExpectedValues:
    return ExpectedValues(account_id=ACCOUNT_ID, role_name=role_name, external_id=external_id, source="test")


def run(
    snap: AccountSnapshot | None = None,
    *,
    site: str = "datadoghq.com",
    partition: str = "aws",
    role_name: str = ROLE_NAME,
    expected_values: ExpectedValues | None = _DEFAULT,
    probe_actions: Sequence[str] = DEFAULT_PROBE_ACTIONS,
    aws_managed: Mapping[str, str] = AWS_MANAGED,
    show_external_ids: bool = False,
    required_permissions: RequiredPermissions | None = None,
) -> list[Finding]:
    return role_findings(
        ACCOUNT,
        snap if snap is not None else snapshot(),
        site=site,
        partition=partition,
        role_name=role_name,
        expected=expected() if expected_values is _DEFAULT else expected_values,
        probe_actions=probe_actions,
        aws_managed_documents=aws_managed,
        show_external_ids=show_external_ids,
        required_permissions=required_permissions,
    )


def run_trust(*statements: dict[str, Any], **kwargs: Any) -> list[Finding]:
    partition = kwargs.get("partition", "aws")
    return run(snapshot(role(trust(*statements), partition=partition)), **kwargs)


def failing(findings: Sequence[Finding]) -> set[str]:
    """Ids of the findings that are not passes and not info notes."""
    return {f.check for f in findings if f.status is not Status.PASS and f.severity.value != "info"}


def ids(findings: Sequence[Finding]) -> set[str]:
    return {f.check for f in findings}


def one(findings: Sequence[Finding], check: str) -> Finding:
    matches = [f for f in findings if f.check == check]
    assert len(matches) == 1, f"expected one {check}, got {[f.check for f in findings]}"
    return matches[0]


def assert_no_secret(findings: Sequence[Finding], *secrets: str) -> None:
    for f in findings:
        for secret in secrets or (EXTERNAL_ID, OTHER_EXTERNAL_ID):
            assert secret not in f.detail and secret not in f.evidence, f"{f.check} leaks {secret}"
