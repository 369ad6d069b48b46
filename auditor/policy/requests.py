"""The two requests the region matrix evaluates, with what the auditor knows about each.

1. Each probe action called by the Datadog role session in the account (SCPs decide).
2. Datadog's `sts:AssumeRole` on the role, from Datadog's account outside the organization
   (RCPs decide; SCPs never apply to principals outside the organization).

Which keys each request carries, with which value, and why, is the table in request_keys.py:
this module fills in the per-request values (region, role, account, organization path, tags).
A key the table leaves unknown makes a condition on it `indeterminate` instead of a guess.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from auditor.facts.sites import DatadogPrincipal
from auditor.model import Account, AccountSnapshot, Inventory
from auditor.policy import request_keys as keys
from auditor.policy.context import Context
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
    # Datadog reaches the account with an IAM user's access keys: the principal is that user, whose name,
    # ARN and tags are not known; Datadog calls no sts:AssumeRole.
    access_keys: bool = False

    @property
    def service_linked(self) -> bool:
        return self.path.startswith(SERVICE_LINKED_PATH)

    @property
    def note(self) -> str:
        if self.access_keys:
            return "Datadog uses access keys here: evaluated as an IAM user of the account whose name is not known"
        if self.missing:
            return f"role not found in the account; evaluated as {self.arn} (path /, no tags)"
        return ""


def role_facts(account: Account, snapshot: AccountSnapshot | None, partition: str, role_name: str, *,
               access_keys: bool = False) -> RoleFacts:
    if access_keys:
        return RoleFacts("(IAM user of Datadog's access keys)", "/", "", (), access_keys=True)
    role = snapshot.role if snapshot is not None else None
    if role is None:
        return RoleFacts(role_name, "/", f"arn:{partition}:iam::{account.id}:role/{role_name}", (), missing=True)
    return RoleFacts(role.name, role.path or "/", role.arn, tuple(role.tags))


def org_path(inventory: Inventory, account: Account) -> str:
    """aws:PrincipalOrgPaths / aws:ResourceOrgPaths: o-id/r-id/ou-id/.../ (the account's parents)."""
    return "/".join((inventory.organization_id, *account.chain[:-1])) + "/"


def _service(action: str) -> str:
    return action.split(":", 1)[0].lower()


# Each request's classes, built once (a request adds its own values).
_PROBE_KEYS = keys.PROBE.context()
_PROBE_KEYS_NO_RESOURCE = replace(_PROBE_KEYS, absent=_PROBE_KEYS.absent | {
    "aws:resourceaccount", "aws:resourceorgid", "aws:resourceorgpaths"})
_USER_KEYS = keys.USER_PROBE.context()
_USER_KEYS_NO_RESOURCE = replace(_USER_KEYS, absent=_USER_KEYS.absent | {
    "aws:resourceaccount", "aws:resourceorgid", "aws:resourceorgpaths"})
_ASSUME_KEYS = keys.ASSUME.context()
_ASSUME_KEYS_NO_DATADOG = keys.ASSUME_NO_DATADOG.context()


def _with_values(known: Context, values: dict[str, str]) -> Context:
    """`known`'s classes and fixed values, with these per-request values (one each, keys in any case)."""
    return replace(known, values={**known.values, **{k.lower(): (v,) for k, v in values.items()}})


def probe_request(inventory: Inventory, account: Account, role: RoleFacts, region: str, action: str) -> Request:
    """`action` called by the Datadog role session (or, with access keys, the IAM user) in `region`
    (list/describe call on "*")."""
    values: dict[str, str] = {
        "aws:RequestedRegion": region,
        "aws:PrincipalAccount": account.id,
        "aws:PrincipalOrgID": inventory.organization_id,
        "aws:PrincipalOrgPaths": org_path(inventory, account),
    }
    if not role.access_keys:
        values["aws:PrincipalArn"] = role.arn
    resource_keys = keys.resource_keys_supported(action)
    if role.access_keys:
        known = _USER_KEYS if resource_keys else _USER_KEYS_NO_RESOURCE
    else:
        known = _PROBE_KEYS if resource_keys else _PROBE_KEYS_NO_RESOURCE
    if resource_keys:
        values.update({"aws:ResourceAccount": account.id, "aws:ResourceOrgID": inventory.organization_id,
                       "aws:ResourceOrgPaths": org_path(inventory, account)})
    for key, value in role.tags:
        values[f"aws:PrincipalTag/{key}"] = value
    if _service(action) == "ec2":
        values["ec2:Region"] = region
    ctx = _with_values(known, values)
    return Request(
        action=action,
        resource=ResourceScope(inventory.partition, _service(action), region, account.id),
        principal=RequestPrincipal(account.id, role.arn or None),
        context=ctx,
    )


def assume_role_request(inventory: Inventory, account: Account, role: RoleFacts, region: str,
                        datadog: DatadogPrincipal | None) -> Request:
    """Datadog's account calling sts:AssumeRole on the role through STS in `region`."""
    values: dict[str, str] = {
        "aws:RequestedRegion": region,
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
