"""The region matrix on small hand-made organizations: verdicts, findings, exclusions, caching."""

from __future__ import annotations

import json

from auditor.config import DEFAULT_PROBE_ACTIONS
from auditor.model import RCP, SCP, AccountError, AccountSnapshot, Status, Verdict
from auditor.policy.document import parse_policy
from auditor.policy.engine import account_agnostic
from auditor.policy.matrix import evaluate_regions

from .builders import (
    CONTROL_TOWER,
    MGMT,
    OU_PAY,
    OU_PROD,
    PERIMETER,
    ROLE,
    ROOT,
    account,
    doc,
    full_access_everywhere,
    inventory,
    judged,
    policy,
    real,
    snapshot,
    stmt,
)

REGIONS = ("us-east-1", "eu-west-1", "us-west-2", "ap-south-1")
A1, A2, A3 = "111111111111", "222222222222", "333333333333"


def run(inv, snaps, *, actions=DEFAULT_PROBE_ACTIONS, exclude_partial=True, regions=REGIONS):
    return judged(evaluate_regions(inv, snaps, regions=regions, probe_actions=actions, site="datadoghq.com",
                                   role_name=ROLE, exclude_partial=exclude_partial), inv)


def verdicts(analysis, account_id):
    return {v.region: v for v in analysis.verdicts if v.account_id == account_id}


def checks(analysis, account_id):
    return {f.check: f for f in analysis.findings if f.account_id == account_id}


def control_tower_org():
    prod, other = account(A1, ous=(OU_PROD,)), account(A2, ous=(OU_PAY,))
    accts = [prod, other]
    ct = policy("p-ct", SCP, real(CONTROL_TOWER), [OU_PROD], "CT region deny")
    return inventory(accts, [full_access_everywhere(accts), ct]), {a.id: snapshot(a.id) for a in accts}


def test_control_tower_gives_partial_regions_and_an_scp_finding() -> None:
    inv, snaps = control_tower_org()
    result = run(inv, snaps)
    v = verdicts(result, A1)
    assert v["us-east-1"].verdict is Verdict.ALLOWED and v["us-west-2"].verdict is Verdict.ALLOWED
    for region in ("eu-west-1", "ap-south-1"):
        assert v[region].verdict is Verdict.PARTIAL
        assert set(v[region].denied_actions) == set(DEFAULT_PROBE_ACTIONS) - {"tag:GetResources"}
        assert v[region].deciding_policies == ("p-ct",)
    f = checks(result, A1)["scp_region_denied"]
    assert f.status is Status.FAIL and "eu-west-1" in f.detail and "ap-south-1" in f.detail
    assert "p-ct (CT region deny)" in f.detail
    assert "org_policies_allow" not in checks(result, A1)


def test_account_without_denials_gets_the_pass_finding_and_an_empty_exclusion() -> None:
    inv, snaps = control_tower_org()
    result = run(inv, snaps)
    assert {v.verdict for v in verdicts(result, A2).values()} == {Verdict.ALLOWED}
    assert checks(result, A2)["org_policies_allow"].status is Status.PASS
    ex = {e.account_id: e for e in result.exclusions}
    assert ex[A2].exclude == () and ex[A2].include_only == REGIONS


def test_every_probe_denied_makes_the_region_denied() -> None:
    inv, snaps = control_tower_org()
    result = run(inv, snaps, actions=("cloudwatch:GetMetricData", "ec2:DescribeInstances"))
    assert verdicts(result, A1)["eu-west-1"].verdict is Verdict.DENIED


def test_exclusions_follow_exclude_partial_and_keep_region_order() -> None:
    inv, snaps = control_tower_org()
    with_partial = {e.account_id: e for e in run(inv, snaps).exclusions}[A1]
    assert with_partial.exclude == ("eu-west-1", "ap-south-1")
    assert with_partial.include_only == ("us-east-1", "us-west-2")
    without = {e.account_id: e for e in run(inv, snaps, exclude_partial=False).exclusions}[A1]
    assert without.exclude == () and without.include_only == REGIONS


def perimeter_org():
    accts = [account(A1), account(A2)]
    rcp = policy("p-dp", RCP, real(PERIMETER), [ROOT], "Data perimeter")
    snaps = {A1: snapshot(A1), A2: snapshot(A2, tags=[("dp:exclude:identity", "true")])}
    return inventory(accts, [full_access_everywhere(accts), rcp]), snaps


def test_rcp_denying_assume_role_denies_every_region() -> None:
    inv, snaps = perimeter_org()
    result = run(inv, snaps)
    for v in verdicts(result, A1).values():
        assert v.verdict is Verdict.DENIED and v.denied_actions == ("sts:AssumeRole",)
        assert v.deciding_policies == ("p-dp",)
    f = checks(result, A1)["rcp_assume_role_denied"]
    assert f.status is Status.FAIL and all(r in f.detail for r in REGIONS)
    assert {e.account_id: e for e in result.exclusions}[A1].include_only == ()
    assert {v.verdict for v in verdicts(result, A2).values()} == {Verdict.ALLOWED}
    assert "org_policies_allow" in checks(result, A2)


def test_unaudited_accounts_are_not_applicable_without_findings_or_exclusions() -> None:
    accts = [account(A1), account(A2, status="SUSPENDED"), account(A3)]
    inv = inventory(accts, [full_access_everywhere(accts)])
    snaps = {A1: AccountSnapshot(A1, None, error=AccountError("assume_role", "AccessDenied", "no")),
             A2: snapshot(A2)}
    result = run(inv, snaps)
    for acct in (A1, A2, A3):
        assert {v.verdict for v in verdicts(result, acct).values()} == {Verdict.NOT_APPLICABLE}
        assert checks(result, acct) == {}
    assert result.exclusions == ()
    assert "AccessDenied" in verdicts(result, A1)["us-east-1"].reason
    assert "SUSPENDED" in verdicts(result, A2)["us-east-1"].reason


def test_missing_role_is_evaluated_under_the_configured_name_and_said_so() -> None:
    accts = [account(A1)]
    inv = inventory(accts, [full_access_everywhere(accts)])
    result = run(inv, {A1: AccountSnapshot(A1, None)})
    v = verdicts(result, A1)["us-east-1"]
    assert v.verdict is Verdict.ALLOWED
    assert f"arn:aws:iam::{A1}:role/{ROLE}" in v.reason and "not found" in v.reason


def test_management_account_and_service_linked_role_are_exempt() -> None:
    mgmt, member = account(MGMT, ous=()), account(A1)
    accts = [mgmt, member]
    deny_all = policy("p-deny", SCP, doc(stmt("Deny")), [ROOT])
    rcp = policy("p-dp", RCP, real(PERIMETER), [ROOT])
    inv = inventory(accts, [full_access_everywhere(accts), deny_all, rcp])
    result = run(inv, {MGMT: snapshot(MGMT), A1: snapshot(A1, path="/aws-service-role/")})
    assert {v.verdict for v in verdicts(result, MGMT).values()} == {Verdict.ALLOWED}
    assert "management account" in verdicts(result, MGMT)["us-east-1"].reason
    assert {v.verdict for v in verdicts(result, A1).values()} == {Verdict.ALLOWED}
    assert "service-linked" in verdicts(result, A1)["us-east-1"].reason


def test_policies_of_a_type_not_enabled_have_no_effect() -> None:
    accts = [account(A1)]
    ct = policy("p-ct", SCP, real(CONTROL_TOWER), [OU_PROD])
    inv = inventory(accts, [ct], types=(RCP,))  # not even FullAWSAccess: SCPs are off
    assert {v.verdict for v in run(inv, {A1: snapshot(A1)}).verdicts} == {Verdict.ALLOWED}


def test_unknown_key_gives_indeterminate_regions_and_a_finding() -> None:
    accts = [account(A1)]
    vpn = policy("p-vpn", SCP, doc(stmt("Deny", "cloudwatch:*", Condition={
        "NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"},
        "StringNotEquals": {"aws:RequestedRegion": "us-east-1"}})), [ROOT], "VPN only")
    inv = inventory(accts, [full_access_everywhere(accts), vpn])
    result = run(inv, {A1: snapshot(A1)}, actions=("cloudwatch:GetMetricData",))
    v = verdicts(result, A1)
    assert v["us-east-1"].verdict is Verdict.ALLOWED  # the region decides, whatever the IP
    assert v["eu-west-1"].verdict is Verdict.INDETERMINATE
    assert v["eu-west-1"].unknown_keys == ("aws:SourceIp",)
    f = checks(result, A1)["region_indeterminate"]
    assert "aws:SourceIp" in f.detail and "eu-west-1" in f.detail and "us-east-1" not in f.detail.split(";")[0]
    assert "org_policies_allow" in checks(result, A1)  # nothing is denied
    assert {e.account_id: e for e in result.exclusions}[A1].exclude == ()


def test_partial_stays_partial_when_other_actions_are_undecided() -> None:
    accts = [account(A1)]
    pol = policy("p-mixed", SCP, doc(stmt("Deny", "cloudwatch:*"),
                                     stmt("Deny", "ec2:*", Condition={"IpAddress": {"aws:SourceIp": "1.2.3.4"}})),
                 [ROOT])
    inv = inventory(accts, [full_access_everywhere(accts), pol])
    result = run(inv, {A1: snapshot(A1)}, actions=("cloudwatch:ListMetrics", "ec2:DescribeInstances",
                                                   "tag:GetResources"))
    v = verdicts(result, A1)["eu-west-1"]
    assert v.verdict is Verdict.PARTIAL
    assert v.denied_actions == ("cloudwatch:ListMetrics",) and v.unknown_keys == ("aws:SourceIp",)


def test_invalid_policy_is_a_finding_and_the_run_goes_on() -> None:
    accts = [account(A1), account(A2, ous=(OU_PAY,))]
    broken = policy("p-broken", SCP, '{"Version": "2012-10-17", "Statement": [{"Effect": "Deny"}]}', [OU_PROD],
                    "Broken")
    inv = inventory(accts, [full_access_everywhere(accts), broken])
    result = run(inv, {A1: snapshot(A1), A2: snapshot(A2)})
    bad = [f for f in result.findings if f.check == "policy_document_invalid"]
    assert len(bad) == 1 and bad[0].account_id == MGMT and bad[0].status is Status.ERROR
    assert "p-broken (Broken)" in bad[0].detail and "statement 0" in bad[0].detail
    assert {v.verdict for v in verdicts(result, A1).values()} == {Verdict.INDETERMINATE}
    assert {v.verdict for v in verdicts(result, A2).values()} == {Verdict.ALLOWED}


def test_thousands_of_accounts_cost_a_handful_of_evaluations() -> None:
    accts = [account(f"5{i:011d}", ous=(OU_PROD,) if i % 2 else (OU_PAY,)) for i in range(400)]
    ct = policy("p-ct", SCP, real(CONTROL_TOWER), [OU_PROD])
    rcp = policy("p-dp", RCP, real(PERIMETER), [ROOT])
    inv = inventory(accts, [full_access_everywhere(accts), ct, rcp])
    result = run(inv, {a.id: snapshot(a.id) for a in accts})
    per_group = len(REGIONS) * (len(DEFAULT_PROBE_ACTIONS) + 1)
    assert result.requests == 400 * per_group
    assert result.evaluations == 2 * per_group  # one group per OU
    # Texts handed out from the cache never name another account: a cell's reason names the
    # deciding policy and statement (`explain` gives each account its own full trace).
    for a in accts[:5]:
        v = verdicts(result, a.id)["eu-west-1"]
        assert "EnforceOrgIdentities" in v.reason
        assert all(b.id not in v.reason for b in accts if b is not a)


def test_a_policy_naming_one_account_is_evaluated_per_account() -> None:
    accts = [account(A1), account(A2), account(A3)]
    exempt_a2 = policy("p-exempt", SCP, doc(stmt("Deny", "cloudwatch:*", Condition={
        "ArnNotLike": {"aws:PrincipalArn": f"arn:aws:iam::{A2}:role/*"}})), [OU_PROD])
    inv = inventory(accts, [full_access_everywhere(accts), exempt_a2])
    result = run(inv, {a.id: snapshot(a.id) for a in accts}, actions=("cloudwatch:GetMetricData",))
    assert {v.verdict for v in verdicts(result, A1).values()} == {Verdict.DENIED}
    assert {v.verdict for v in verdicts(result, A2).values()} == {Verdict.ALLOWED}
    assert {v.verdict for v in verdicts(result, A3).values()} == {Verdict.DENIED}


def _agnostic(statement: dict, kind: str = "SCP") -> bool:
    return account_agnostic(parse_policy(json.dumps(doc(statement))), kind)


def test_account_agnostic_tells_policies_that_can_tell_accounts_apart() -> None:
    assert _agnostic(json.loads(real(CONTROL_TOWER))["Statement"][0])
    assert _agnostic(stmt(Condition={"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/x-1"}}))
    assert not _agnostic(stmt(Condition={"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::1*:role/x"}}))
    assert not _agnostic(stmt(Condition={"StringEquals": {"aws:PrincipalAccount": A1}}))
    assert _agnostic(stmt(Condition={"StringEquals": {"aws:PrincipalAccount": A1}}), "RCP")
    assert not _agnostic(stmt(Condition={"StringEquals": {"aws:ResourceAccount": A1}}), "RCP")
    assert not _agnostic(stmt(Condition={"StringEquals": {"aws:ResourceAccount": "${aws:PrincipalAccount}"}}))
    assert not _agnostic({"Effect": "Deny", "Action": "*", "Resource": f"arn:aws:ec2:*:{A1}:*"})
    assert _agnostic(stmt(Condition={"StringEquals": {"aws:RequestedRegion": "eu-west-1"}}))
