"""Every documented key of both requests, under random operators, against the reference evaluator.

test_differential.py draws whole organizations over a few keys; this draws one condition at a
time over every key of request_keys.py's tables (and a few it does not name), with every operator
form: plain, negated, IfExists, ForAllValues / ForAnyValue, Null, policy variables. The engine's
answer on the request requests.py builds must equal the reference's on the request written out by
hand in test_differential.py, and a decided answer must hold in every world the reference can think
of for the keys that are not known.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from auditor.policy import request_keys as keys
from auditor.policy.conditions import evaluate_condition
from auditor.policy.document import parse_policy

from . import reference as ref
from .builders import account, assume, probe, role
from .test_differential import fast, reference_assume, reference_probe

OPERATORS = ("StringEquals", "StringNotEquals", "StringLike", "StringNotLike", "StringEqualsIgnoreCase",
             "ArnLike", "ArnNotLike", "Bool")
KEYS = sorted({f.key + ("team" if f.family else "") for t in (keys.PROBE, keys.ASSUME) for f in t.facts}
              | {"s3:prefix", "aws:PrincipalTag/env", "aws:ResourceTag/env"})
VALUES = ("false", "true", "a", "*", "eu-west-1", "eu-*", "AssumedRole", "o-exampleorgid", "464622532012",
          "111122223333", "arn:aws:iam::111122223333:role/DatadogIntegrationRole", "arn:aws:iam::*:role/*",
          "${aws:PrincipalAccount}", "${aws:ResourceAccount}", "${aws:SourceAccount}", "${aws:PrincipalTag/team}",
          "${aws:CalledVia, 'a'}", "${aws:userid}", "${aws:ViaAWSService}", "${aws:PrincipalOrgID}")
ARN_KEYS = ("aws:PrincipalArn", "aws:SourceArn", "aws:ChatbotSourceArn", "aws:SourceVpcArn", "ec2:SourceInstanceArn",
            "s3:prefix")
ARN_VALUES = ("arn:aws:iam::111122223333:role/DatadogIntegrationRole", "arn:aws:iam::*:role/*", "*",
              "arn:aws:iam::${aws:PrincipalAccount}:role/*", "arn:aws:iam::${aws:SourceAccount}:role/*",
              "arn:aws:iam::${aws:ResourceAccount}:role/${aws:PrincipalTag/team, 'x'}*")
TAGS = (("team", "a"),)


@st.composite
def conditions(draw: st.DrawFn) -> tuple[str, str, list[str]]:
    op = draw(st.sampled_from(OPERATORS))
    kind = draw(st.sampled_from(("plain", "IfExists", "ForAnyValue", "ForAllValues", "Null")))
    if kind == "Null":
        op = "Null"
    elif kind == "IfExists":
        op += "IfExists"
    elif kind != "plain" and op != "Bool":
        op = f"{kind}:{op}"
    # ARN operators on ARN-valued keys (what they compare with a non-ARN is not the question here).
    arn = "Arn" in op
    pool = ("true", "false") if op in ("Null", "Bool", "BoolIfExists") else ARN_VALUES if arn else VALUES
    values = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=2, unique=True))
    return op, draw(st.sampled_from(ARN_KEYS if arn else KEYS)), values


def engine(op: str, key: str, values: list[str], ctx: Any) -> bool | None:
    doc = parse_policy({"Version": "2012-10-17", "Statement": [
        {"Effect": "Deny", "Action": "*", "Resource": "*", "Condition": {op: {key: values}}}]})
    return evaluate_condition(doc.statements[0].conditions[0], ctx).value


def reference(op: str, key: str, values: list[str], request: dict[str, Any]) -> bool | None:
    return {ref.T: True, ref.F: False, ref.U: None}[ref.clause(op, key, values, request)]


def every_world(op: str, key: str, values: list[str], request: dict[str, Any]) -> set[bool | None]:
    """The reference's answer in each world of the unknown keys the condition reads (key, variables)."""
    read = {key, *(m.group(1).split(",")[0].strip() for v in values for m in ref.VARIABLE.finditer(v))}
    pools = {k: ["a", "false", "zzz"] for k in read if ref.key_state(request, k)[0] in ("unknown", "present_unknown",
                                                                                      "maybe")}
    return {reference(op, key, values, w) for w in ref.worlds(request, pools)}


@fast(1500)
@given(condition=conditions(), side=st.sampled_from(("probe", "assume")))
def test_every_key_of_both_requests_matches_the_reference(condition: tuple[str, str, list[str]], side: str) -> None:
    op, key, values = condition
    facts = role(tags=TAGS)
    acct = account()
    f = {"action": "cloudwatch:GetMetricData", "region": "eu-west-1", "path": "/", "name": facts.name, "tags": TAGS}
    if side == "probe":
        ctx, request = probe(f["action"], "eu-west-1", facts=facts).context, reference_probe(acct, f, facts.arn)
    else:
        ctx, request = assume("eu-west-1", facts=facts).context, reference_assume(acct, f, facts.arn)
    mine, expected = engine(op, key, values, ctx), reference(op, key, values, request)
    assert mine == expected, f"{side}: {op} {{{key}: {values}}}: engine {mine}, reference {expected}"
    if mine is not None:
        assert every_world(op, key, values, request) == {mine}
