"""Hypothesis strategies: random SCP/RCP statements, organization chains and requests."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

ACTIONS = ("cloudwatch:GetMetricData", "cloudwatch:ListMetrics", "ec2:DescribeInstances", "tag:GetResources",
           "s3:ListAllMyBuckets", "iam:ListRoles", "logs:DescribeLogGroups")
ACTION_PATTERNS = ("*", "cloudwatch:*", "cloudwatch:Get*", "cloudwatch:?etMetricData", "ec2:Describe*",
                   "EC2:describeinstances", "tag:GetResources", "s3:*", "iam:*", "*:List*", "logs:*", "lambda:*")
RESOURCE_PATTERNS = ("*", "arn:aws:s3:::bucket", "arn:aws:ec2:*:*:instance/*", "arn:aws:*:eu-west-1:*:*",
                     "arn:aws:cloudwatch:us-east-1:*:*", "arn:aws:*:*:111111111111:*",
                     "arn:aws:*:*:${aws:PrincipalAccount}:*", "arn:aws:*:*:${aws:SourceAccount}:*")
REGIONS = ("us-east-1", "eu-west-1", "ap-south-1")
ACCOUNTS = ("111111111111", "222222222222")
ROLES = (("/", "DatadogIntegrationRole"), ("/ops/", "DatadogIntegrationRole"), ("/", "AWSControlTowerExecution"),
         ("/aws-service-role/", "AWSServiceRoleForSupport"))
TAGS = (("team", "a"), ("team", "A"), ("env", "prod"))

STRING_OPS = ("StringEquals", "StringNotEquals", "StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase",
              "StringLike", "StringNotLike")
ARN_OPS = ("ArnLike", "ArnNotLike", "ArnEquals", "ArnNotEquals", "StringLike", "StringNotLike")
BOOL_OPS = ("Bool",)

# key -> (operators, values drawn in policies). Values with ${...} are policy variables; keys of every class
# are drawn: present (region, ARN, tags, account, organization), present with an unseen value (userid),
# absent (SourceAccount, CalledVia, ...), unknown (SourceVpc) and absent-or-false (ViaAWSMCPService).
SCP_KEYS: dict[str, tuple[tuple[str, ...], tuple[Any, ...]]] = {
    "aws:RequestedRegion": (STRING_OPS, ("us-east-1", "eu-west-1", "EU-WEST-1", "eu-*", "us-*", "*")),
    "aws:PrincipalARN": (ARN_OPS, ("arn:aws:iam::*:role/DatadogIntegrationRole", "arn:aws:iam::*:role/ops/*",
                                   "arn:aws:iam::*:role/*", "arn:aws:iam::111111111111:role/*",
                                   "arn:aws:iam::*:role/AWSControlTowerExecution", "*",
                                   "arn:aws:iam::${aws:PrincipalAccount}:role/*",
                                   "arn:aws:iam::${aws:SourceAccount}:role/*",
                                   "arn:aws:iam::${aws:userid}:role/*")),
    "aws:PrincipalTag/team": (STRING_OPS, ("a", "A", "b", "*", "${aws:PrincipalTag/env}",
                                           "${aws:PrincipalTag/env, 'a'}")),
    "aws:PrincipalAccount": (STRING_OPS, ("111111111111", "222222222222", "*", "${aws:ResourceAccount}")),
    "aws:ResourceOrgID": (STRING_OPS, ("o-exampleorgid", "${aws:PrincipalOrgID}", "o-other")),
    "aws:SourceVpc": (STRING_OPS, ("vpc-1", "vpc-*")),
    "aws:userid": (STRING_OPS, ("AROA*", "x")),
    "aws:CalledVia": (STRING_OPS, ("cloudformation.amazonaws.com",)),
    "aws:CalledViaLast": (STRING_OPS, ("kms.amazonaws.com", "${aws:CalledViaFirst}")),
    "aws:SourceAccount": (STRING_OPS, ("111111111111", "464622532012")),
    "aws:SourceArn": (ARN_OPS, ("arn:aws:s3:::bucket", "*")),
    "aws:FederatedProvider": (STRING_OPS, ("cognito-identity.amazonaws.com",)),
    "aws:MultiFactorAuthPresent": (BOOL_OPS, (True, "false", "true")),
    "aws:ViaAWSMCPService": (BOOL_OPS, (True, "false")),
    "aws:SecureTransport": (BOOL_OPS, (False, "true")),
}
# Unknown keys (and absent-or-false ones) and the values a possible world may give them.
SCP_WORLDS = {"aws:SourceVpc": ["vpc-1", "vpc-9", "zzz"], "aws:userid": ["AROAX:s", "x", "zzz"],
              "aws:ViaAWSMCPService": []}

DATADOG = "464622532012"
RCP_KEYS: dict[str, tuple[tuple[str, ...], tuple[Any, ...]]] = {
    "aws:RequestedRegion": (STRING_OPS, ("us-east-1", "eu-*")),
    "aws:ResourceTag/team": (STRING_OPS, ("a", "A", "*")),
    "aws:PrincipalOrgID": (STRING_OPS, ("o-exampleorgid", "${aws:ResourceOrgID}")),
    "aws:ResourceOrgID": (STRING_OPS, ("o-exampleorgid", "${aws:PrincipalOrgID}")),
    "aws:PrincipalAccount": (STRING_OPS, (DATADOG, "417141415827", "${aws:ResourceAccount}")),
    "aws:SourceAccount": (STRING_OPS, (DATADOG, "111111111111")),
    "aws:CalledVia": (STRING_OPS, ("cloudformation.amazonaws.com",)),
    "sts:ExternalId": (STRING_OPS, ("secret", "*")),
    "aws:SourceVpc": (STRING_OPS, ("vpc-1",)),
    "aws:FederatedProvider": (STRING_OPS, ("www.amazon.com",)),
    "aws:PrincipalIsAWSService": (BOOL_OPS, ("false", True)),
    "aws:MultiFactorAuthPresent": (BOOL_OPS, ("false", True)),
    "aws:ViaAWSMCPService": (BOOL_OPS, ("false", True)),
}
RCP_WORLDS = {"sts:ExternalId": ["secret", "zzz"], "aws:SourceVpc": ["vpc-1", "zzz"],
              "aws:FederatedProvider": ["www.amazon.com", "zzz"], "aws:ViaAWSMCPService": []}


@st.composite
def condition_block(draw: st.DrawFn, keys: dict[str, tuple[tuple[str, ...], tuple[Any, ...]]]) -> dict[str, Any]:
    block: dict[str, dict[str, Any]] = {}
    for _ in range(draw(st.integers(0, 2))):
        key = draw(st.sampled_from(sorted(keys)))
        ops, pool = keys[key]
        kind = draw(st.sampled_from(("plain", "plain", "IfExists", "ForAnyValue", "ForAllValues", "Null")))
        if kind == "Null":
            op, values = "Null", draw(st.lists(st.sampled_from((True, False, "true", "false")), min_size=1,
                                               max_size=2))
        else:
            op = draw(st.sampled_from(ops))
            if kind == "IfExists":
                op += "IfExists"
            elif kind in ("ForAnyValue", "ForAllValues") and op != "Bool":
                op = f"{kind}:{op}"
            values = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=2, unique_by=str))
        block.setdefault(op, {})[key] = values[0] if len(values) == 1 and draw(st.booleans()) else values
    return block


@st.composite
def scp_statement(draw: st.DrawFn, effect: str | None = None) -> dict[str, Any]:
    s: dict[str, Any] = {"Effect": effect or draw(st.sampled_from(("Allow", "Deny")))}
    actions = draw(st.lists(st.sampled_from(ACTION_PATTERNS), min_size=1, max_size=3, unique=True))
    s["NotAction" if draw(st.integers(0, 3)) == 0 else "Action"] = actions if len(actions) > 1 else actions[0]
    if draw(st.integers(0, 3)) == 0:
        element = draw(st.sampled_from(("Resource", "NotResource")))
        s[element] = draw(st.lists(st.sampled_from(RESOURCE_PATTERNS[1:]), min_size=1, max_size=2, unique=True))
    else:
        s["Resource"] = "*"
    block = draw(condition_block(SCP_KEYS))
    if block:
        s["Condition"] = block
    return s


def document(statements: list[dict[str, Any]]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": statements}


@st.composite
def scp_policy(draw: st.DrawFn, effect: str | None = None) -> dict[str, Any]:
    return document(draw(st.lists(scp_statement(effect), min_size=1, max_size=3)))


@st.composite
def scp_levels(draw: st.DrawFn) -> list[list[dict[str, Any]]]:
    """Root, 0-2 OUs, account: mostly FullAWSAccess plus random policies at each level."""
    from .builders import FULL_ACCESS

    levels = []
    for _ in range(draw(st.integers(2, 4))):
        level = [FULL_ACCESS] if draw(st.integers(0, 7)) else []
        level += draw(st.lists(scp_policy(), max_size=2))
        levels.append(level)
    return levels


@st.composite
def rcp_statement(draw: st.DrawFn) -> dict[str, Any]:
    s: dict[str, Any] = {"Effect": draw(st.sampled_from(("Deny", "Deny", "Allow")))}
    s["Action"] = draw(st.sampled_from(("sts:AssumeRole", "sts:*", "s3:*", "*", ["sts:AssumeRole", "kms:*"])))
    principal = draw(st.sampled_from(("*", {"AWS": DATADOG}, {"AWS": f"arn:aws:iam::{DATADOG}:root"},
                                      {"AWS": "111111111111"}, "not-dd")))
    if principal == "not-dd":
        s["NotPrincipal"] = {"AWS": DATADOG}
    else:
        s["Principal"] = principal
    s["Resource"] = draw(st.sampled_from(("*", "arn:aws:iam::*:role/Datadog*", "arn:aws:iam::*:role/ops/*",
                                          "arn:aws:iam::${aws:ResourceAccount}:role/*",
                                          "arn:aws:iam::${aws:PrincipalAccount}:role/*",
                                          "arn:aws:iam::${aws:SourceAccount}:role/*")))
    block = draw(condition_block(RCP_KEYS))
    if block:
        s["Condition"] = block
    return s


@st.composite
def rcp_levels(draw: st.DrawFn) -> list[list[dict[str, Any]]]:
    return [draw(st.lists(st.builds(lambda xs: document(xs), st.lists(rcp_statement(), min_size=1, max_size=2)),
                          max_size=2))
            for _ in range(draw(st.integers(2, 4)))]


@st.composite
def request_facts(draw: st.DrawFn) -> dict[str, Any]:
    path, name = draw(st.sampled_from(ROLES))
    tags = draw(st.lists(st.sampled_from(TAGS), max_size=2, unique_by=lambda t: t[0]))
    return {"action": draw(st.sampled_from(ACTIONS)), "region": draw(st.sampled_from(REGIONS)),
            "path": path, "name": name, "tags": tags}


# JSON shaped like a role policy, with arbitrary parts (US: a Datadog account).
role_policy_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.text(max_size=8)
    | st.sampled_from(["*", "Allow", "Deny", "sts:AssumeRole", "464622532012", "arn:aws:iam::464622532012:root"]),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(
            st.sampled_from(
                [
                    "Statement",
                    "Effect",
                    "Principal",
                    "NotPrincipal",
                    "AWS",
                    "Service",
                    "Action",
                    "NotAction",
                    "Condition",
                    "StringEquals",
                    "sts:ExternalId",
                    "Resource",
                ]
            )
            | st.text(max_size=4),
            children,
            max_size=4,
        )
    ),
    max_leaves=20,
)
