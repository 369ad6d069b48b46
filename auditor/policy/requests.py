"""The two requests the region matrix evaluates, with what the auditor knows about each.

1. Each probe action called by the Datadog role session in the account (SCPs decide).
2. Datadog's `sts:AssumeRole` on the role, from Datadog's account outside the organization
   (RCPs decide; SCPs never apply to principals outside the organization).

Keys the auditor knows are given values; keys it knows are absent are listed as absent;
keys it cannot know (source IP, VPC, time, CalledVia, ...) are left unknown, so a condition
on them makes the answer `indeterminate` instead of a guess.
"""

from __future__ import annotations

from dataclasses import dataclass

from auditor.datadog.sites import DatadogPrincipal
from auditor.model import Account, AccountSnapshot, Inventory
from auditor.policy.context import Context, make_context
from auditor.policy.statement import Request, RequestPrincipal, ResourceScope

ASSUME_ROLE = "sts:AssumeRole"
SERVICE_LINKED_PATH = "/aws-service-role/"


@dataclass(frozen=True)
class RoleFacts:
    """The Datadog role as the evaluator needs it."""

    name: str
    path: str
    arn: str
    tags: tuple[tuple[str, str], ...]
    missing: bool = False  # not found in the account: evaluated as <role_name> at path "/"

    @property
    def service_linked(self) -> bool:
        return self.path.startswith(SERVICE_LINKED_PATH)

    @property
    def note(self) -> str:
        if self.missing:
            return f"role not found in the account; evaluated as {self.arn} (path /, no tags)"
        return ""


def role_facts(account: Account, snapshot: AccountSnapshot | None, partition: str, role_name: str) -> RoleFacts:
    role = snapshot.role if snapshot is not None else None
    if role is None:
        return RoleFacts(role_name, "/", f"arn:{partition}:iam::{account.id}:role/{role_name}", (), missing=True)
    return RoleFacts(role.name, role.path or "/", role.arn, tuple(role.tags))


def org_path(inventory: Inventory, account: Account) -> str:
    """aws:PrincipalOrgPaths / aws:ResourceOrgPaths: o-id/r-id/ou-id/.../ (the account's parents)."""
    return "/".join((inventory.organization_id, *account.chain[:-1])) + "/"


def _service(action: str) -> str:
    return action.split(":", 1)[0].lower()


def probe_request(inventory: Inventory, account: Account, role: RoleFacts, region: str, action: str) -> Request:
    """`action` called by the Datadog role session in `region` (list/describe call on "*")."""
    values: dict[str, str] = {
        "aws:RequestedRegion": region,
        "aws:PrincipalArn": role.arn,
        "aws:PrincipalAccount": account.id,
        "aws:PrincipalOrgID": inventory.organization_id,
        "aws:PrincipalOrgPaths": org_path(inventory, account),
        "aws:PrincipalType": "AssumedRole",
        "aws:PrincipalIsAWSService": "false",
        "aws:ViaAWSService": "false",
        "aws:SecureTransport": "true",  # AWS SDKs call over HTTPS only
    }
    for key, value in role.tags:
        values[f"aws:PrincipalTag/{key}"] = value
    if _service(action) == "ec2":
        values["ec2:Region"] = region
    ctx = make_context(
        values,
        absent=(
            "aws:PrincipalServiceName", "aws:PrincipalServiceNamesList", "aws:MultiFactorAuthPresent",
            "aws:MultiFactorAuthAge", "aws:username", "aws:FederatedProvider", "aws:TagKeys",
            "aws:Ec2InstanceSourceVpc", "aws:Ec2InstanceSourcePrivateIPv4",
        ),
        # Tags not on the role are not in the request; list/describe calls carry no request tags.
        absent_prefixes=("aws:PrincipalTag/", "aws:RequestTag/"),
        present_unknown=("aws:userid", "aws:SourceIp", "aws:UserAgent", "aws:CurrentTime", "aws:EpochTime",
                         "aws:TokenIssueTime"),
    )
    return Request(
        action=action,
        resource=ResourceScope(inventory.partition, _service(action), region, account.id),
        principal=RequestPrincipal(account.id, role.arn),
        context=ctx,
    )


def assume_role_request(inventory: Inventory, account: Account, role: RoleFacts, region: str,
                        datadog: DatadogPrincipal | None) -> Request:
    """Datadog's account calling sts:AssumeRole on the role through STS in `region`."""
    values: dict[str, str] = {
        "aws:RequestedRegion": region,
        "aws:PrincipalIsAWSService": "false",
        "aws:ViaAWSService": "false",
        "aws:SecureTransport": "true",
        "aws:ResourceAccount": account.id,
        "aws:ResourceOrgID": inventory.organization_id,
        "aws:ResourceOrgPaths": org_path(inventory, account),
    }
    if datadog is not None:
        values["aws:PrincipalAccount"] = datadog.account_id
    for key, value in role.tags:
        values[f"aws:ResourceTag/{key}"] = value
    present_unknown = ["sts:ExternalId", "sts:RoleSessionName", "aws:PrincipalArn", "aws:PrincipalType",
                       "aws:userid", "aws:SourceIp", "aws:UserAgent", "aws:CurrentTime", "aws:EpochTime",
                       "aws:TokenIssueTime"]
    if datadog is None:
        present_unknown.append("aws:PrincipalAccount")
    ctx: Context = make_context(
        values,
        absent=("aws:PrincipalOrgID", "aws:PrincipalOrgPaths", "aws:PrincipalServiceName",
                "aws:PrincipalServiceNamesList", "aws:MultiFactorAuthPresent", "aws:MultiFactorAuthAge"),
        absent_prefixes=("aws:ResourceTag/",),
        present_unknown=present_unknown,
    )
    return Request(
        action=ASSUME_ROLE,
        resource=role.arn,
        principal=RequestPrincipal(datadog.account_id if datadog else None, None),
        context=ctx,
    )
