"""One IAM client per worker thread, credentials per account: fast, and never mixed up."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor

import boto3
import pytest
from botocore.exceptions import NoCredentialsError
from moto import mock_aws

from auditor.aws.account import AuditRole, ManagedPolicyCache, read_account
from auditor.aws.gateway import AwsGateway, ForbiddenOperation
from auditor.config import RunConfig
from auditor.demo.moto_trust import enforce_role_trust

AUDIT_ROLE = AuditRole("OrganizationAccountAccessRole", "/", "", "datadog-auditor")
DATADOG_ROLE = "DatadogIntegrationRole"
POLICY = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "ec2:Describe*",
                                                             "Resource": "*"}]})


def _trust(marker: str) -> str:
    # Each account's trust policy names the account: whatever is read proves whose role it was.
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::464622532012:root"}, "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"sts:ExternalId": marker}}}]})


def build_org(session: boto3.Session, members: int) -> tuple[str, list[str]]:
    org = session.client("organizations")
    org.create_organization(FeatureSet="ALL")
    ids = [org.create_account(AccountName=f"m{i}", Email=f"m{i}@example.com")["CreateAccountStatus"]["AccountId"]
           for i in range(members)]
    for acct in ids:
        creds = session.client("sts").assume_role(
            RoleArn=f"arn:aws:iam::{acct}:role/{AUDIT_ROLE.name}", RoleSessionName="setup")["Credentials"]
        iam = boto3.Session(aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                            aws_session_token=creds["SessionToken"], region_name="us-east-1").client("iam")
        iam.create_role(RoleName=DATADOG_ROLE, AssumeRolePolicyDocument=_trust(f"ext-{acct}"),
                        Tags=[{"Key": "owner", "Value": acct}])
        iam.put_role_policy(RoleName=DATADOG_ROLE, PolicyName="DatadogAWSIntegrationPolicy", PolicyDocument=POLICY)
    mgmt = org.describe_organization()["Organization"]["MasterAccountId"]
    iam = session.client("iam")
    iam.create_role(RoleName=DATADOG_ROLE, AssumeRolePolicyDocument=_trust(f"ext-{mgmt}"),
                    Tags=[{"Key": "owner", "Value": mgmt}])
    iam.put_role_policy(RoleName=DATADOG_ROLE, PolicyName="DatadogAWSIntegrationPolicy", PolicyDocument=POLICY)
    return mgmt, ids


@pytest.fixture
def session():
    with mock_aws(), enforce_role_trust():
        yield boto3.Session(region_name="us-east-1")


def read(gw: AwsGateway, sts, account: str, mgmt: str, cache: ManagedPolicyCache):
    return read_account(gw, sts, account, "aws", audit_role=AUDIT_ROLE, datadog_role_name=DATADOG_ROLE,
                        use_caller_credentials=account == mgmt, managed_cache=cache)


def test_concurrent_accounts_each_read_with_their_own_credentials(session):
    mgmt, members = build_org(session, 8)
    gw = AwsGateway(RunConfig(workers=3), session)
    sts, cache = gw.client("sts"), ManagedPolicyCache()
    accounts = [mgmt, *members] * 2  # every thread moves from account to account, twice over
    with ThreadPoolExecutor(max_workers=3) as pool:
        snaps = list(pool.map(lambda a: read(gw, sts, a, mgmt, cache), accounts))
    for account, snap in zip(accounts, snaps, strict=True):
        assert snap.error is None, snap.error
        assert snap.role is not None
        # moto answers with the account the signing keys belong to: another account's keys
        # would show another account's ARN, tag and external id.
        assert snap.role.arn == f"arn:aws:iam::{account}:role/{DATADOG_ROLE}"
        assert dict(snap.role.tags)["owner"] == account
        assert f"ext-{account}" in snap.role.trust_policy


def test_each_worker_thread_builds_its_iam_client_once(session, monkeypatch):
    mgmt, members = build_org(session, 6)
    gw = AwsGateway(RunConfig(workers=2), session)
    sts, cache = gw.client("sts"), ManagedPolicyCache()
    built: list[str] = []
    real_client = AwsGateway.client

    def counting_client(self, service, credentials=None, region=None):
        built.append(f"{service}@{threading.current_thread().name}")
        return real_client(self, service, credentials, region)

    monkeypatch.setattr(AwsGateway, "client", counting_client)
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="w") as pool:
        snaps = list(pool.map(lambda a: read(gw, sts, a, mgmt, cache), members))
    assert all(s.role is not None for s in snaps)
    iam_clients = [b for b in built if b.startswith("iam@")]
    assert len(iam_clients) == len(set(iam_clients)) <= 2  # one per thread, not one per account
    assert len(members) > 2


def test_role_with_one_inline_policy_costs_six_calls_and_five_in_the_callers_account(session):
    # 5 sequential (AssumeRole and 4 IAM reads) + ec2:DescribeRegions, the region opt-in status.
    mgmt, members = build_org(session, 2)
    gw = AwsGateway(RunConfig(), session)
    sts, cache = gw.client("sts"), ManagedPolicyCache()
    assert read(gw, sts, members[0], mgmt, cache).api_calls == 6
    assert read(gw, sts, mgmt, mgmt, cache).api_calls == 5  # no AssumeRole into the caller's own account


def test_the_shared_opt_in_client_refuses_to_sign_outside_an_account_block(session):
    build_org(session, 1)
    gw = AwsGateway(RunConfig(), session)
    with pytest.raises(NoCredentialsError):
        gw.shared_account_client("ec2").describe_regions(AllRegions=True)


def test_account_client_refuses_to_sign_outside_an_account_block(session):
    build_org(session, 1)
    gw = AwsGateway(RunConfig(), session)
    iam = gw.account_client("iam")
    with pytest.raises(NoCredentialsError):
        iam.get_role(RoleName=DATADOG_ROLE)  # never falls back to the caller's own keys


def test_credentials_end_with_the_account_block(session):
    mgmt, members = build_org(session, 1)
    gw = AwsGateway(RunConfig(), session)
    sts, cache = gw.client("sts"), ManagedPolicyCache()
    assert read(gw, sts, members[0], mgmt, cache).error is None
    with pytest.raises(NoCredentialsError):
        gw.account_client("iam").get_role(RoleName=DATADOG_ROLE)


def test_account_clients_stay_read_only(session):
    build_org(session, 1)
    gw = AwsGateway(RunConfig(), session)
    with gw.act_as(None), pytest.raises(ForbiddenOperation):
        gw.account_client("iam").delete_role(RoleName=DATADOG_ROLE)
    assert session.client("iam").get_role(RoleName=DATADOG_ROLE)["Role"]["RoleName"] == DATADOG_ROLE


def test_calls_are_counted_per_account_block_and_in_total(session):
    build_org(session, 1)
    gw = AwsGateway(RunConfig(), session)
    with gw.act_as(None) as first:
        gw.account_client("iam").get_role(RoleName=DATADOG_ROLE)
    with gw.act_as(None) as second:
        iam = gw.account_client("iam")
        iam.get_role(RoleName=DATADOG_ROLE)
        iam.list_role_policies(RoleName=DATADOG_ROLE)
    assert (first.calls, second.calls) == (1, 2)
    assert gw.api_calls()["iam.GetRole"] == 2
