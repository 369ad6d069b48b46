"""Property-based fuzzing of the trust-policy normalizer and the SCP/RCP parser and evaluator.

Arbitrary JSON, and JSON shaped like a policy with arbitrary parts, must always end in a
result or in the module's own clear error: never another exception.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from auditor.checks.role import role_findings
from auditor.model import (
    RCP,
    SCP,
    Account,
    AccountSnapshot,
    InlinePolicy,
    Inventory,
    OrgPolicy,
    OrgUnit,
    RoleInfo,
    Verdict,
)
from auditor.policy.document import PolicyDocument, PolicyError, parse_policy
from auditor.policy.document import role_statements as parse_trust
from auditor.policy.matrix import evaluate_regions
from auditor.policy.model import PolicyError as PolicyDocumentError

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
MARKER = "ext-MARKER-7f3a9c"

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
words = st.sampled_from([
    "*", "Allow", "Deny", "sts:AssumeRole", "sts:*", "cloudwatch:GetMetricData", "ec2:*", "ec2:Describe?nstances",
    "arn:aws:iam::*:role/Datadog*", "arn:aws:iam::464622532012:root", "464622532012", "us-east-1", "eu-*",
    "${aws:PrincipalAccount}", "${aws:PrincipalTag/team}", "${*}", "${", "2020-01-01T00:00:00Z", "10.0.0.0/8",
    "::1/128", "true", "false", "12", "-3.5", "AQID", "arn:aws:iam::123456789012:role/*", "arn:*", "",
])
scalars = words | st.text(max_size=10) | st.integers() | st.booleans() | st.none() | st.floats()
values = scalars | st.lists(scalars, max_size=4) | json_values
operators = st.sampled_from([
    "StringEquals", "StringNotEquals", "StringLike", "StringNotLike", "StringEqualsIgnoreCase", "ArnLike",
    "ArnNotLike", "ArnEquals", "NumericLessThan", "NumericEquals", "DateGreaterThan", "Bool", "IpAddress",
    "NotIpAddress", "BinaryEquals", "Null", "ForAnyValue:StringLike", "ForAllValues:StringEquals",
    "StringEqualsIfExists", "ArnNotLikeIfExists", "ForAnyValue:ArnLikeIfExists", "StringFooBar",
]) | st.text(max_size=10)
keys = st.sampled_from([
    "aws:RequestedRegion", "aws:PrincipalArn", "aws:PrincipalTag/dp:exclude:identity", "sts:ExternalId",
    "aws:SourceIp", "aws:CurrentTime", "aws:PrincipalAccount", "aws:PrincipalOrgID", "aws:ResourceAccount",
    "aws:PrincipalIsAWSService", "aws:ResourceTag/${aws:PrincipalTag/x}", "aws:MultiFactorAuthPresent",
]) | st.text(max_size=10)
conditions = st.dictionaries(operators, st.dictionaries(keys, values, max_size=3) | values, max_size=3)
principals = st.just("*") | st.dictionaries(st.sampled_from(["AWS", "Service", "Federated", "aws", "X"]), values,
                                             max_size=2) | values
statements = st.fixed_dictionaries({}, optional={
    "Sid": values, "Effect": st.sampled_from(["Allow", "Deny"]) | values, "Action": values, "NotAction": values,
    "Resource": values, "NotResource": values, "Principal": principals, "NotPrincipal": principals,
    "Condition": conditions | values,
})
# Near-valid statements, so that many documents parse and the evaluator itself is exercised.
actions = st.sampled_from(["*", "sts:AssumeRole", "sts:*", "cloudwatch:GetMetricData", "cloudwatch:*", "ec2:*",
                           "ec2:Describe?nstances", "s3:Get*", "CloudWatch:getmetricdata"])
arns = st.sampled_from(["*", "arn:aws:iam::*:role/Datadog*", "arn:aws:iam::111122223333:role/*", "arn:*",
                        "arn:aws:iam::${aws:PrincipalAccount}:role/*", "arn:aws:sts::*:assumed-role/*"])
strings = words | st.lists(words, min_size=1, max_size=3)
valid_operators = operators.filter(lambda o: not o.startswith("StringFoo"))


def _merge(*parts: dict[str, Any]) -> dict[str, Any]:
    return {k: v for part in parts for k, v in part.items()}


plausible = st.builds(
    _merge,
    st.fixed_dictionaries({"Effect": st.sampled_from(["Allow", "Deny"])}),
    st.one_of(st.fixed_dictionaries({"Action": actions | st.lists(actions, min_size=1, max_size=3)}),
              st.fixed_dictionaries({"NotAction": actions | st.lists(actions, min_size=1, max_size=3)})),
    st.one_of(st.just({}), st.fixed_dictionaries({"Resource": arns | st.lists(arns, min_size=1, max_size=2)}),
              st.fixed_dictionaries({"NotResource": arns})),
    st.one_of(st.just({}), st.fixed_dictionaries({"Principal": st.just("*") | st.fixed_dictionaries({"AWS": arns})})),
    st.one_of(st.just({}), st.fixed_dictionaries({"Condition": st.dictionaries(
        valid_operators, st.dictionaries(keys, strings, min_size=1, max_size=2), min_size=1, max_size=2)})),
)
policies = st.fixed_dictionaries({}, optional={
    "Version": st.sampled_from(["2012-10-17", "2008-10-17"]) | values, "Id": values,
    "Statement": st.lists(plausible | statements, max_size=4) | plausible | statements | values,
})
near_valid = st.fixed_dictionaries({"Version": st.just("2012-10-17"),
                                    "Statement": plausible | st.lists(plausible, min_size=1, max_size=3)})
documents = near_valid | policies | json_values


def _text(doc: Any) -> str:
    return doc if isinstance(doc, str) else json.dumps(doc)


@SETTINGS
@given(documents | st.text(max_size=40))
def test_trust_normalizer_returns_statements_or_its_own_error(doc: Any) -> None:
    try:
        result = parse_trust(_text(doc), trust=True)
    except PolicyDocumentError as exc:
        assert str(exc)
    else:
        assert isinstance(result, tuple)


@SETTINGS
@given(policies, st.sampled_from(["StringEquals", "StringLike", "StringNotEquals", "Bogus"]), values)
def test_trust_normalizer_errors_never_show_external_id_values(doc: dict[str, Any], op: str, extra: Any) -> None:
    statement = {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::464622532012:root"},
                 "Action": "sts:AssumeRole", "Condition": {op: {"sts:ExternalId": [MARKER, extra]}}}
    listed = doc.get("Statement")
    doc["Statement"] = [statement, *listed] if isinstance(listed, list) else [statement, listed]
    try:
        parse_trust(json.dumps(doc), trust=True)
    except PolicyDocumentError as exc:
        assert MARKER not in str(exc)


@SETTINGS
@given(documents | st.text(max_size=40))
def test_policy_parser_returns_a_document_or_policy_error(doc: Any) -> None:
    try:
        result = parse_policy(_text(doc), policy_id="p-fuzz")
    except PolicyError as exc:
        assert str(exc)
    else:
        assert isinstance(result, PolicyDocument)


ROOT, OU, ACCOUNT = "r-ab12", "ou-ab12-fuzzfuzz", "111122223333"
TRUST = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::464622532012:root"}, "Action": "sts:AssumeRole",
    "Condition": {"StringEquals": {"sts:ExternalId": MARKER}}}]})
FULL_ACCESS = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})


def _inventory(scp: str, rcp: str) -> Inventory:
    return Inventory(
        organization_id="o-fuzz", management_account_id="999988887777", partition="aws",
        enabled_policy_types=(SCP, RCP),
        units=(OrgUnit(ROOT, "Root", "", "Root"), OrgUnit(OU, "Fuzz", ROOT, "Root/Fuzz")),
        accounts=(Account(ACCOUNT, "fuzz", "f@example.com", "ACTIVE", OU, "Root/Fuzz", (ROOT, OU, ACCOUNT)),),
        policies=(
            OrgPolicy("p-FullAWSAccess", "FullAWSAccess", SCP, True, "", FULL_ACCESS, (ROOT, OU, ACCOUNT)),
            OrgPolicy("p-fuzzscp", "fuzz-scp", SCP, False, "", scp, (OU,)),
            OrgPolicy("p-fuzzrcp", "fuzz-rcp", RCP, False, "", rcp, (ROOT,)),
        ),
    )


def _snapshot(trust: str, inline: str) -> AccountSnapshot:
    role = RoleInfo(name="DatadogIntegrationRole", path="/", arn=f"arn:aws:iam::{ACCOUNT}:role/DatadogIntegrationRole",
                    trust_policy=trust, tags=(("team", "obs"),), attached_policies=(),
                    inline_policies=(InlinePolicy("DatadogAWSIntegrationPolicy", inline),))
    return AccountSnapshot(ACCOUNT, role=role)


@SETTINGS
@given(documents, documents)
def test_evaluator_gives_every_region_a_verdict_whatever_the_org_policies_say(scp: Any, rcp: Any) -> None:
    regions = ("us-east-1", "eu-west-1", "ap-southeast-2")
    result = evaluate_regions(
        _inventory(_text(scp), _text(rcp)), {ACCOUNT: _snapshot(TRUST, FULL_ACCESS)}, regions=regions,
        probe_actions=("cloudwatch:GetMetricData", "ec2:DescribeInstances"), site="datadoghq.com",
        role_name="DatadogIntegrationRole", exclude_partial=True,
    )
    assert sorted(v.region for v in result.verdicts) == sorted(regions)
    assert all(isinstance(v.verdict, Verdict) for v in result.verdicts)


@SETTINGS
@given(documents | st.text(max_size=40), documents)
def test_role_checks_turn_any_trust_or_inline_policy_into_findings(trust: Any, inline: Any) -> None:
    inventory = _inventory(FULL_ACCESS, FULL_ACCESS)
    findings = role_findings(
        inventory.accounts[0], _snapshot(_text(trust), _text(inline)), site="datadoghq.com", partition="aws",
        role_name="DatadogIntegrationRole", expected=None, probe_actions=("cloudwatch:GetMetricData",),
        aws_managed_documents={}, show_external_ids=False,
    )
    assert findings and all(f.account_id == ACCOUNT for f in findings)
    assert not any(MARKER in f.detail + f.evidence for f in findings)
