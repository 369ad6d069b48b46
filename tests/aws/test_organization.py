import json

import boto3
import pytest
from moto import mock_aws

from auditor.aws.gateway import AwsGateway
from auditor.aws.organization import collect_inventory
from auditor.config import RunConfig
from auditor.model import RCP, SCP

DENY = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "s3:*", "Resource": "*"}]})


def build(session: boto3.Session, depth: int, accounts_per_leaf: int, policies: int = 2) -> dict[str, str]:
    """A chain Root/L1/L2/... of `depth` OUs plus a sibling OU, accounts in the deepest OU."""
    org = session.client("organizations")
    org.create_organization(FeatureSet="ALL")
    root = org.list_roots()["Roots"][0]["Id"]
    org.enable_policy_type(RootId=root, PolicyType=SCP)
    org.enable_policy_type(RootId=root, PolicyType=RCP)
    parent, ids = root, {"Root": root}
    path = "Root"
    for level in range(depth):
        ou = org.create_organizational_unit(ParentId=parent, Name=f"L{level}")["OrganizationalUnit"]["Id"]
        path = f"{path}/L{level}"
        ids[path] = parent = ou
    ids["Root/Side"] = org.create_organizational_unit(ParentId=root, Name="Side")["OrganizationalUnit"]["Id"]
    for i in range(accounts_per_leaf):
        acct = org.create_account(AccountName=f"a{i}", Email=f"a{i}@example.com")["CreateAccountStatus"]["AccountId"]
        org.move_account(AccountId=acct, SourceParentId=root, DestinationParentId=parent)
        ids[f"a{i}"] = acct
    for p in range(policies):
        pid = org.create_policy(Content=DENY, Description="d", Name=f"p{p}", Type=SCP)["Policy"]["PolicySummary"]["Id"]
        org.attach_policy(PolicyId=pid, TargetId=parent if p % 2 else ids["a0"])
        ids[f"p{p}"] = pid
    return ids


@pytest.fixture
def session():
    with mock_aws():
        yield boto3.Session(region_name="us-east-1")


def test_inventory_has_paths_chains_and_policy_targets(session):
    ids = build(session, depth=3, accounts_per_leaf=2)
    inv = collect_inventory(AwsGateway(RunConfig(), session))
    assert set(inv.enabled_policy_types) == {SCP, RCP}
    paths = {u.path for u in inv.units}
    assert {"Root", "Root/L0", "Root/L0/L1", "Root/L0/L1/L2", "Root/Side"} <= paths
    a0 = inv.account(ids["a0"])
    assert a0 is not None
    assert a0.ou_path == "Root/L0/L1/L2"
    assert a0.chain == (ids["Root"], ids["Root/L0"], ids["Root/L0/L1"], ids["Root/L0/L1/L2"], ids["a0"])
    mgmt = inv.account(inv.management_account_id)
    assert mgmt is not None and mgmt.ou_path == "Root"
    by_name = {p.name: p for p in inv.policies}
    assert by_name["p0"].targets == (ids["a0"],)
    assert by_name["p1"].targets == (ids["Root/L0/L1/L2"],)
    assert json.loads(by_name["p0"].content)["Statement"][0]["Effect"] == "Deny"
    assert {"FullAWSAccess", "RCPFullAWSAccess"} <= set(by_name)
    assert inv.partition == "aws"


def test_every_account_is_listed_exactly_once(session):
    build(session, depth=2, accounts_per_leaf=7)
    inv = collect_inventory(AwsGateway(RunConfig(), session))
    ids = [a.id for a in inv.accounts]
    assert len(ids) == len(set(ids)) == 8  # 7 members + the management account


def organizations_calls(session, depth, accounts, policies=2) -> dict[str, int]:
    build(session, depth=depth, accounts_per_leaf=accounts, policies=policies)
    gw = AwsGateway(RunConfig(), session)
    collect_inventory(gw)
    return {k: v for k, v in gw.api_calls().items() if k.startswith("organizations.")}


def test_organizations_calls_do_not_grow_with_accounts_times_depth():
    with mock_aws():
        few = organizations_calls(boto3.Session(region_name="us-east-1"), depth=4, accounts=2)
    with mock_aws():
        many = organizations_calls(boto3.Session(region_name="us-east-1"), depth=4, accounts=30)
    # 28 more accounts at depth 4: no extra call per account (moto pages 20 accounts per call,
    # so at most one more ListAccountsForParent page).
    assert many.get("organizations.ListParents", 0) == 0
    assert many.get("organizations.ListPoliciesForTarget", 0) == 0
    diff = sum(many.values()) - sum(few.values())
    assert 0 <= diff <= 2


def test_organizations_calls_grow_with_policies_and_ous():
    with mock_aws():
        base = organizations_calls(boto3.Session(region_name="us-east-1"), depth=2, accounts=3, policies=2)
    with mock_aws():
        more = organizations_calls(boto3.Session(region_name="us-east-1"), depth=2, accounts=3, policies=6)
    # DescribePolicy + ListTargetsForPolicy once per extra policy.
    assert more["organizations.DescribePolicy"] - base["organizations.DescribePolicy"] == 4
    assert more["organizations.ListTargetsForPolicy"] - base["organizations.ListTargetsForPolicy"] == 4
