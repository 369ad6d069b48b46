"""Accounts Datadog reaches with an IAM user's access keys: SCPs still bind the user, whose name is unknown."""

from __future__ import annotations

from auditor.config import DEFAULT_PROBE_ACTIONS
from auditor.model import RCP, SCP, Verdict
from auditor.policy import request_keys as keys
from auditor.policy.matrix import evaluate_regions
from auditor.policy.requests import probe_request, role_facts

from .builders import (
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

A1 = "111111111111"
REGIONS = ("us-east-1", "eu-west-1")
OUTSIDE_US_EXCEPT_DATADOG = doc(stmt("Deny", "*", Resource="*", Condition={
    "StringNotEquals": {"aws:RequestedRegion": ["us-east-1"]},
    "ArnNotLike": {"aws:PrincipalArn": [f"arn:aws:iam::*:role/{ROLE}"]}}))


def _run(policies, *, access_keys: bool):
    acct = account(A1, ous=(OU_PROD,))
    inv = inventory([acct], [full_access_everywhere([acct]), *policies])
    return judged(evaluate_regions(inv, {A1: snapshot(A1)}, regions=REGIONS, probe_actions=DEFAULT_PROBE_ACTIONS,
                                   site="datadoghq.com", role_name=ROLE, exclude_partial=True,
                                   access_key_accounts=[A1] if access_keys else []), inv)


def _verdict(analysis, region):
    return next(v for v in analysis.verdicts if v.region == region)


def test_a_role_exemption_on_the_principal_arn_is_undecided_for_an_unknown_iam_user():
    scp = policy("p-outside", SCP, OUTSIDE_US_EXCEPT_DATADOG, [ROOT])
    assert _verdict(_run([scp], access_keys=False), "eu-west-1").verdict is Verdict.ALLOWED  # the role is exempt
    v = _verdict(_run([scp], access_keys=True), "eu-west-1")
    assert v.verdict is Verdict.INDETERMINATE and v.unknown_keys == ("aws:PrincipalArn",)
    assert "Datadog uses access keys" in v.reason
    assert _verdict(_run([scp], access_keys=True), "us-east-1").verdict is Verdict.ALLOWED


def test_a_region_deny_without_principal_conditions_still_denies_the_iam_user():
    scp = policy("p-eu", SCP, doc(stmt("Deny", "*", Resource="*", Condition={
        "StringNotEquals": {"aws:RequestedRegion": ["us-east-1"]}})), [ROOT])
    found = _run([scp], access_keys=True)
    assert _verdict(found, "eu-west-1").verdict is Verdict.DENIED
    assert [f.check for f in found.findings if f.status.value == "fail"] == ["scp_region_denied"]


def test_principal_type_is_user_and_role_session_only_keys_are_absent():
    scp = policy("p-users", SCP, doc(stmt("Deny", "*", Resource="*", Condition={
        "StringEquals": {"aws:PrincipalType": "User"}, "Null": {"aws:MultiFactorAuthPresent": "true"}})), [ROOT])
    assert _verdict(_run([scp], access_keys=True), "eu-west-1").verdict is Verdict.DENIED
    assert _verdict(_run([scp], access_keys=False), "eu-west-1").verdict is Verdict.ALLOWED
    by_tag = policy("p-tag", SCP, doc(stmt("Deny", "*", Resource="*", Condition={
        "StringNotEquals": {"aws:PrincipalTag/team": "datadog"}})), [ROOT])
    assert _verdict(_run([by_tag], access_keys=True), "eu-west-1").verdict is Verdict.INDETERMINATE


def test_rcps_do_not_apply_datadog_calls_no_assume_role_with_access_keys():
    rcp = policy("p-perimeter", RCP, real(PERIMETER), [ROOT])
    with_role = _run([rcp], access_keys=False)
    assert {f.check for f in with_role.findings} >= {"rcp_assume_role_denied"}
    with_keys = _run([rcp], access_keys=True)
    assert {f.check for f in with_keys.findings} == {"org_policies_allow"}
    assert "calls no sts:AssumeRole" in _verdict(with_keys, "eu-west-1").reason


def test_the_user_table_names_each_principal_key_it_changes():
    user = keys.USER_PROBE
    assert user.fact("aws:PrincipalType").value == "User"
    for key in ("aws:PrincipalArn", "aws:username", "aws:userid"):
        assert user.fact(key).presence is keys.PRESENT_UNKNOWN_VALUE
    for key in ("aws:MultiFactorAuthPresent", "aws:TokenIssueTime", "aws:SourceIdentity"):
        assert user.fact(key).presence is keys.ABSENT
    assert user.fact("aws:PrincipalTag/team").presence is keys.UNKNOWN
    acct = account(A1)
    req = probe_request(inventory([acct], []), acct, role_facts(acct, None, "aws", ROLE, access_keys=True),
                        "eu-west-1", "ec2:DescribeInstances")
    assert req.principal.arn is None and req.context.lookup("aws:principalarn").presence.value == \
        "present, value unknown"
