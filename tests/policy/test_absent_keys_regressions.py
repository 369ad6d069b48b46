"""Issue #16: the two organizations where keys AWS leaves out of Datadog's requests hid a decision.

1. An RCP perimeter whose author meant to exempt Datadog with aws:SourceAccount: that key is sent
   only when an AWS service principal calls, and aws:PrincipalOrgID only for members of an
   organization, so both are absent from Datadog's sts:AssumeRole, the IfExists block is true and
   the Deny applies: Datadog is denied, not "undecided".
2. SCPs with set operators on aws:CalledVia, which a direct call by the role session never carries:
   ForAllValues is true and ForAnyValue false on it, so the SCPs decide.
"""

from __future__ import annotations

from auditor.checks.catalogue import CheckId
from auditor.checks.regions import matrix_findings
from auditor.config import DEFAULT_PROBE_ACTIONS
from auditor.model import RCP, SCP, Verdict
from auditor.policy.matrix import evaluate_regions

from .builders import (
    ACCT,
    DATADOG_US1,
    ORG,
    OU_PROD,
    ROLE,
    ROOT,
    account,
    doc,
    full_access_everywhere,
    inventory,
    policy,
    snapshot,
    stmt,
)

REGIONS = ("us-east-1", "eu-west-1")

PERIMETER_WITH_SOURCE_ACCOUNT = doc({
    "Sid": "EnforceOrgIdentities",
    "Effect": "Deny",
    "Principal": "*",
    "Action": ["sts:AssumeRole", "s3:*", "kms:*"],
    "Resource": "*",
    "Condition": {
        "StringNotEqualsIfExists": {"aws:PrincipalOrgID": ORG, "aws:SourceAccount": [DATADOG_US1]},
        "Bool": {"aws:PrincipalIsAWSService": "false"},
    },
})


def run(inv, snaps):
    return evaluate_regions(inv, snaps, regions=REGIONS, probe_actions=DEFAULT_PROBE_ACTIONS,
                            site="datadoghq.com", role_name=ROLE, exclude_partial=True)


def test_a_perimeter_exempting_datadog_by_source_account_denies_its_assume_role() -> None:
    acct = account(ACCT, ous=(OU_PROD,))
    inv = inventory([acct], [full_access_everywhere([acct]),
                             policy("p-perimeter", RCP, PERIMETER_WITH_SOURCE_ACCOUNT, [ROOT], "Perimeter")])
    result = run(inv, {ACCT: snapshot(ACCT)})
    for v in result.verdicts:
        assert v.verdict is Verdict.DENIED, v.reason
        assert v.denied_actions[0] == "sts:AssumeRole" and v.unknown_keys == ()
        assert v.deciding_policies == ("p-perimeter",)
    denied = [f for f in matrix_findings(result, inv) if f.check == CheckId.RCP_ASSUME_ROLE_DENIED]
    assert len(denied) == 1 and "us-east-1, eu-west-1" in denied[0].detail


def calledvia_scps() -> list[dict]:
    # ForAllValues on an absent key is true: the Deny applies to ec2 only (its NotAction spares the rest).
    deny_unless_via_cfn = doc(stmt("Deny", "ec2:*", Condition={
        "ForAllValues:StringNotEquals": {"aws:CalledVia": ["cloudformation.amazonaws.com"]}}))
    # ForAnyValue on an absent key is false: this Deny never applies to a direct call.
    deny_via_athena = doc(stmt("Deny", "*", Condition={
        "ForAnyValue:StringEquals": {"aws:CalledVia": ["athena.amazonaws.com"]}}))
    # The negated ForAnyValue is false on an absent key as well.
    deny_any_not_kms = doc(stmt("Deny", "*", Condition={
        "ForAnyValue:StringNotLike": {"aws:CalledVia": ["kms.*"]}}))
    return [deny_unless_via_cfn, deny_via_athena, deny_any_not_kms]


def test_set_operators_on_called_via_decide_the_region() -> None:
    acct = account(ACCT, ous=(OU_PROD,))
    scps = [policy(f"p-cv{i}", SCP, d, [OU_PROD], f"CalledVia {i}") for i, d in enumerate(calledvia_scps())]
    inv = inventory([acct], [full_access_everywhere([acct]), *scps], types=(SCP,))
    result = run(inv, {ACCT: snapshot(ACCT)})
    for v in result.verdicts:
        assert v.verdict is Verdict.PARTIAL, v.reason
        assert v.denied_actions == ("ec2:DescribeInstances",) and v.unknown_keys == ()
        assert v.deciding_policies == ("p-cv0",)


def test_called_via_first_and_last_are_absent_too() -> None:
    acct = account(ACCT, ous=(OU_PROD,))
    scp = doc(stmt("Deny", "*", Condition={"StringNotEqualsIfExists": {"aws:CalledViaFirst": "x"},
                                             "Null": {"aws:CalledViaLast": "true"}}))
    inv = inventory([acct], [full_access_everywhere([acct]), policy("p-first", SCP, scp, [ROOT])], types=(SCP,))
    for v in run(inv, {ACCT: snapshot(ACCT)}).verdicts:
        assert v.verdict is Verdict.DENIED and v.unknown_keys == ()


CONFUSED_DEPUTY = doc({
    "Sid": "EnforceConfusedDeputyProtection", "Effect": "Deny", "Principal": "*",
    "Action": ["s3:*", "sqs:*", "kms:*", "secretsmanager:*", "sts:*"], "Resource": "*",
    "Condition": {"StringNotEqualsIfExists": {"aws:SourceOrgID": ORG, "aws:SourceAccount": ["111111111111"]},
                  "Null": {"aws:SourceAccount": "false"}, "Bool": {"aws:PrincipalIsAWSService": "true"}},
})
RESOURCE_PERIMETER = doc(stmt("Deny", "*", Sid="EnforceResourcePerimeter", Condition={
    "StringNotEqualsIfExists": {"aws:ResourceOrgID": "${aws:PrincipalOrgID}",
                                "aws:PrincipalTag/resource-perimeter-exception": "true"},
    "ForAllValues:StringNotEquals": {"aws:CalledVia": ["dataexchange.amazonaws.com"]}}))
NETWORK_PERIMETER = doc(stmt("Deny", "*", Sid="EnforceNetworkPerimeter", Condition={
    "NotIpAddressIfExists": {"aws:SourceIp": "192.0.2.0/24"},
    "StringNotEqualsIfExists": {"aws:SourceVpc": "vpc-1"},
    "BoolIfExists": {"aws:PrincipalIsAWSService": "false", "aws:ViaAWSService": "false"},
    "ArnNotLikeIfExists": {"aws:PrincipalArn": "arn:aws:iam::*:role/Datadog*"}}))


def test_a_confused_deputy_rcp_never_applies_to_datadog_and_says_so() -> None:
    acct = account(ACCT, ous=(OU_PROD,))
    inv = inventory([acct], [full_access_everywhere([acct]), policy("p-cd", RCP, CONFUSED_DEPUTY, [ROOT])])
    for v in run(inv, {ACCT: snapshot(ACCT)}).verdicts:
        assert v.verdict is Verdict.ALLOWED and v.unknown_keys == (), v.reason


def test_the_resource_perimeter_scp_is_decided_for_every_probe_action() -> None:
    acct = account(ACCT, ous=(OU_PROD,))
    inv = inventory([acct], [full_access_everywhere([acct]), policy("p-rp", SCP, RESOURCE_PERIMETER, [ROOT])],
                    types=(SCP,))
    for v in run(inv, {ACCT: snapshot(ACCT)}).verdicts:
        assert v.verdict is Verdict.ALLOWED and v.unknown_keys == (), v.reason
    # EventBridge actions carry no aws:ResourceOrgID (AWS lists them): there the Deny applies.
    events = evaluate_regions(inv, {ACCT: snapshot(ACCT)}, regions=REGIONS, probe_actions=("events:ListRules",),
                              site="datadoghq.com", role_name=ROLE, exclude_partial=True)
    assert {v.verdict for v in events.verdicts} == {Verdict.DENIED}


def test_a_network_perimeter_stays_undecided_and_names_only_the_network_keys() -> None:
    acct = account(ACCT, ous=(OU_PROD,))
    inv = inventory([acct], [full_access_everywhere([acct]), policy("p-np", SCP, NETWORK_PERIMETER, [ROOT])],
                    types=(SCP,))
    for v in run(inv, {ACCT: snapshot(ACCT)}).verdicts:
        assert v.verdict is Verdict.ALLOWED  # the Datadog role is exempt by its ARN
    other = snapshot(ACCT, name="ObservabilityRole")
    for v in evaluate_regions(inv, {ACCT: other}, regions=REGIONS, probe_actions=DEFAULT_PROBE_ACTIONS,
                              site="datadoghq.com", role_name="ObservabilityRole", exclude_partial=True).verdicts:
        assert v.verdict is Verdict.INDETERMINATE and v.unknown_keys == ("aws:SourceIp", "aws:SourceVpc")
