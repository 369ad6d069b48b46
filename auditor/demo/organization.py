"""The embedded demo organization: a realistic org in moto, audited by the real pipeline.

`auditor demo` builds it in memory and runs exactly the code path of `auditor run`. The
organization has the problems the tool exists to find, each in a known account:

Root
├── Security        healthy accounts
├── Prod
│   ├── Payments    AWS's documented "deny outside the EU" SCP (eu-central-1, eu-west-1)
│   └── Web         healthy, one account with a stale external id in Datadog, one that has
│                   not enabled ap-east-1 (an audited opt-in region: not applicable there)
├── Dev             Control Tower's region deny control (us-east-1, us-west-2)
├── Sandbox         the data-perimeter RCP: denies Datadog's sts:AssumeRole everywhere
└── Legacy          old role name, wrong principal, wildcard trust, missing role, ...
plus a suspended account and one whose audit role was deleted (cannot be assumed).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from typing import Any

import boto3

from auditor.facts.sites import DEFAULT_ROLE_NAME, LEGACY_ROLE_NAME, datadog_principal

# ap-east-1 needs an opt-in: every demo account has enabled it but one (web-prod).
DEMO_OPT_IN_REGION = "ap-east-1"
DEMO_REGIONS = (
    "us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "eu-north-1",
    "ap-southeast-1", "ap-northeast-1", "sa-east-1", DEMO_OPT_IN_REGION,
)
DEMO_SITE = "datadoghq.com"
DATADOG_ACCOUNT = datadog_principal(DEMO_SITE, "aws").account_id
AUDIT_ROLE = "OrganizationAccountAccessRole"

# The entries of Datadog's standard permission list (GET /api/v2/integration/aws/iam_permissions/standard,
# as Datadog's documentation publishes it), for the demo's role policy and the tests' Datadog double.
DATADOG_STANDARD_PERMISSIONS: tuple[str, ...] = (
    "apigateway:GET", "autoscaling:Describe*", "backup:List*", "batch:DescribeJobQueues", "batch:ListJobs",
    "budgets:ViewBudget", "cloudfront:GetDistributionConfig", "cloudfront:ListDistributions",
    "cloudtrail:DescribeTrails", "cloudtrail:GetTrailStatus", "cloudtrail:LookupEvents", "cloudwatch:Describe*",
    "cloudwatch:Get*", "cloudwatch:List*", "codedeploy:BatchGet*", "codedeploy:List*", "directconnect:Describe*",
    "dynamodb:Describe*", "dynamodb:List*", "ec2:Describe*", "ecs:Describe*", "ecs:List*", "elasticache:Describe*",
    "elasticache:List*", "elasticfilesystem:DescribeAccessPoints", "elasticfilesystem:DescribeFileSystems",
    "elasticfilesystem:DescribeTags", "elasticloadbalancing:Describe*", "elasticmapreduce:Describe*",
    "elasticmapreduce:List*", "es:DescribeElasticsearchDomains", "es:ListDomainNames", "es:ListTags",
    "fsx:DescribeFileSystems", "fsx:ListTagsForResource", "health:DescribeAffectedEntities",
    "health:DescribeEventDetails", "health:DescribeEvents", "kinesis:Describe*", "kinesis:List*", "lambda:GetPolicy",
    "lambda:List*", "logs:DeleteSubscriptionFilter", "logs:DescribeLogGroups", "logs:DescribeLogStreams",
    "logs:DescribeSubscriptionFilters", "logs:FilterLogEvents", "logs:PutSubscriptionFilter",
    "logs:TestMetricFilter", "organizations:DescribeOrganization", "rds:Describe*", "rds:List*",
    "redshift:DescribeClusters", "redshift:DescribeLoggingStatus", "route53:List*", "s3:GetBucketLocation",
    "s3:GetBucketLogging", "s3:GetBucketNotification", "s3:GetBucketTagging", "s3:ListAllMyBuckets",
    "s3:PutBucketNotification", "ses:Get*", "sns:List*", "sns:Publish", "sqs:ListQueues",
    "states:DescribeStateMachine", "states:ListStateMachines", "support:DescribeTrustedAdvisor*",
    "support:RefreshTrustedAdvisorCheck", "tag:GetResources", "tag:GetTagKeys", "tag:GetTagValues",
    "xray:BatchGetTraces", "xray:GetTraceSummaries",
)

DATADOG_PERMISSIONS = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": list(DATADOG_STANDARD_PERMISSIONS), "Resource": "*"}],
}


def external_id_for(account_id: str) -> str:
    """A stable, realistic-looking external id per demo account."""
    return hashlib.sha256(f"demo-{account_id}".encode()).hexdigest()[:32]


def trust_policy(principal: str | list[str] | dict[str, Any], external_id: str | None, **extra: Any) -> str:
    statement: dict[str, Any] = {
        "Effect": "Allow",
        "Principal": principal if isinstance(principal, dict) else {"AWS": principal},
        "Action": "sts:AssumeRole",
    }
    if external_id is not None:
        statement["Condition"] = {"StringEquals": {"sts:ExternalId": external_id}}
    statement.update(extra)
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def _shared_policy(name: str) -> str:
    return resources.files("auditor.demo").joinpath("policies", name).read_text(encoding="utf-8")


@dataclass(frozen=True)
class DemoAccount:
    name: str
    ou: str  # path below Root
    problem: str = "healthy"
    status: str = "ACTIVE"
    opted_in: bool = True  # has enabled DEMO_OPT_IN_REGION


# (account name, OU path, planted problem). `scale_accounts` adds healthy accounts.
BASE_ACCOUNTS: tuple[DemoAccount, ...] = (
    DemoAccount("security-tooling", "Security"),
    DemoAccount("log-archive", "Security"),
    DemoAccount("payments-prod", "Prod/Payments"),
    DemoAccount("payments-dr", "Prod/Payments"),
    DemoAccount("ledger-prod", "Prod/Payments", "role_missing"),
    DemoAccount("web-prod", "Prod/Web", opted_in=False),
    DemoAccount("web-cdn", "Prod/Web", "external_id_rotated"),
    DemoAccount("web-api", "Prod/Web", "role_name_space"),
    DemoAccount("dev-alpha", "Dev"),
    DemoAccount("dev-beta", "Dev"),
    DemoAccount("dev-gamma", "Dev", "external_id_missing"),
    DemoAccount("sandbox-ana", "Sandbox"),
    DemoAccount("sandbox-ben", "Sandbox", "perimeter_exempt"),
    DemoAccount("legacy-crm", "Legacy", "legacy_name"),
    DemoAccount("legacy-erp", "Legacy", "wrong_principal"),
    DemoAccount("legacy-bi", "Legacy", "wildcard_principal"),
    DemoAccount("legacy-ftp", "Legacy", "external_id_loose"),
    DemoAccount("legacy-mail", "Legacy", "audit_role_deleted"),
    DemoAccount("legacy-old", "Legacy", "healthy", status="SUSPENDED"),
    DemoAccount("=HYPERLINK(\"http://evil.example\",\"click\")", "Legacy"),
)


def demo_accounts(total: int) -> tuple[DemoAccount, ...]:
    extra = max(0, total - len(BASE_ACCOUNTS))
    ous = ("Security", "Prod/Payments", "Prod/Web", "Dev", "Sandbox")
    return BASE_ACCOUNTS + tuple(DemoAccount(f"workload-{i:03d}", ous[i % len(ous)]) for i in range(extra))


@dataclass(frozen=True)
class DemoOrg:
    management_account_id: str
    accounts: dict[str, DemoAccount]  # by account id
    expected_csv_rows: tuple[tuple[str, str, str], ...]  # what "Datadog holds"


def build_demo_org(session: boto3.Session, total_accounts: int = 30,
                   opted_in: dict[str, set[str]] | None = None) -> DemoOrg:
    """Create the demo organization in whatever AWS `session` reaches (moto in practice).

    `opted_in` (auditor.demo.moto_regions.opted_in_regions' dict) receives the accounts that have
    enabled DEMO_OPT_IN_REGION: all but the one planted without it."""
    org = session.client("organizations", region_name="us-east-1")
    org.create_organization(FeatureSet="ALL")
    root_id = org.list_roots()["Roots"][0]["Id"]
    for ptype in ("SERVICE_CONTROL_POLICY", "RESOURCE_CONTROL_POLICY"):
        org.enable_policy_type(RootId=root_id, PolicyType=ptype)
    ou_ids = _create_ous(org, root_id, {a.ou for a in demo_accounts(total_accounts)} | {"Legacy"})
    _attach(org, "deny-outside-eu", "SERVICE_CONTROL_POLICY",
            _shared_policy("aws-docs-deny-outside-eu.scp.json"), ou_ids["Prod/Payments"])
    _attach(org, "control-tower-region-deny", "SERVICE_CONTROL_POLICY",
            _shared_policy("control-tower-region-deny.scp.json"), ou_ids["Dev"])
    _attach(org, "data-perimeter-identity", "RESOURCE_CONTROL_POLICY",
            _shared_policy("data-perimeter-identity.rcp.json"), ou_ids["Sandbox"])
    mgmt = org.describe_organization()["Organization"]["MasterAccountId"]
    accounts: dict[str, DemoAccount] = {}
    expected: list[tuple[str, str, str]] = []
    for spec in demo_accounts(total_accounts):
        email = f"{hashlib.md5(spec.name.encode()).hexdigest()[:10]}@example.com"
        acct_id = org.create_account(AccountName=spec.name, Email=email)["CreateAccountStatus"]["AccountId"]
        org.move_account(AccountId=acct_id, SourceParentId=root_id, DestinationParentId=ou_ids[spec.ou])
        accounts[acct_id] = spec
        expected.append(_plant(session, acct_id, spec))
    expected.append(_plant_in_management(session, mgmt))
    _suspend(session, org, accounts)
    if opted_in is not None:
        for acct_id in [mgmt, *(a for a, spec in accounts.items() if spec.opted_in)]:
            opted_in.setdefault(acct_id, set()).add(DEMO_OPT_IN_REGION)
    return DemoOrg(mgmt, accounts, tuple(expected))


def _create_ous(org: Any, root_id: str, paths: set[str]) -> dict[str, str]:
    ids: dict[str, str] = {}
    for path in sorted(paths, key=lambda p: p.count("/")):
        parts = path.split("/")
        for depth in range(1, len(parts) + 1):
            sub = "/".join(parts[:depth])
            if sub not in ids:
                parent = ids["/".join(parts[: depth - 1])] if depth > 1 else root_id
                ids[sub] = org.create_organizational_unit(ParentId=parent, Name=parts[depth - 1])[
                    "OrganizationalUnit"]["Id"]
    return ids


def _attach(org: Any, name: str, ptype: str, content: str, target: str) -> None:
    pid = org.create_policy(Content=content, Description=f"demo: {name}", Name=name, Type=ptype)["Policy"][
        "PolicySummary"]["Id"]
    org.attach_policy(PolicyId=pid, TargetId=target)


def _member_session(session: boto3.Session, account_id: str) -> boto3.Session:
    creds = session.client("sts", region_name="us-east-1").assume_role(
        RoleArn=f"arn:aws:iam::{account_id}:role/{AUDIT_ROLE}", RoleSessionName="demo-setup"
    )["Credentials"]
    return boto3.Session(
        aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"], region_name="us-east-1",
    )


def _plant(session: boto3.Session, account_id: str, spec: DemoAccount) -> tuple[str, str, str]:
    """Create the Datadog role in the account with its planted problem; return Datadog's view."""
    iam = _member_session(session, account_id).client("iam")
    ext = external_id_for(account_id)
    dd_root = f"arn:aws:iam::{DATADOG_ACCOUNT}:root"
    name, datadog_name, datadog_ext = DEFAULT_ROLE_NAME, DEFAULT_ROLE_NAME, ext
    trust = trust_policy(dd_root, ext)
    tags: list[dict[str, str]] = []
    p = spec.problem
    if p == "external_id_rotated":
        datadog_ext = external_id_for(account_id + "-rotated")
    elif p == "role_name_space":
        datadog_name = DEFAULT_ROLE_NAME + " "
    elif p == "external_id_missing":
        trust = trust_policy(dd_root, None)
    elif p == "perimeter_exempt":
        tags = [{"Key": "dp:exclude:identity", "Value": "true"}]
    elif p == "legacy_name":
        name = LEGACY_ROLE_NAME
    elif p == "wrong_principal":
        trust = trust_policy(f"arn:aws:iam::{datadog_principal('ap1.datadoghq.com', 'aws').account_id}:root", ext)
    elif p == "wildcard_principal":
        trust = trust_policy("*", ext)
    elif p == "external_id_loose":
        trust = json.dumps({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"AWS": dd_root}, "Action": "sts:AssumeRole",
            "Condition": {"StringLike": {"sts:ExternalId": [ext[:8] + "*", "0123456789abcdef"]}}}]})
    if p != "role_missing":
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust, Tags=tags,
                        Description="Datadog AWS integration (demo)")
        iam.put_role_policy(RoleName=name, PolicyName="DatadogAWSIntegrationPolicy",
                            PolicyDocument=json.dumps(DATADOG_PERMISSIONS))
        # moto does not ship AWS-managed policies (SecurityAudit) unless told to load all of
        # them in every account, which would make the demo slow: it is left out here.
    if p == "audit_role_deleted":
        for pol in iam.list_attached_role_policies(RoleName=AUDIT_ROLE)["AttachedPolicies"]:
            iam.detach_role_policy(RoleName=AUDIT_ROLE, PolicyArn=pol["PolicyArn"])
        for pname in iam.list_role_policies(RoleName=AUDIT_ROLE)["PolicyNames"]:
            iam.delete_role_policy(RoleName=AUDIT_ROLE, PolicyName=pname)
        iam.delete_role(RoleName=AUDIT_ROLE)
    return (account_id, datadog_name, datadog_ext)


def _plant_in_management(session: boto3.Session, account_id: str) -> tuple[str, str, str]:
    iam = session.client("iam", region_name="us-east-1")
    ext = external_id_for(account_id)
    iam.create_role(RoleName=DEFAULT_ROLE_NAME,
                    AssumeRolePolicyDocument=trust_policy(f"arn:aws:iam::{DATADOG_ACCOUNT}:root", ext))
    iam.put_role_policy(RoleName=DEFAULT_ROLE_NAME, PolicyName="DatadogAWSIntegrationPolicy",
                        PolicyDocument=json.dumps(DATADOG_PERMISSIONS))
    return (account_id, DEFAULT_ROLE_NAME, ext)


def _suspend(session: boto3.Session, org: Any, accounts: dict[str, DemoAccount]) -> None:
    """moto has no API to suspend an account: set the state the way AWS reports it."""
    from moto.organizations.models import organizations_backends

    suspended = {a for a, spec in accounts.items() if spec.status != "ACTIVE"}
    if not suspended:
        return
    mgmt = org.describe_organization()["Organization"]["MasterAccountId"]
    for backend in _backends(organizations_backends, mgmt):
        for acct in backend.accounts:
            if acct.id in suspended:
                acct.status = "SUSPENDED"
                if hasattr(acct, "state"):
                    acct.state = "SUSPENDED"


def _backends(backends: Any, account: str) -> Iterator[Any]:
    yield from backends[account].values()
