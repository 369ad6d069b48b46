"""The Organizations walk runs independent calls at once, yet reads the same inventory."""

from __future__ import annotations

import io
import json
import threading
import time
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError
from moto import mock_aws

from auditor.aws.gateway import AwsGateway
from auditor.aws.organization import InventoryReader, collect_inventory
from auditor.config import RunConfig
from auditor.model import RCP, SCP

DENY = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "s3:*", "Resource": "*"}]})


def build(session: boto3.Session, tops: int = 3, kids: int = 3, accounts: int = 25, policies: int = 6) -> None:
    org = session.client("organizations")
    org.create_organization(FeatureSet="ALL")
    root = org.list_roots()["Roots"][0]["Id"]
    for ptype in (SCP, RCP):
        org.enable_policy_type(RootId=root, PolicyType=ptype)
    ous = []
    for t in range(tops):
        top = org.create_organizational_unit(ParentId=root, Name=f"T{t}")["OrganizationalUnit"]["Id"]
        ous.append(top)
        ous += [org.create_organizational_unit(ParentId=top, Name=f"K{t}{k}")["OrganizationalUnit"]["Id"]
                for k in range(kids)]
    for i in range(accounts):
        acct = org.create_account(AccountName=f"a{i}", Email=f"a{i}@example.com")["CreateAccountStatus"]["AccountId"]
        org.move_account(AccountId=acct, SourceParentId=root, DestinationParentId=ous[i % len(ous)])
    for p in range(policies):
        ptype = SCP if p % 2 else RCP
        content = DENY if ptype == SCP else json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*"}]})
        pid = org.create_policy(Content=content, Description="d", Name=f"p{p}", Type=ptype)["Policy"][
            "PolicySummary"]["Id"]
        org.attach_policy(PolicyId=pid, TargetId=ous[p % len(ous)])


class InFlight:
    """Counts Organizations requests on the wire at the same time (each held a little)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.now = self.most = 0

    def __call__(self, **_: Any) -> None:
        with self.lock:
            self.now += 1
            self.most = max(self.most, self.now)
        time.sleep(0.005)  # long enough for calls issued together to overlap
        with self.lock:
            self.now -= 1


@pytest.fixture
def session():
    with mock_aws():
        yield boto3.Session(region_name="us-east-1")


def test_independent_organizations_calls_overlap(session):
    build(session)
    inflight = InFlight()
    session.events.register("before-send.organizations", inflight)
    inv = collect_inventory(AwsGateway(RunConfig(), session))
    assert inflight.most > 1
    assert len(inv.accounts) == 26


def test_the_walk_reads_the_same_inventory_every_time_in_breadth_first_order(session):
    build(session)
    first = collect_inventory(AwsGateway(RunConfig(), session))
    second = collect_inventory(AwsGateway(RunConfig(), session))
    assert first == second
    depth = [u.path.count("/") for u in first.units]
    assert depth == sorted(depth)  # breadth first: the root, then top-level OUs, then their children
    seen = {u.id for u in first.units}
    assert all(u.parent_id in seen or u.parent_id == "" for u in first.units)
    position = {u.id: i for i, u in enumerate(first.units)}
    order = [position[a.parent_id] for a in first.accounts]
    assert order == sorted(order)  # accounts grouped by their unit, in the units' order
    assert [p.type for p in first.policies] == sorted((p.type for p in first.policies), key=[SCP, RCP].index)


def test_every_account_and_policy_target_is_kept(session):
    build(session, accounts=45)
    inv = collect_inventory(AwsGateway(RunConfig(), session))
    ids = [a.id for a in inv.accounts]
    assert len(ids) == len(set(ids)) == 46
    full = next(p for p in inv.policies if p.name == "FullAWSAccess")
    assert set(ids) <= set(full.targets)  # attached to every account, read in full
    units = {u.id: u for u in inv.units}
    for a in inv.accounts:
        assert a.chain[-1] == a.id and a.chain[-2] == a.parent_id
        assert units[a.parent_id].path == a.ou_path


def _denied(request, **_: Any) -> AWSResponse:
    body = json.dumps({"__type": "AccessDeniedException", "Message": "injected"}).encode()
    raw = io.BytesIO(body)
    raw.stream = lambda **__: iter([body])  # type: ignore[attr-defined]
    return AWSResponse(request.url, 400, {"content-type": "application/x-amz-json-1.1"}, raw)


def test_a_failing_call_stops_the_walk_with_its_error(session):
    build(session)
    session.events.register_first("before-send.organizations.ListTargetsForPolicy", _denied)
    with pytest.raises(ClientError) as err:
        collect_inventory(AwsGateway(RunConfig(), session))
    assert err.value.response["Error"]["Code"] == "AccessDeniedException"


def test_structure_is_ready_before_the_policies_are_read(session):
    build(session)
    gate = threading.Event()
    # Hold every ListTargetsForPolicy until the structure has been handed out.
    session.events.register("before-send.organizations.ListTargetsForPolicy", lambda **_: gate.wait(10) and None)
    reader = InventoryReader(AwsGateway(RunConfig(), session))
    structure = reader.structure()
    assert not gate.is_set()
    assert len(structure.accounts) == 26 and structure.policies == ()
    gate.set()
    inventory = reader.inventory()
    assert inventory.accounts == structure.accounts and inventory.units == structure.units
    assert {"FullAWSAccess", "RCPFullAWSAccess"} <= {p.name for p in inventory.policies}


def test_a_policy_error_after_the_structure_surfaces_in_the_inventory(session):
    build(session)
    gate = threading.Event()

    def held_then_denied(request, **kwargs: Any) -> AWSResponse:
        gate.wait(10)
        return _denied(request, **kwargs)

    session.events.register_first("before-send.organizations.ListTargetsForPolicy", held_then_denied)
    reader = InventoryReader(AwsGateway(RunConfig(), session))
    assert len(reader.structure().accounts) == 26
    gate.set()
    with pytest.raises(ClientError):
        reader.inventory()


def test_the_tree_is_not_held_up_by_more_policy_calls_than_there_are_threads(session):
    from auditor.aws.organization import ORGANIZATIONS_CONCURRENCY, POLICIES

    threads = ORGANIZATIONS_CONCURRENCY[POLICIES]
    build(session, policies=threads + 4)  # 2 calls per policy: more than the policies' threads
    gate = threading.Event()
    for op in ("ListTargetsForPolicy", "DescribePolicy"):
        session.events.register(f"before-send.organizations.{op}", lambda **_: gate.wait(30) and None)
    reader = InventoryReader(AwsGateway(RunConfig(), session))
    got: list[Any] = []
    waiter = threading.Thread(target=lambda: got.append(reader.structure()), daemon=True)
    waiter.start()
    waiter.join(10)
    released_by_gate = gate.is_set()
    gate.set()
    assert got and not released_by_gate, "the tree waited for the policies' calls"
    assert len(got[0].accounts) == 26
    assert len(reader.inventory().policies) == threads + 4 + 2
