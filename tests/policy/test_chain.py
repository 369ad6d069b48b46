"""Chain semantics: Allow at every level, explicit Deny anywhere, RCPs deny-only, unknowns."""

from __future__ import annotations

from auditor.policy.chain import ALLOWED, DENIED, INDETERMINATE, Attached, evaluate_rcp_chain, evaluate_scp_chain

from .builders import (
    DATADOG_US1,
    FULL_ACCESS,
    OU_PROD,
    assume,
    attached,
    chain,
    doc,
    probe,
    role,
    stmt,
)

FULL = attached("p-FullAWSAccess", FULL_ACCESS, "FullAWSAccess")
METRICS = "cloudwatch:GetMetricData"


def deny(policy_id: str = "p-deny", **kw):
    return attached(policy_id, doc(stmt("Deny", **kw)))


def test_full_access_at_every_level_allows() -> None:
    assert evaluate_scp_chain(chain("SCP", [FULL], [FULL], [FULL]), probe(METRICS, "eu-west-1")).outcome == ALLOWED


def test_missing_full_access_at_one_level_denies_everything_below() -> None:
    decision = evaluate_scp_chain(chain("SCP", [FULL], [], [FULL]), probe(METRICS, "eu-west-1"))
    assert decision.outcome == DENIED
    assert f"no SCP at {OU_PROD} allows {METRICS}" in decision.summary
    assert "no SCP attached" in decision.summary


def test_a_narrow_allow_at_one_level_allows_only_what_it_lists() -> None:
    ec2_only = attached("p-ec2", doc(stmt("Allow", "ec2:*")))
    c = chain("SCP", [FULL], [ec2_only], [FULL])
    assert evaluate_scp_chain(c, probe("ec2:DescribeInstances", "eu-west-1")).outcome == ALLOWED
    denied = evaluate_scp_chain(c, probe(METRICS, "eu-west-1"))
    assert denied.outcome == DENIED and denied.deciding_policies == ("p-ec2",)


def test_explicit_deny_at_any_level_wins() -> None:
    for level in range(3):
        levels = [[FULL], [FULL], [FULL]]
        levels[level] = [FULL, deny(action="cloudwatch:*")]
        decision = evaluate_scp_chain(chain("SCP", *levels), probe(METRICS, "eu-west-1"))
        assert decision.outcome == DENIED, level
        assert decision.deciding_policies == ("p-deny",)


def test_allow_with_condition_and_not_action_full_iam_language() -> None:
    eu_only = attached("p-eu", doc(stmt("Allow", Condition={"StringEquals": {"aws:RequestedRegion": "eu-west-1"}}),
                                   {"Effect": "Allow", "NotAction": "cloudwatch:*", "Resource": "*"}))
    c = chain("SCP", [FULL], [eu_only], [FULL])
    assert evaluate_scp_chain(c, probe(METRICS, "eu-west-1")).outcome == ALLOWED
    assert evaluate_scp_chain(c, probe(METRICS, "us-east-1")).outcome == DENIED
    assert evaluate_scp_chain(c, probe("ec2:DescribeInstances", "us-east-1")).outcome == ALLOWED


def test_deny_with_not_resource_of_another_service_applies_to_the_call() -> None:
    guard = attached("p-nr", doc({"Effect": "Deny", "Action": "*", "NotResource": "arn:aws:s3:::logs-bucket"}))
    assert evaluate_scp_chain(chain("SCP", [FULL, guard], [FULL]), probe(METRICS, "eu-west-1")).outcome == DENIED


def test_resource_scoped_deny_is_undecided_for_list_calls_and_irrelevant_for_other_arns() -> None:
    instances = attached("p-inst", doc({"Effect": "Deny", "Action": "ec2:*", "Resource": "arn:aws:ec2:*:*:instance/*"}))
    decision = evaluate_scp_chain(chain("SCP", [FULL, instances], [FULL]), probe("ec2:DescribeInstances", "eu-west-1"))
    assert decision.outcome == INDETERMINATE and decision.unknown_keys == ("Resource",)
    other_region = attached("p-us", doc({"Effect": "Deny", "Action": "*", "Resource": "arn:aws:ec2:us-east-1:*:*"}))
    allowed = evaluate_scp_chain(chain("SCP", [FULL, other_region], [FULL]),
                                 probe("ec2:DescribeInstances", "eu-west-1"))
    assert allowed.outcome == ALLOWED
    bucket = attached("p-s3", doc({"Effect": "Deny", "Action": "*", "Resource": "arn:aws:s3:::bucket/*"}))
    assert evaluate_scp_chain(chain("SCP", [FULL, bucket], [FULL]), probe(METRICS, "eu-west-1")).outcome == ALLOWED
    # Global resources (no region or account in the ARN) may still be what the call lists.
    s3_list = evaluate_scp_chain(chain("SCP", [FULL, bucket], [FULL]), probe("s3:ListBucket", "eu-west-1"))
    assert s3_list.outcome == INDETERMINATE
    distributions = attached("p-cf", doc({"Effect": "Deny", "Action": "cloudfront:*",
                                          "Resource": "arn:aws:cloudfront::*:distribution/*"}))
    cf = evaluate_scp_chain(chain("SCP", [FULL, distributions], [FULL]),
                            probe("cloudfront:ListDistributions", "us-east-1"))
    assert cf.outcome == INDETERMINATE


def test_unknown_key_makes_it_indeterminate_and_is_named() -> None:
    vpn = deny(Condition={"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}})
    decision = evaluate_scp_chain(chain("SCP", [FULL, vpn], [FULL]), probe(METRICS, "eu-west-1"))
    assert decision.outcome == INDETERMINATE
    assert decision.unknown_keys == ("aws:SourceIp",)
    assert decision.deciding_policies == ("p-deny",)
    vpce = deny(Condition={"ForAnyValue:StringEquals": {"aws:SourceVpce": "vpce-1"}})
    assert evaluate_scp_chain(chain("SCP", [FULL, vpce], [FULL]), probe(METRICS, "eu-west-1")).unknown_keys == (
        "aws:SourceVpce",)
    # aws:CalledVia is absent from a direct call (issue #16): ForAnyValue is false, the SCP decides.
    called_via = deny(Condition={"ForAnyValue:StringEquals": {"aws:CalledVia": "cloudformation.amazonaws.com"}})
    assert evaluate_scp_chain(chain("SCP", [FULL, called_via], [FULL]), probe(METRICS, "eu-west-1")).outcome == ALLOWED


def test_unknown_key_does_not_matter_when_a_known_key_decides() -> None:
    vpn_outside_eu = deny(Condition={"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"},
                                     "StringNotEquals": {"aws:RequestedRegion": "eu-west-1"}})
    c = chain("SCP", [FULL, vpn_outside_eu], [FULL])
    assert evaluate_scp_chain(c, probe(METRICS, "eu-west-1")).outcome == ALLOWED  # fails on region anyway
    hard = deny("p-hard", action="cloudwatch:*")
    c2 = chain("SCP", [FULL, vpn_outside_eu, hard], [FULL])
    decided = evaluate_scp_chain(c2, probe(METRICS, "us-east-1"))
    assert decided.outcome == DENIED and decided.deciding_policies == ("p-hard",)


def test_missing_allow_beats_an_undecided_deny() -> None:
    vpn = deny(Condition={"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}})
    assert evaluate_scp_chain(chain("SCP", [FULL, vpn], []), probe(METRICS, "eu-west-1")).outcome == DENIED


def test_undecided_allow_is_indeterminate_unless_another_allow_covers_the_level() -> None:
    office = attached("p-office", doc(stmt("Allow", Condition={"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}})))
    assert evaluate_scp_chain(chain("SCP", [FULL], [office]), probe(METRICS, "eu-west-1")).outcome == INDETERMINATE
    assert evaluate_scp_chain(chain("SCP", [FULL], [office, FULL]), probe(METRICS, "eu-west-1")).outcome == ALLOWED


def test_known_absent_keys_are_missing_not_unknown() -> None:
    team = deny(Condition={"StringNotEquals": {"aws:PrincipalTag/team": "platform"}})
    untagged = evaluate_scp_chain(chain("SCP", [FULL, team], [FULL]), probe(METRICS, "eu-west-1"))
    assert untagged.outcome == DENIED  # the role has no team tag: negated operator on a missing key
    tagged = probe(METRICS, "eu-west-1", facts=role(tags=[("team", "platform")]))
    assert evaluate_scp_chain(chain("SCP", [FULL, team], [FULL]), tagged).outcome == ALLOWED
    # A role session signs with temporary credentials, so AWS sends aws:MultiFactorAuthPresent (false: no MFA
    # in Datadog's sts:AssumeRole) and no aws:MultiFactorAuthAge (set only after MFA).
    mfa = deny(Condition={"Bool": {"aws:MultiFactorAuthPresent": "false"}})
    assert evaluate_scp_chain(chain("SCP", [FULL, mfa], [FULL]), probe(METRICS, "eu-west-1")).outcome == DENIED
    mfa_if = deny(Condition={"BoolIfExists": {"aws:MultiFactorAuthPresent": "true"}})
    assert evaluate_scp_chain(chain("SCP", [FULL, mfa_if], [FULL]), probe(METRICS, "eu-west-1")).outcome == ALLOWED
    mfa_null = deny(Condition={"Null": {"aws:MultiFactorAuthPresent": "true"}})
    assert evaluate_scp_chain(chain("SCP", [FULL, mfa_null], [FULL]), probe(METRICS, "eu-west-1")).outcome == ALLOWED
    age = deny(Condition={"NumericGreaterThanIfExists": {"aws:MultiFactorAuthAge": "3600"}})
    assert evaluate_scp_chain(chain("SCP", [FULL, age], [FULL]), probe(METRICS, "eu-west-1")).outcome == DENIED


def test_unparsed_policy_is_never_read_as_allowed() -> None:
    broken = Attached("p-broken", "Broken", None, "policy p-broken: not valid JSON")
    decision = evaluate_scp_chain(chain("SCP", [FULL, broken], [FULL]), probe(METRICS, "eu-west-1"))
    assert decision.outcome == INDETERMINATE
    assert decision.unknown_keys == ("unparsed policy p-broken",)
    alone = evaluate_scp_chain(chain("SCP", [FULL], [broken]), probe(METRICS, "eu-west-1"))
    assert alone.outcome == INDETERMINATE  # it may be the level's only Allow
    with_deny = evaluate_scp_chain(chain("SCP", [FULL, broken, deny()], [FULL]), probe(METRICS, "eu-west-1"))
    assert with_deny.outcome == DENIED
    rcp = evaluate_rcp_chain(chain("RCP", [broken], []), assume("eu-west-1"))
    assert rcp.outcome == INDETERMINATE


def test_rcp_needs_no_allow_only_denies_decide() -> None:
    assert evaluate_rcp_chain(chain("RCP", [], [], []), assume("eu-west-1")).outcome == ALLOWED
    allow_nothing = attached("p-a", doc(stmt("Allow", "s3:GetObject")))
    assert evaluate_rcp_chain(chain("RCP", [allow_nothing], []), assume("eu-west-1")).outcome == ALLOWED


def test_rcp_principal_and_not_principal() -> None:
    def rcp(**kw):
        return chain("RCP", [attached("p-r", doc(stmt("Deny", "sts:AssumeRole", **kw)))], [])

    assert evaluate_rcp_chain(rcp(Principal={"AWS": DATADOG_US1}), assume("eu-west-1")).outcome == DENIED
    assert evaluate_rcp_chain(rcp(Principal={"AWS": "111111111111"}), assume("eu-west-1")).outcome == ALLOWED
    not_dd = rcp(NotPrincipal={"AWS": f"arn:aws:iam::{DATADOG_US1}:root"})
    assert evaluate_rcp_chain(not_dd, assume("eu-west-1")).outcome == ALLOWED
    one_role = rcp(Principal={"AWS": f"arn:aws:iam::{DATADOG_US1}:role/DatadogRole"})
    decision = evaluate_rcp_chain(one_role, assume("eu-west-1"))
    assert decision.outcome == INDETERMINATE and decision.unknown_keys == ("Principal",)
    service = rcp(Principal={"Service": "cloudformation.amazonaws.com"})
    assert evaluate_rcp_chain(service, assume("eu-west-1")).outcome == ALLOWED


def test_rcp_conditions_on_datadogs_request() -> None:
    def rcp(condition):
        return chain("RCP", [attached("p-r", doc(stmt("Deny", "sts:AssumeRole", Principal="*", Condition=condition)))])

    exempt_dd = rcp({"StringNotEquals": {"aws:PrincipalAccount": [DATADOG_US1]}})
    assert evaluate_rcp_chain(exempt_dd, assume("eu-west-1")).outcome == ALLOWED
    assert evaluate_rcp_chain(exempt_dd, assume("eu-west-1", datadog_account="417141415827")).outcome == DENIED
    require_external_id = rcp({"Null": {"sts:ExternalId": "true"}})
    assert evaluate_rcp_chain(require_external_id, assume("eu-west-1")).outcome == ALLOWED
    pin_external_id = rcp({"StringNotEquals": {"sts:ExternalId": "abc"}})
    decision = evaluate_rcp_chain(pin_external_id, assume("eu-west-1"))
    assert decision.outcome == INDETERMINATE and decision.unknown_keys == ("sts:ExternalId",)
    own_org_resources = rcp({"StringNotEquals": {"aws:ResourceOrgID": "o-exampleorgid"}})
    assert evaluate_rcp_chain(own_org_resources, assume("eu-west-1")).outcome == ALLOWED
    region = rcp({"StringNotEquals": {"aws:RequestedRegion": ["us-east-1"]}})
    assert evaluate_rcp_chain(region, assume("eu-west-1")).outcome == DENIED
    assert evaluate_rcp_chain(region, assume("us-east-1")).outcome == ALLOWED


def test_rcp_resource_is_the_role_arn() -> None:
    def rcp(resource):
        return chain("RCP", [attached("p-r", doc({"Effect": "Deny", "Principal": "*", "Action": "sts:AssumeRole",
                                                  "Resource": resource}))])

    assert evaluate_rcp_chain(rcp("arn:aws:iam::*:role/Datadog*"), assume("eu-west-1")).outcome == DENIED
    assert evaluate_rcp_chain(rcp("arn:aws:iam::*:role/admin/*"), assume("eu-west-1")).outcome == ALLOWED


def test_a_deny_by_thousands_of_statements_has_a_bounded_headline_naming_how_many_more() -> None:
    """The headline is regions.csv's reason: one cell per account and region. Citing all 5,000 statements
    made a 370,000-character cell, past csv's default field limit and Excel's 32,767 characters."""
    many = attached("p-many", doc(*(dict(stmt("Deny"), Sid=f"S{i}") for i in range(5000))), "many")
    decision = evaluate_scp_chain(chain("SCP", [FULL, many]), probe(METRICS, "eu-west-1"))
    assert decision.outcome == DENIED
    assert len(decision.headline) < 2000
    assert "'S0'" in decision.headline and "4,990 more" in decision.headline
    assert "'S4999'" in decision.summary  # the full reasoning (auditor explain) keeps every statement
