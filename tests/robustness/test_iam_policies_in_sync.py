"""config/*.json and the StackSet template grant exactly what the gateway's allow-list calls."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from auditor.aws.gateway import READ_ONLY_OPERATIONS

CONFIG = Path(__file__).resolve().parents[2] / "config"
# Allowed for every principal without a policy statement (AWS documents it as never denied).
NEEDS_NO_POLICY = {"sts:GetCallerIdentity"}


class CloudFormationLoader(yaml.SafeLoader):
    """SafeLoader that reads `!Ref X` as {"Ref": X}, `!Sub s` as {"Fn::Sub": s}, and so on."""


def _cfn_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    key = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {key: value}


CloudFormationLoader.add_multi_constructor("!", _cfn_tag)


def _actions(policy: dict[str, Any]) -> list[str]:
    out: list[str] = []
    for st in policy["Statement"]:
        assert st["Effect"] == "Allow"
        acts = st["Action"]
        out.extend([acts] if isinstance(acts, str) else acts)
    return out


def _load(name: str) -> dict[str, Any]:
    return json.loads((CONFIG / name).read_text())


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return yaml.load((CONFIG / "audit-role.stackset.yaml").read_text(), Loader=CloudFormationLoader)


def test_every_allow_listed_operation_is_granted_by_exactly_one_policy_and_nothing_else_is() -> None:
    wanted = {op.replace(".", ":", 1) for op in READ_ONLY_OPERATIONS} - NEEDS_NO_POLICY
    member, management = _actions(_load("audit-role-policy.json")), _actions(_load("management-policy.json"))
    granted = member + management
    assert sorted(granted) == sorted(set(granted)), "an action is granted twice"
    assert set(granted) == wanted
    assert not any("*" in a for a in granted), "wildcard actions are not least privilege"


def test_member_policy_holds_only_iam_reads_and_the_opt_in_read_and_management_policy_no_iam() -> None:
    member = _actions(_load("audit-role-policy.json"))
    assert {a.split(":")[0] for a in member if a != "ec2:DescribeRegions"} == {"iam"}
    assert "ec2:DescribeRegions" in member
    assert {a.split(":")[0] for a in _actions(_load("management-policy.json"))} == {"organizations", "sts"}


def test_assume_role_is_limited_to_the_stackset_audit_role(template: dict[str, Any]) -> None:
    role_name = template["Parameters"]["RoleName"]["Default"]
    (assume,) = [s for s in _load("management-policy.json")["Statement"] if s["Action"] == ["sts:AssumeRole"]]
    assert assume["Resource"] == f"arn:aws:iam::*:role/{role_name}"


def test_stackset_inline_policy_equals_audit_role_policy(template: dict[str, Any]) -> None:
    (policy,) = template["Resources"]["AuditRole"]["Properties"]["Policies"]
    assert policy["PolicyDocument"] == _load("audit-role-policy.json")


def test_stackset_trusts_only_the_management_account_with_the_optional_external_id(template: dict[str, Any]) -> None:
    assert set(template["Parameters"]) == {"ManagementAccountId", "RoleName", "ExternalId"}
    assert template["Parameters"]["ExternalId"]["Default"] == ""
    assert template["Parameters"]["ExternalId"]["NoEcho"] is True
    props = template["Resources"]["AuditRole"]["Properties"]
    assert props["RoleName"] == {"Ref": "RoleName"}
    (st,) = props["AssumeRolePolicyDocument"]["Statement"]
    assert st["Effect"] == "Allow" and st["Action"] == "sts:AssumeRole"
    assert st["Principal"] == {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${ManagementAccountId}:root"}}
    with_id = {"StringEquals": {"sts:ExternalId": {"Ref": "ExternalId"}}}
    assert st["Condition"] == {"Fn::If": ["HasExternalId", with_id, {"Ref": "AWS::NoValue"}]}
    assert template["Conditions"]["HasExternalId"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "ExternalId"}, ""]}]}


@pytest.mark.parametrize("external_id", ["", "stackset-ext-4821"])
def test_stackset_template_deploys_a_role_the_auditor_can_assume_only_with_the_external_id(external_id: str) -> None:
    import boto3
    from botocore.exceptions import ClientError
    from moto import mock_aws

    from auditor.aws.account import AuditRole, assume
    from auditor.aws.gateway import AwsGateway
    from auditor.config import RunConfig
    from auditor.demo.moto_trust import enforce_role_trust

    with mock_aws(), enforce_role_trust():
        session = boto3.Session(aws_access_key_id="a", aws_secret_access_key="b", region_name="us-east-1")
        me = session.client("sts").get_caller_identity()["Account"]
        session.client("cloudformation").create_stack(
            StackName="audit-role",
            TemplateBody=(CONFIG / "audit-role.stackset.yaml").read_text(),
            Capabilities=["CAPABILITY_NAMED_IAM"],
            Parameters=[
                {"ParameterKey": "ManagementAccountId", "ParameterValue": me},
                {"ParameterKey": "ExternalId", "ParameterValue": external_id},
            ],
        )
        gateway = AwsGateway(RunConfig(max_attempts=1), session)
        sts = gateway.client("sts")
        role = AuditRole("DatadogIntegrationAuditor", "/", external_id, "test")
        assert assume(gateway, sts, me, "aws", role).access_key_id
        inline = gateway.client("iam").list_role_policies(RoleName=role.name)["PolicyNames"]
        assert inline == ["DatadogAuditorReadOnly"]
        if external_id:
            with pytest.raises(ClientError, match="AccessDenied"):
                assume(gateway, sts, me, "aws", AuditRole(role.name, "/", "wrong-ext-0000", "test"))
