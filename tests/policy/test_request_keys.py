"""The table of what Datadog's requests carry (request_keys.py), key by key, against AWS's documentation.

EXPECTED is written from the IAM User Guide's "AWS global condition context keys" (each key's
Availability) and the facts about Datadog in DESIGN.md, apart from the table: a key moved to another
class in one place and not the other fails here. The requests built by requests.py must say of each
key what the table says.
"""

from __future__ import annotations

import pytest

from auditor.policy import request_keys as keys
from auditor.policy.context import Presence

from .builders import ACCT, ORG, OU_PROD, ROOT, assume, probe, role

P, PU, A, U = Presence.PRESENT, Presence.PRESENT_UNKNOWN_VALUE, Presence.ABSENT, Presence.UNKNOWN

# Every global condition key AWS documents, and the class it has in (probe, assume role).
EXPECTED: dict[str, tuple[Presence, Presence]] = {
    # the principal
    "aws:PrincipalArn": (P, PU), "aws:PrincipalAccount": (P, P), "aws:PrincipalOrgID": (P, A),
    "aws:PrincipalOrgPaths": (P, A), "aws:PrincipalType": (P, PU), "aws:userid": (PU, PU), "aws:username": (A, A),
    "aws:PrincipalIsAWSService": (P, P), "aws:PrincipalServiceName": (A, A), "aws:PrincipalServiceNamesList": (A, A),
    # the session
    "aws:MultiFactorAuthPresent": (P, P), "aws:MultiFactorAuthAge": (A, A), "aws:TokenIssueTime": (PU, PU),
    "aws:SourceIdentity": (A, A), "aws:FederatedProvider": (A, U), "aws:AssumedRoot": (A, A),
    "aws:ChatbotSourceArn": (A, A), "aws:Ec2InstanceSourceVpc": (A, U), "aws:Ec2InstanceSourcePrivateIPv4": (A, U),
    # the network
    "aws:SourceIp": (U, U), "aws:SourceVpc": (U, U), "aws:SourceVpcArn": (U, U), "aws:SourceVpce": (U, U),
    "aws:VpcSourceIp": (U, U), "aws:VpceAccount": (U, U), "aws:VpceOrgID": (U, U), "aws:VpceOrgPaths": (U, U),
    # the resource
    "aws:ResourceAccount": (P, P), "aws:ResourceOrgID": (P, P), "aws:ResourceOrgPaths": (P, P),
    # the request
    "aws:TagKeys": (A, A), "aws:CalledVia": (A, A), "aws:CalledViaFirst": (A, A), "aws:CalledViaLast": (A, A),
    "aws:CalledViaAWSMCP": (A, A), "aws:ViaAWSService": (P, P), "aws:ViaAWSMCPService": (U, U),
    "aws:IsMcpServiceAction": (U, U), "aws:SourceAccount": (A, A), "aws:SourceArn": (A, A),
    "aws:SourceOrgID": (A, A), "aws:SourceOrgPaths": (A, A), "aws:RequestedRegion": (P, P),
    "aws:SecureTransport": (P, P), "aws:CurrentTime": (PU, PU), "aws:EpochTime": (PU, PU), "aws:referer": (A, A),
    "aws:UserAgent": (PU, PU),
}
FAMILIES = {"aws:PrincipalTag/": (P, None), "aws:ResourceTag/": (A, P), "aws:RequestTag/": (A, A)}
ASSUME_SERVICE_KEYS = {"sts:ExternalId": PU, "sts:RoleSessionName": PU, "sts:SourceIdentity": A,
                       "sts:TransitiveTagKeys": A, "sts:RequestContext": A, "sts:RequestContextProviders": A}
FIXED_VALUES = {"aws:SecureTransport": "true", "aws:ViaAWSService": "false", "aws:PrincipalIsAWSService": "false",
                "aws:MultiFactorAuthPresent": "false"}


def table(side: int) -> keys.KeyTable:
    return (keys.PROBE, keys.ASSUME)[side]


@pytest.mark.parametrize("key", sorted(EXPECTED))
@pytest.mark.parametrize("side", [0, 1], ids=["probe", "assume_role"])
def test_every_documented_global_key_is_in_its_class(key: str, side: int) -> None:
    fact = table(side).fact(key)
    assert fact is not None, f"{key} is not in the table"
    assert fact.presence is EXPECTED[key][side]
    assert len(fact.why) > 20


def test_the_tables_name_no_key_the_expectations_do_not() -> None:
    named = {*EXPECTED, *FAMILIES, *ASSUME_SERVICE_KEYS, "ec2:Region", "ec2:SourceInstanceArn", "ec2:RoleDelivery"}
    for t in (keys.PROBE, keys.ASSUME):
        assert {f.key for f in t.facts} <= named
        assert len({f.key.lower() for f in t.facts}) == len(t.facts)  # one row per key


@pytest.mark.parametrize(("key", "expected"), sorted(ASSUME_SERVICE_KEYS.items()))
def test_service_keys_of_sts_assume_role(key: str, expected: Presence) -> None:
    fact = keys.ASSUME.fact(key)
    assert fact is not None and fact.presence is expected


def req(side: int, tags=(("team", "a"),)):
    facts = role(tags=tags)
    if side == 0:
        return probe("cloudwatch:GetMetricData", "eu-west-1", facts=facts)
    return assume("eu-west-1", facts=facts)


@pytest.mark.parametrize("key", sorted(EXPECTED))
@pytest.mark.parametrize("side", [0, 1], ids=["probe", "assume_role"])
def test_the_built_requests_say_what_the_table_says(key: str, side: int) -> None:
    look = req(side).context.lookup(key.lower())
    assert look.presence is EXPECTED[key][side]
    if key in FIXED_VALUES:
        assert look.values == (FIXED_VALUES[key],)
    fact = table(side).fact(key)
    assert fact is not None and req(side).context.why(key.lower()) == fact.why
    if look.presence is U:
        assert look.values == fact.maybe  # what an unknown key holds if it is there (absent or false)


def test_per_request_values_are_the_requests_own() -> None:
    p = probe("ec2:DescribeInstances", "eu-west-1", facts=role(tags=[("team", "a")])).context
    path = f"{ORG}/{ROOT}/{OU_PROD}/"
    assert p.lookup("aws:requestedregion").values == ("eu-west-1",)
    assert p.lookup("aws:principalarn").values == (f"arn:aws:iam::{ACCT}:role/DatadogIntegrationRole",)
    assert p.lookup("aws:principalorgpaths").values == (path,) and p.lookup("aws:resourceorgpaths").values == (path,)
    assert p.lookup("aws:resourceaccount").values == (ACCT,) and p.lookup("ec2:region").values == ("eu-west-1",)
    assert p.lookup("aws:principaltag/team").values == ("a",)
    assert p.lookup("aws:principaltag/env").presence is A  # a tag the role does not have
    a = assume("eu-west-1", facts=role(tags=[("team", "a")])).context
    assert a.lookup("aws:principalaccount").values == ("464622532012",)
    assert a.lookup("aws:resourcetag/team").values == ("a",) and a.lookup("aws:resourcetag/env").presence is A
    assert a.lookup("aws:principaltag/team").presence is U  # Datadog's own role's tags are not published


def test_a_key_the_table_does_not_know_stays_unknown() -> None:
    for side in (0, 1):
        ctx = req(side).context
        for key in ("s3:prefix", "kms:viaservice", "aws:somefuturekey", "iam:resourcetag/team"):
            assert ctx.lookup(key).presence is U
            assert "not in the auditor's table" in ctx.why(key)


def test_actions_aws_lists_without_resource_keys_have_them_absent() -> None:
    for action in ("events:ListRules", "ec2:CopySnapshot", "ebs:ListSnapshotBlocks"):
        ctx = probe(action, "eu-west-1").context
        for key in ("aws:resourceaccount", "aws:resourceorgid", "aws:resourceorgpaths"):
            assert ctx.lookup(key).presence is A, (action, key)


def test_without_a_datadog_account_the_principal_account_is_present_but_unseen() -> None:
    from auditor.model import Inventory
    from auditor.policy.requests import assume_role_request

    from .builders import account

    a = account()
    inv = Inventory(ORG, "999999999999", "aws-cn", (), (), (a,), ())
    ctx = assume_role_request(inv, a, role(), "cn-north-1", None).context
    assert ctx.lookup("aws:principalaccount").presence is PU
    assert "has none in this partition" in ctx.why("aws:principalaccount")
