"""Inside one member account: assume the audit role, read the Datadog role.

A typical account costs 6 calls: AssumeRole, GetRole, ListAttachedRolePolicies,
ListRolePolicies, GetRolePolicy (one per inline policy), and ec2:DescribeRegions (its region
opt-in status), which runs beside the IAM reads: the chain that waits stays 5 round trips;
+2 per customer-managed policy attached. ListRoles is paginated only when the role is missing (to find near misses).
AWS-managed policy documents are fetched once per run through `ManagedPolicyCache`.
"""

from __future__ import annotations

import json
import logging
import sys
import threading
import urllib.parse
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, replace
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from auditor.aws.gateway import AwsGateway, Credentials
from auditor.aws.lane import SideLane
from auditor.model import (
    AccountError,
    AccountSnapshot,
    InlinePolicy,
    ManagedPolicyRef,
    RegionOptIn,
    RoleCandidate,
    RoleInfo,
)

log = logging.getLogger("auditor.aws")

NOT_OPTED_IN = "not-opted-in"  # DescribeRegions' OptInStatus of a region the account has not enabled


@dataclass(frozen=True)
class AuditRole:
    name: str
    path: str
    external_id: str
    session_name: str


def _doc_text(doc: Any) -> str:
    """IAM returns documents URL-encoded (decoded by boto3 to a dict): keep them as JSON text."""
    if isinstance(doc, str):
        return urllib.parse.unquote(doc)
    return json.dumps(doc, separators=(",", ":"))


def _error(stage: str, exc: Exception) -> AccountError:
    if isinstance(exc, ClientError):
        err = exc.response.get("Error", {})
        return AccountError(stage, err.get("Code", "ClientError"), err.get("Message", str(exc)))
    return AccountError(stage, type(exc).__name__, str(exc))


class ManagedPolicyCache:
    """AWS-managed policy documents (e.g. SecurityAudit): the same in every account, read once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._futures: dict[str, Future[str | None]] = {}

    def get(self, arn: str, fetch: Callable[[str], str]) -> None:
        with self._lock:
            fut = self._futures.get(arn)
            owner = fut is None
            if owner:
                fut = self._futures[arn] = Future()
        assert fut is not None
        if not owner:
            return
        try:
            fut.set_result(fetch(arn))
        except (ClientError, BotoCoreError) as exc:
            log.warning("could not read AWS-managed policy %s: %s", arn, _error("managed_policy", exc).code)
            fut.set_result(None)

    def documents(self) -> dict[str, str]:
        with self._lock:
            items = list(self._futures.items())
        return {arn: doc for arn, fut in items if fut.done() and (doc := fut.result()) is not None}


def assume(gateway: AwsGateway, sts: Any, account_id: str, partition: str, role: AuditRole) -> Credentials:
    kwargs: dict[str, Any] = {
        "RoleArn": f"arn:{partition}:iam::{account_id}:role{role.path}{role.name}",
        "RoleSessionName": role.session_name,
        "DurationSeconds": 3600,
    }
    if role.external_id:
        kwargs["ExternalId"] = role.external_id
    c = sts.assume_role(**kwargs)["Credentials"]
    return Credentials(c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"])


def read_account(
    gateway: AwsGateway,
    sts: Any,
    account_id: str,
    partition: str,
    *,
    audit_role: AuditRole,
    datadog_role_name: str,
    use_caller_credentials: bool,
    managed_cache: ManagedPolicyCache,
    lane: SideLane | None = None,
) -> AccountSnapshot:
    """Never raises for AWS errors: they become `AccountSnapshot.error`. The region opt-in status is
    read in `lane` while the IAM reads go on (after them, in this thread, without a lane)."""
    try:
        creds = None if use_caller_credentials else assume(gateway, sts, account_id, partition, audit_role)
    except (ClientError, BotoCoreError) as exc:
        return AccountSnapshot(account_id, role=None, error=_error("assume_role", exc), api_calls=1)
    assumed = 0 if use_caller_credentials else 1
    pending = lane.submit(lambda: _opt_in_as(gateway, creds)) if lane is not None else None
    # The thread's own IAM client, signing with this account's credentials for this block only.
    with gateway.act_as(creds) as count:
        snap = _read_iam(gateway.account_client("iam"), account_id, datadog_role_name, partition, managed_cache)
        iam_calls = count.calls
    opt_in, opt_in_calls = pending.result() if pending is not None else _opt_in_as(gateway, creds)
    return replace(snap, api_calls=assumed + iam_calls + opt_in_calls, region_opt_in=opt_in)


def _read_iam(iam: Any, account_id: str, datadog_role_name: str, partition: str,
              managed_cache: ManagedPolicyCache) -> AccountSnapshot:
    stage = "read_role"
    try:
        role = _read_role(iam, datadog_role_name)
        managed_docs: tuple[tuple[str, str], ...] = ()
        others: tuple[RoleCandidate, ...] = ()
        if role is None:
            stage = "list_roles"
            others = _list_roles(iam)
        else:
            stage = "read_policies"
            managed_docs = _managed_documents(iam, role, partition, managed_cache)
    except (ClientError, BotoCoreError) as exc:
        return AccountSnapshot(account_id, role=None, error=_error(stage, exc))
    return AccountSnapshot(account_id, role=role, other_roles=others, managed_policy_documents=managed_docs)


def _opt_in_as(gateway: AwsGateway, creds: Credentials | None) -> tuple[RegionOptIn, int]:
    """The account's region opt-in status, read with its credentials, and the calls that took."""
    with gateway.act_as(creds) as count:
        return read_region_opt_in(gateway.shared_account_client("ec2")), count.calls


def read_region_opt_in(ec2: Any) -> RegionOptIn:
    """Regions the account has not opted into. A failure (AccessDenied: the audit role lacks
    ec2:DescribeRegions; throttling after botocore's retries) leaves the status unknown: never an
    account error, every audited region then counts as enabled.

    Why ec2:DescribeRegions with AllRegions and not account:ListRegions: both answer for the calling
    account with the audit role's session, in one call at today's region count; but DescribeRegions
    is served in every region of every partition (the Account Management API is a global endpoint of
    the commercial partition), is in AWS's SecurityAudit and ViewOnlyAccess policies that audit roles
    often already hold, and moto implements it (it has no account:ListRegions).
    """
    try:
        # Only the regions not opted into: the answer that matters, a tenth of the full list's bytes.
        # The status is checked below too, so an endpoint that ignores the filter gives the same result.
        regions = ec2.describe_regions(AllRegions=True, Filters=[
            {"Name": "opt-in-status", "Values": [NOT_OPTED_IN]}])["Regions"]
    except (ClientError, BotoCoreError) as exc:
        err = _error("region_opt_in", exc)
        return RegionOptIn(error=f"{err.code}: {err.message}"[:300])
    off = sorted(sys.intern(r["RegionName"]) for r in regions if r.get("OptInStatus") == NOT_OPTED_IN)
    return RegionOptIn(not_enabled=tuple(off))


def _read_role(iam: Any, name: str) -> RoleInfo | None:
    try:
        r = iam.get_role(RoleName=name)["Role"]
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "NoSuchEntity":
            return None
        raise
    attached = [
        ManagedPolicyRef(p["PolicyName"], p["PolicyArn"])
        for page in iam.get_paginator("list_attached_role_policies").paginate(RoleName=name)
        for p in page["AttachedPolicies"]
    ]
    inline_names = [
        n for page in iam.get_paginator("list_role_policies").paginate(RoleName=name) for n in page["PolicyNames"]
    ]
    inline = [
        InlinePolicy(n, _doc_text(iam.get_role_policy(RoleName=name, PolicyName=n)["PolicyDocument"]))
        for n in inline_names
    ]
    created = r.get("CreateDate")
    return RoleInfo(
        name=r["RoleName"],
        path=r.get("Path", "/"),
        arn=r["Arn"],
        trust_policy=_doc_text(r.get("AssumeRolePolicyDocument", "")),
        tags=tuple((t["Key"], t["Value"]) for t in r.get("Tags", [])),
        attached_policies=tuple(attached),
        inline_policies=tuple(inline),
        created=created.isoformat() if hasattr(created, "isoformat") else str(created or ""),
        permissions_boundary_arn=r.get("PermissionsBoundary", {}).get("PermissionsBoundaryArn", ""),
    )


def _list_roles(iam: Any) -> tuple[RoleCandidate, ...]:
    return tuple(
        RoleCandidate(r["RoleName"], r.get("Path", "/"), r["Arn"], _doc_text(r.get("AssumeRolePolicyDocument", "")))
        for page in iam.get_paginator("list_roles").paginate()
        for r in page["Roles"]
    )


def _policy_document(iam: Any, arn: str) -> str:
    version = iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
    return _doc_text(iam.get_policy_version(PolicyArn=arn, VersionId=version)["PolicyVersion"]["Document"])


def _managed_documents(
    iam: Any, role: RoleInfo, partition: str, cache: ManagedPolicyCache
) -> tuple[tuple[str, str], ...]:
    """Customer-managed documents per account; AWS-managed ones once per run into `cache`."""
    out = []
    for ref in role.attached_policies:
        if ref.arn.startswith(f"arn:{partition}:iam::aws:policy/"):
            cache.get(ref.arn, lambda arn: _policy_document(iam, arn))
        else:
            out.append((ref.arn, _policy_document(iam, ref.arn)))
    return tuple(out)
