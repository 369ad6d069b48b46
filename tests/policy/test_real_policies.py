"""The three real policies in auditor/demo/policies, region by region, action by action."""

from __future__ import annotations

import pytest

from auditor.config import DEFAULT_PROBE_ACTIONS
from auditor.policy.chain import ALLOWED, DENIED, evaluate_rcp_chain, evaluate_scp_chain

from .builders import (
    CONTROL_TOWER,
    DOCS_EU,
    FULL_ACCESS,
    PERIMETER,
    account,
    assume,
    attached,
    chain,
    probe,
    real,
    role,
)

REGIONS = ("us-east-1", "us-east-2", "us-west-1", "us-west-2", "eu-west-1", "eu-central-1", "eu-west-3",
           "ap-southeast-2", "sa-east-1", "ca-central-1")
GOVERNED = {"us-east-1", "us-west-2"}
EU = {"eu-central-1", "eu-west-1"}


def scp_chain_with(policy_file: str):
    full = attached("p-FullAWSAccess", FULL_ACCESS, "FullAWSAccess")
    return chain("SCP", [full], [full, attached("p-guard", real(policy_file), "Guard")], [full])


CT = scp_chain_with(CONTROL_TOWER)
DOCS = scp_chain_with(DOCS_EU)


@pytest.mark.parametrize("region", REGIONS)
@pytest.mark.parametrize("action", DEFAULT_PROBE_ACTIONS)
def test_control_tower_denies_regional_probes_outside_governed_regions(region: str, action: str) -> None:
    decision = evaluate_scp_chain(CT, probe(action, region))
    expected = DENIED if region not in GOVERNED and action != "tag:GetResources" else ALLOWED
    assert decision.outcome == expected, decision.summary
    if expected == DENIED:
        assert decision.deciding_policies == ("p-guard",)
        assert "GRREGIONDENY" in decision.summary


@pytest.mark.parametrize("region", REGIONS)
def test_control_tower_keeps_tag_get_resources_allowed_while_metrics_are_denied(region: str) -> None:
    assert evaluate_scp_chain(CT, probe("tag:GetResources", region)).outcome == ALLOWED
    metrics = evaluate_scp_chain(CT, probe("cloudwatch:GetMetricData", region)).outcome
    assert metrics == (ALLOWED if region in GOVERNED else DENIED)


@pytest.mark.parametrize("action", ["iam:ListRoles", "sts:GetCallerIdentity", "organizations:ListAccounts",
                                    "support:DescribeCases", "ec2:DescribeRegions", "s3:ListAllMyBuckets"])
def test_control_tower_exempts_global_actions(action: str) -> None:
    assert evaluate_scp_chain(CT, probe(action, "eu-west-3")).outcome == ALLOWED


def test_action_names_are_case_insensitive_in_not_action() -> None:
    assert evaluate_scp_chain(CT, probe("TAG:getresources", "eu-west-3")).outcome == ALLOWED
    assert evaluate_scp_chain(CT, probe("CloudWatch:getMetricData", "eu-west-3")).outcome == DENIED


def test_control_tower_execution_role_is_exempted_by_arn_not_like() -> None:
    ct_role = role(name="AWSControlTowerExecution")
    assert evaluate_scp_chain(CT, probe("cloudwatch:GetMetricData", "eu-west-3", facts=ct_role)).outcome == ALLOWED
    # The exemption names the role at path "/": the same name under another path is not exempt.
    pathed = role(name="AWSControlTowerExecution", path="/ops/")
    assert evaluate_scp_chain(CT, probe("cloudwatch:GetMetricData", "eu-west-3", facts=pathed)).outcome == DENIED


@pytest.mark.parametrize("region", REGIONS)
def test_docs_policy_allows_only_eu_regions(region: str) -> None:
    decision = evaluate_scp_chain(DOCS, probe("ec2:DescribeInstances", region))
    assert decision.outcome == (ALLOWED if region in EU else DENIED)


def test_docs_policy_bypass_roles_and_global_services() -> None:
    for name in ("Role1AllowedToBypassThisSCP", "Role2AllowedToBypassThisSCP"):
        bypass = probe("cloudwatch:GetMetricData", "us-east-1", facts=role(name=name))
        assert evaluate_scp_chain(DOCS, bypass).outcome == ALLOWED
    assert evaluate_scp_chain(DOCS, probe("iam:ListRoles", "us-east-1")).outcome == ALLOWED
    # tag:GetResources is not in this policy's NotAction: denied outside the EU.
    assert evaluate_scp_chain(DOCS, probe("tag:GetResources", "us-east-1")).outcome == DENIED


RCP = chain("RCP", [attached("p-perimeter", real(PERIMETER), "DataPerimeter")], [], [])


@pytest.mark.parametrize("region", REGIONS)
def test_data_perimeter_rcp_denies_datadog_assume_role(region: str) -> None:
    decision = evaluate_rcp_chain(RCP, assume(region))
    assert decision.outcome == DENIED
    assert decision.deciding_policies == ("p-perimeter",)
    assert "EnforceOrgIdentities" in decision.summary


@pytest.mark.parametrize("region", REGIONS)
def test_data_perimeter_rcp_allows_role_tagged_for_exclusion(region: str) -> None:
    tagged = role(tags=[("dp:exclude:identity", "true")])
    assert evaluate_rcp_chain(RCP, assume(region, facts=tagged)).outcome == ALLOWED


def test_data_perimeter_tag_value_is_case_sensitive_tag_key_is_not() -> None:
    wrong_value = role(tags=[("dp:exclude:identity", "True")])
    assert evaluate_rcp_chain(RCP, assume("eu-west-1", facts=wrong_value)).outcome == DENIED
    other_case_key = role(tags=[("DP:Exclude:Identity", "true")])
    assert evaluate_rcp_chain(RCP, assume("eu-west-1", facts=other_case_key)).outcome == ALLOWED


def test_data_perimeter_rcp_does_not_cover_cloudwatch_calls() -> None:
    decision = evaluate_rcp_chain(RCP, probe("cloudwatch:GetMetricData", "eu-west-1", acct=account()))
    assert decision.outcome == ALLOWED
