"""Each account's region opt-in status: ec2:DescribeRegions (AllRegions), read once, beside the IAM reads."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from moto import mock_aws

from auditor.aws.account import AuditRole, ManagedPolicyCache, read_account
from auditor.aws.gateway import READ_ONLY_OPERATIONS, AwsGateway
from auditor.aws.lane import SideLane
from auditor.config import RunConfig
from auditor.demo.moto_regions import opted_in_regions
from auditor.demo.moto_trust import enforce_role_trust
from auditor.model import RegionOptIn

AUDIT_ROLE = AuditRole("OrganizationAccountAccessRole", "/", "", "test")
DD_ROLE = "DatadogIntegrationRole"


@pytest.fixture
def org() -> Iterator[tuple[boto3.Session, str, list[str]]]:
    with mock_aws(), enforce_role_trust():
        session = boto3.Session(region_name="us-east-1")
        orgs = session.client("organizations")
        orgs.create_organization(FeatureSet="ALL")
        members = [orgs.create_account(AccountName=f"m{i}", Email=f"m{i}@example.com")["CreateAccountStatus"][
            "AccountId"] for i in range(2)]
        for acct in members:
            c = session.client("sts").assume_role(RoleArn=f"arn:aws:iam::{acct}:role/{AUDIT_ROLE.name}",
                                                  RoleSessionName="setup")["Credentials"]
            iam = boto3.client("iam", region_name="us-east-1", aws_access_key_id=c["AccessKeyId"],
                               aws_secret_access_key=c["SecretAccessKey"], aws_session_token=c["SessionToken"])
            iam.create_role(RoleName=DD_ROLE, AssumeRolePolicyDocument=json.dumps({"Statement": []}))
            iam.put_role_policy(RoleName=DD_ROLE, PolicyName="p", PolicyDocument=json.dumps(
                {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
        mgmt = orgs.describe_organization()["Organization"]["MasterAccountId"]
        yield session, mgmt, members


def _read(gateway: AwsGateway, account: str, lane: SideLane | None, caller: str = "") -> Any:
    return read_account(gateway, gateway.client("sts"), account, "aws", audit_role=AUDIT_ROLE,
                        datadog_role_name=DD_ROLE, use_caller_credentials=account == caller,
                        managed_cache=ManagedPolicyCache(), lane=lane)


def test_describe_regions_is_on_the_read_only_allow_list() -> None:
    assert "ec2.DescribeRegions" in READ_ONLY_OPERATIONS


def test_an_account_that_has_not_opted_in_has_the_opt_in_regions_not_enabled(org) -> None:
    session, _, members = org
    gateway = AwsGateway(RunConfig(), session)
    with opted_in_regions() as opted:
        opted[members[1]] = {"ap-east-1"}
        with SideLane(2) as lane:
            off, on = (_read(gateway, m, lane) for m in members)
    assert off.error is None and off.role is not None
    assert off.region_opt_in == RegionOptIn(not_enabled=off.region_opt_in.not_enabled)
    assert {"ap-east-1", "me-south-1"} <= set(off.region_opt_in.not_enabled)
    assert not {"us-east-1", "eu-west-1"} & set(off.region_opt_in.not_enabled)
    assert "ap-east-1" not in on.region_opt_in.not_enabled and "me-south-1" in on.region_opt_in.not_enabled
    # One read per account: AssumeRole, the 4 IAM reads and DescribeRegions.
    assert off.api_calls == on.api_calls == 6
    assert gateway.api_calls()["ec2.DescribeRegions"] == 2


def test_the_management_account_reads_its_own_status_with_the_callers_credentials(org) -> None:
    session, mgmt, _ = org
    gateway = AwsGateway(RunConfig(), session)
    with SideLane(1) as lane:
        snap = _read(gateway, mgmt, lane, caller=mgmt)
    assert snap.region_opt_in is not None and "ap-east-1" in snap.region_opt_in.not_enabled
    # No AssumeRole; no Datadog role there: GetRole, ListRoles (near misses), DescribeRegions.
    assert snap.role is None and snap.api_calls == 3


def test_the_opt_in_read_runs_while_the_iam_reads_do(org) -> None:
    """The account's critical path stays 5 round trips: DescribeRegions and the IAM reads are in
    flight at the same time (a barrier both must reach; sequential reads would break it)."""
    session, _, members = org
    barrier = threading.Barrier(2, timeout=10)
    met: list[str] = []

    def meet(model: Any, **_: Any) -> None:
        barrier.wait()
        met.append(model.name)

    session.events.register("before-call.ec2.DescribeRegions", meet)
    session.events.register("before-call.iam.GetRole", meet)
    gateway = AwsGateway(RunConfig(), session)
    with SideLane(1) as lane:
        snap = _read(gateway, members[0], lane)
    assert sorted(met) == ["DescribeRegions", "GetRole"]
    assert snap.error is None and snap.region_opt_in is not None and not snap.region_opt_in.error


def _denied(request: Any, **_: Any) -> AWSResponse:
    body = (b"<Response><Errors><Error><Code>UnauthorizedOperation</Code><Message>You are not authorized to "
            b"perform this operation.</Message></Error></Errors><RequestID>x</RequestID></Response>")

    class Raw:
        def stream(self, **_: Any) -> Iterator[bytes]:
            yield body

    return AWSResponse(request.url, 403, {}, Raw())


def test_a_denied_opt_in_read_leaves_the_status_unknown_and_the_account_whole(org) -> None:
    session, _, members = org
    session.events.register_first("before-send.ec2.DescribeRegions", _denied)
    gateway = AwsGateway(RunConfig(max_attempts=2), session)
    with SideLane(1) as lane:
        snap = _read(gateway, members[0], lane)
    assert snap.error is None and snap.role is not None and len(snap.role.inline_policies) == 1
    assert snap.region_opt_in is not None and snap.region_opt_in.not_enabled == ()
    assert snap.region_opt_in.error.startswith("UnauthorizedOperation")


def test_without_a_lane_the_status_is_read_in_the_accounts_own_thread(org) -> None:
    session, _, members = org
    snap = _read(AwsGateway(RunConfig(), session), members[0], None)
    assert snap.region_opt_in is not None and "ap-east-1" in snap.region_opt_in.not_enabled
    assert snap.api_calls == 6


def test_an_account_that_cannot_be_assumed_has_no_opt_in_status(org) -> None:
    session, _, _ = org
    gateway = AwsGateway(RunConfig(max_attempts=1), session)
    with SideLane(1) as lane:
        snap = _read(gateway, "999999999999", lane)
    assert snap.error is not None and snap.error.stage == "assume_role" and snap.region_opt_in is None


def test_moto_answers_the_opt_in_filter_per_account_as_aws_does(org) -> None:
    session, _, members = org
    with opted_in_regions() as opted:
        opted[members[0]] = {"ap-east-1"}
        c = session.client("sts").assume_role(RoleArn=f"arn:aws:iam::{members[0]}:role/{AUDIT_ROLE.name}",
                                              RoleSessionName="tt")["Credentials"]
        ec2 = boto3.client("ec2", region_name="us-east-1", aws_access_key_id=c["AccessKeyId"],
                           aws_secret_access_key=c["SecretAccessKey"], aws_session_token=c["SessionToken"])
        off = ec2.describe_regions(AllRegions=True, Filters=[{"Name": "opt-in-status", "Values": ["not-opted-in"]}])
        everything = ec2.describe_regions(AllRegions=True)
    names = {r["RegionName"] for r in off["Regions"]}
    assert "me-south-1" in names and "ap-east-1" not in names and "us-east-1" not in names
    assert {r["OptInStatus"] for r in off["Regions"]} == {"not-opted-in"}
    assert {r["RegionName"]: r["OptInStatus"] for r in everything["Regions"]}["ap-east-1"] == "opted-in"
