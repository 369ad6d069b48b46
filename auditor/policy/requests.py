"""The two requests the region matrix evaluates, with what the auditor knows about each.

1. Each probe action called by the Datadog role session in the account (SCPs decide).
2. Datadog's `sts:AssumeRole` on the role, from Datadog's account outside the organization
   (RCPs decide; SCPs never apply to principals outside the organization).

Keys the auditor knows are given values; keys it knows are absent are listed as absent;
keys it cannot know (source IP, VPC, time, CalledVia, ...) are left unknown, so a condition
on them makes the answer `indeterminate` instead of a guess.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

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


# What the auditor knows of every probe request's other keys (built once, not per request).
_PROBE_KEYS = make_context(
    {},
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
# The same for Datadog's sts:AssumeRole; without a Datadog account for the partition, the caller's
# account is sent but unknown to us.
_ASSUME_KEYS = make_context(
    {},
    absent=("aws:PrincipalOrgID", "aws:PrincipalOrgPaths", "aws:PrincipalServiceName",
            "aws:PrincipalServiceNamesList", "aws:MultiFactorAuthPresent", "aws:MultiFactorAuthAge"),
    absent_prefixes=("aws:ResourceTag/",),
    present_unknown=("sts:ExternalId", "sts:RoleSessionName", "aws:PrincipalArn", "aws:PrincipalType",
                     "aws:userid", "aws:SourceIp", "aws:UserAgent", "aws:CurrentTime", "aws:EpochTime",
                     "aws:TokenIssueTime"),
)
_ASSUME_KEYS_NO_DATADOG = replace(_ASSUME_KEYS, present_unknown=_ASSUME_KEYS.present_unknown | {"aws:principalaccount"})


def _with_values(known: Context, values: dict[str, str]) -> Context:
    """`known`'s absent and unknown keys, with these known values (one each, keys in any case)."""
    return replace(known, values={k.lower(): (v,) for k, v in values.items()})


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
    ctx = _with_values(_PROBE_KEYS, values)
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
    ctx = _with_values(_ASSUME_KEYS if datadog is not None else _ASSUME_KEYS_NO_DATADOG, values)
    return Request(
        action=ASSUME_ROLE,
        resource=role.arn,
        principal=RequestPrincipal(datadog.account_id if datadog else None, None),
        context=ctx,
    )
