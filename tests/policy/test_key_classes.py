"""Every operator on a key of every class: AWS's rules for present, unseen, absent and unknown keys.

One table per rule: the rows are operators (plain, negated, IfExists, set qualifiers, Null, policy
variables, ARN operators), the columns the key's class in the request. `None` is "unknown": the
auditor cannot decide, and must say so rather than guess.
"""

from __future__ import annotations

from typing import Any

import pytest

from auditor.policy.conditions import evaluate_condition
from auditor.policy.context import Context, make_context
from auditor.policy.document import parse_policy
from auditor.policy.statement import statement_applies

from .builders import assume

T, F, U = True, False, None
KEY = "aws:PrincipalTag/team"

CLASSES: dict[str, Context] = {
    "present 'a'": make_context({KEY: "a"}),
    "present, value unseen": make_context({}, present_unknown=[KEY]),
    "absent": make_context({}, absent=[KEY]),
    "unknown": make_context({}),
}

# operator, values -> answer for each class, in CLASSES' order.
STRING_ROWS: list[tuple[str, Any, tuple[bool | None, ...]]] = [
    ("StringEquals", "a", (T, U, F, U)),
    ("StringEquals", "b", (F, U, F, U)),
    ("StringNotEquals", "a", (F, U, T, U)),
    ("StringNotEquals", ["b", "c"], (T, U, T, U)),
    ("StringEqualsIgnoreCase", "A", (T, U, F, U)),
    ("StringNotEqualsIgnoreCase", "A", (F, U, T, U)),
    ("StringLike", "a*", (T, U, F, U)),
    ("StringNotLike", "a*", (F, U, T, U)),
    ("StringEqualsIfExists", "b", (F, U, T, U)),
    ("StringNotEqualsIfExists", "a", (F, U, T, U)),
    ("StringNotLikeIfExists", "b*", (T, U, T, U)),
    ("ForAllValues:StringEquals", "b", (F, U, T, U)),
    ("ForAllValues:StringNotEquals", "a", (F, U, T, U)),
    ("ForAllValues:StringLike", "a*", (T, U, T, U)),
    ("ForAnyValue:StringEquals", "a", (T, U, F, U)),
    ("ForAnyValue:StringNotEquals", "b", (T, U, F, U)),
    ("ForAnyValue:StringNotLike", "b*", (T, U, F, U)),
    ("ForAnyValue:StringEqualsIfExists", "b", (F, U, T, U)),
    ("ForAllValues:StringNotEqualsIfExists", "a", (F, U, T, U)),
    ("Null", "true", (F, F, T, U)),
    ("Null", "false", (T, T, F, U)),
    ("Null", ["true", "false"], (T, T, T, U)),
]


def condition(operator: str, key: str, values: Any):
    doc = parse_policy({"Version": "2012-10-17", "Statement": [
        {"Effect": "Deny", "Action": "*", "Resource": "*", "Condition": {operator: {key: values}}}]})
    return doc.statements[0].conditions[0]


def answer(operator: str, key: str, values: Any, ctx: Context) -> bool | None:
    result = evaluate_condition(condition(operator, key, values), ctx)
    if result.value is None:
        assert result.unknown == {key}  # an undecided answer names the key that would decide it
    return result.value


@pytest.mark.parametrize(("operator", "values", "expected"), STRING_ROWS, ids=[f"{o} {v}" for o, v, _ in STRING_ROWS])
def test_string_operators_on_every_key_class(operator: str, values: Any, expected: tuple[bool | None, ...]) -> None:
    got = tuple(answer(operator, KEY, values, ctx) for ctx in CLASSES.values())
    assert got == expected, dict(zip(CLASSES, got, strict=True))


ARN_KEY = "aws:PrincipalArn"
ARN_CLASSES = {
    "present": make_context({ARN_KEY: "arn:aws:iam::111122223333:role/ops/DatadogIntegrationRole"}),
    "present, value unseen": make_context({}, present_unknown=[ARN_KEY]),
    "absent": make_context({}, absent=[ARN_KEY]),
    "unknown": make_context({}),
}
ARN_ROWS = [
    ("ArnLike", "arn:aws:iam::*:role/ops/*", (T, U, F, U)),
    ("ArnNotLike", "arn:aws:iam::*:role/ops/*", (F, U, T, U)),
    ("ArnEquals", "arn:aws:iam::111122223333:role/ops/DatadogIntegrationRole", (T, U, F, U)),
    ("ArnNotEquals", "arn:aws:iam::111122223333:role/x", (T, U, T, U)),
    ("ArnLikeIfExists", "arn:aws:iam::*:role/other", (F, U, T, U)),
    ("ArnNotLikeIfExists", "arn:aws:iam::*:role/ops/*", (F, U, T, U)),
    ("ForAnyValue:ArnLike", "arn:aws:iam::*:role/ops/*", (T, U, F, U)),
    ("ForAllValues:ArnNotLike", "arn:aws:iam::*:role/ops/*", (F, U, T, U)),
]


@pytest.mark.parametrize(("operator", "values", "expected"), ARN_ROWS, ids=[o for o, _, _ in ARN_ROWS])
def test_arn_operators_on_every_key_class(operator: str, values: Any, expected: tuple[bool | None, ...]) -> None:
    got = tuple(answer(operator, ARN_KEY, values, ctx) for ctx in ARN_CLASSES.values())
    assert got == expected, dict(zip(ARN_CLASSES, got, strict=True))


# A key that may be absent and, if present, is 'false' (aws:ViaAWSMCPService): decided when both agree.
MCP = "aws:ViaAWSMCPService"
ABSENT_OR_FALSE = make_context({}, maybe={MCP: "false"})
MAYBE_ROWS = [
    ("Bool", "true", F),
    ("Bool", "false", U),
    ("BoolIfExists", "false", T),
    ("BoolIfExists", "true", U),
    ("StringNotEqualsIfExists", "true", T),
    ("Null", "true", U),
    ("Null", ["true", "false"], T),
]


@pytest.mark.parametrize(("operator", "values", "expected"), MAYBE_ROWS, ids=[f"{o} {v}" for o, v, _ in MAYBE_ROWS])
def test_absent_or_known_value_is_decided_when_both_agree(operator: str, values: Any, expected: bool | None) -> None:
    result = evaluate_condition(condition(operator, MCP, values), ABSENT_OR_FALSE)
    assert result.value is expected
    assert "may be absent or 'false'" in result.why
    if expected is None:
        assert result.unknown == {MCP}


# Policy variables: the compared key is present ('a'); the variable's key in each class.
VAR = "aws:PrincipalTag/env"
VARIABLE_CLASSES = {
    "present 'a'": make_context({KEY: "a", VAR: "a"}),
    "present 'b'": make_context({KEY: "a", VAR: "b"}),
    "absent": make_context({KEY: "a"}, absent=[VAR]),
    "present, value unseen": make_context({KEY: "a"}, present_unknown=[VAR]),
    "unknown": make_context({KEY: "a"}),
}
VARIABLE_ROWS = [
    ("StringEquals", "${aws:PrincipalTag/env}", (T, F, F, U, U)),
    ("StringNotEquals", "${aws:PrincipalTag/env}", (F, T, T, U, U)),
    ("StringLike", "${aws:PrincipalTag/env}*", (T, F, F, U, U)),
    ("StringNotLike", "${aws:PrincipalTag/env}*", (F, T, T, U, U)),
    ("StringEquals", "${aws:PrincipalTag/env, 'a'}", (T, F, T, U, U)),  # the default stands in for an absent key
    ("StringNotEquals", ["${aws:PrincipalTag/env}", "a"], (F, F, F, F, F)),  # 'a' matches: NOR is false
    ("StringEquals", ["${aws:PrincipalTag/env}", "b"], (T, F, F, U, U)),
    ("ForAnyValue:StringEquals", "${aws:PrincipalTag/env}", (T, F, F, U, U)),
    ("ForAllValues:StringNotEquals", "${aws:PrincipalTag/env}", (F, T, T, U, U)),
    ("StringEqualsIfExists", "${aws:PrincipalTag/env}", (T, F, F, U, U)),
]


@pytest.mark.parametrize(("operator", "values", "expected"), VARIABLE_ROWS,
                         ids=[f"{o} {v}" for o, v, _ in VARIABLE_ROWS])
def test_policy_variables_on_every_key_class(operator: str, values: Any, expected: tuple[bool | None, ...]) -> None:
    got = tuple(evaluate_condition(condition(operator, KEY, values), ctx).value for ctx in VARIABLE_CLASSES.values())
    assert got == expected, dict(zip(VARIABLE_CLASSES, got, strict=True))


ACCOUNT_VARIABLE = "arn:aws:iam::${aws:PrincipalAccount}:role/*"
ARN_VARIABLE_CLASSES = {
    "present": make_context({ARN_KEY: "arn:aws:iam::111122223333:role/x", "aws:PrincipalAccount": "111122223333"}),
    "present, other": make_context({ARN_KEY: "arn:aws:iam::111122223333:role/x",
                                    "aws:PrincipalAccount": "444455556666"}),
    "absent": make_context({ARN_KEY: "arn:aws:iam::111122223333:role/x"}, absent=["aws:PrincipalAccount"]),
    "unknown": make_context({ARN_KEY: "arn:aws:iam::111122223333:role/x"}),
}
ARN_VARIABLE_ROWS = [
    ("ArnLike", ACCOUNT_VARIABLE, (T, F, F, U)),
    ("ArnNotLike", ACCOUNT_VARIABLE, (F, T, T, U)),
    ("ArnEquals", "arn:aws:iam::${aws:PrincipalAccount}:role/x", (T, F, F, U)),
    ("ArnNotEqualsIfExists", "arn:aws:iam::${aws:PrincipalAccount}:role/x", (F, T, T, U)),
]


@pytest.mark.parametrize(("operator", "values", "expected"), ARN_VARIABLE_ROWS,
                         ids=[o for o, _, _ in ARN_VARIABLE_ROWS])
def test_policy_variables_in_arn_operators(operator: str, values: Any, expected: tuple[bool | None, ...]) -> None:
    cond = condition(operator, ARN_KEY, values)
    got = tuple(evaluate_condition(cond, c).value for c in ARN_VARIABLE_CLASSES.values())
    assert got == expected, dict(zip(ARN_VARIABLE_CLASSES, got, strict=True))


def resource_statement(element: str, resource: str) -> Any:
    return parse_policy({"Version": "2012-10-17", "Statement": [
        {"Effect": "Deny", "Principal": "*", "Action": "sts:AssumeRole", element: resource}]}).statements[0]


@pytest.mark.parametrize(("element", "resource", "expected"), [
    ("Resource", "arn:aws:iam::${aws:ResourceAccount}:role/*", T),
    ("Resource", "arn:aws:iam::${aws:PrincipalAccount}:role/*", F),  # Datadog's account: not the role's
    ("Resource", "arn:aws:iam::${aws:SourceAccount}:role/*", F),  # absent: the entry names no resource
    ("NotResource", "arn:aws:iam::${aws:SourceAccount}:role/*", T),  # ...so NotResource excludes nothing
    ("Resource", "arn:aws:iam::${aws:PrincipalOrgPaths}:role/*", F),  # absent from Datadog's request too
    ("Resource", "arn:aws:iam::${sts:ExternalId}:role/*", U),  # sent, but unseen
    ("Resource", "arn:aws:iam::${aws:SourceVpc}:role/*", U),  # may or may not be sent
])
def test_policy_variables_in_resource(element: str, resource: str, expected: bool | None) -> None:
    assert statement_applies(resource_statement(element, resource), assume("eu-west-1")).value is expected


def test_a_variable_with_no_value_is_named_in_the_reasoning() -> None:
    result = evaluate_condition(condition("StringNotEquals", KEY, "${aws:PrincipalTag/env}"),
                                VARIABLE_CLASSES["absent"])
    assert result.value is True
    assert "${aws:PrincipalTag/env} has no value (aws:principaltag/env is absent)" in result.why
