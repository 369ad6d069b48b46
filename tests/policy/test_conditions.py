"""Condition operators: every family, AWS's missing-key rules, case rules, variables, unknowns."""

from __future__ import annotations

from typing import Any

import pytest

from auditor.policy.conditions import evaluate_condition, evaluate_conditions
from auditor.policy.context import Context, make_context
from auditor.policy.document import Condition, parse_policy


def conditions(block: dict[str, Any]) -> tuple[Condition, ...]:
    parsed = parse_policy({"Version": "2012-10-17",
                           "Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*", "Condition": block}]})
    return parsed.statements[0].conditions


def check(operator: str, key: str, values: Any, ctx: Context) -> bool | None:
    (cond,) = conditions({operator: {key: values}})
    return evaluate_condition(cond, ctx).value


def ctx(**values: Any) -> Context:
    return make_context({k.replace("__", ":").replace("_SLASH_", "/"): v for k, v in values.items()})


REGION = make_context({"aws:RequestedRegion": "eu-west-1"})


@pytest.mark.parametrize(
    ("operator", "values", "expected"),
    [
        ("StringEquals", "eu-west-1", True),
        ("StringEquals", "EU-WEST-1", False),
        ("StringEquals", ["us-east-1", "eu-west-1"], True),
        ("StringNotEquals", ["us-east-1", "eu-west-1"], False),
        ("StringNotEquals", ["us-east-1", "us-west-2"], True),
        ("StringEqualsIgnoreCase", "EU-West-1", True),
        ("StringNotEqualsIgnoreCase", "EU-West-1", False),
        ("StringLike", "eu-*", True),
        ("StringLike", "eu-west-?", True),
        ("StringLike", "EU-*", False),
        ("StringLike", "eu-west-??", False),
        ("StringNotLike", ["us-*", "ap-*"], True),
        ("StringNotLike", ["us-*", "eu-*"], False),
        ("StringEquals", "eu-*", False),  # no wildcards in StringEquals
    ],
)
def test_string_operators(operator: str, values: Any, expected: bool) -> None:
    assert check(operator, "aws:RequestedRegion", values, REGION) is expected


ARN = make_context({"aws:PrincipalArn": "arn:aws:iam::111122223333:role/team/DatadogIntegrationRole"})


@pytest.mark.parametrize(
    ("operator", "values", "expected"),
    [
        ("ArnEquals", "arn:aws:iam::111122223333:role/team/DatadogIntegrationRole", True),
        ("ArnLike", "arn:aws:iam::*:role/team/*", True),
        ("ArnLike", "arn:aws:iam::*:role/DatadogIntegrationRole", False),  # path matters
        ("ArnLike", "arn:aws:iam::*:role/*", True),
        ("ArnLike", "arn:aws:iam::11112222333?:role/*", True),
        ("ArnLike", "arn:aws:iam:*:role/*", False),  # wildcards do not cross ':' before the resource
        ("ArnLike", "arn:aws:iam::*:ROLE/*", False),  # case-sensitive
        ("ArnNotLike", ["arn:aws:iam::*:role/AWSControlTowerExecution", "arn:aws:iam::*:role/x"], True),
        ("ArnNotLike", "arn:aws:iam::*:role/team/*", False),
        ("ArnNotEquals", "arn:aws:iam::111122223333:role/other", True),
        ("ArnLike", "*", True),
    ],
)
def test_arn_operators(operator: str, values: Any, expected: bool) -> None:
    assert check(operator, "aws:PrincipalArn", values, ARN) is expected


@pytest.mark.parametrize(
    ("operator", "values", "expected"),
    [
        ("NumericEquals", "10", True),
        ("NumericEquals", 10, True),
        ("NumericEquals", "10.0", True),
        ("NumericNotEquals", ["10", "11"], False),
        ("NumericNotEquals", "11", True),
        ("NumericLessThan", "11", True),
        ("NumericLessThan", "10", False),
        ("NumericLessThanEquals", "10", True),
        ("NumericGreaterThan", "9.5", True),
        ("NumericGreaterThan", "10", False),
        ("NumericGreaterThanEquals", "10", True),
    ],
)
def test_numeric_operators(operator: str, values: Any, expected: bool) -> None:
    assert check(operator, "s3:max-keys", values, make_context({"s3:max-keys": "10"})) is expected


@pytest.mark.parametrize(
    ("operator", "values", "expected"),
    [
        ("DateEquals", "2025-01-01T00:00:00Z", True),
        ("DateEquals", "1735689600", True),  # epoch seconds
        ("DateNotEquals", "2025-01-02T00:00:00Z", True),
        ("DateLessThan", "2025-01-01T00:00:01Z", True),
        ("DateLessThan", "2025-01-01", False),
        ("DateLessThanEquals", "2025-01-01T01:00:00+01:00", True),
        ("DateGreaterThan", "2024-12-31T23:59:59Z", True),
        ("DateGreaterThanEquals", "2025-01-01T00:00:00.000Z", True),
    ],
)
def test_date_operators(operator: str, values: Any, expected: bool) -> None:
    now = make_context({"aws:TokenIssueTime": "2025-01-01T00:00:00Z"})
    assert check(operator, "aws:TokenIssueTime", values, now) is expected


def test_bool_accepts_json_booleans_and_strings() -> None:
    c = make_context({"aws:SecureTransport": "true"})
    assert check("Bool", "aws:SecureTransport", True, c) is True
    assert check("Bool", "aws:SecureTransport", "TRUE", c) is True
    assert check("Bool", "aws:SecureTransport", False, c) is False


@pytest.mark.parametrize(
    ("operator", "values", "expected"),
    [
        ("IpAddress", "203.0.113.0/24", True),
        ("IpAddress", ["10.0.0.0/8", "203.0.113.7"], True),
        ("IpAddress", "10.0.0.0/8", False),
        ("NotIpAddress", "10.0.0.0/8", True),
        ("NotIpAddress", ["10.0.0.0/8", "203.0.0.0/16"], False),
        ("IpAddress", "2001:db8::/32", False),
    ],
)
def test_ip_operators(operator: str, values: Any, expected: bool) -> None:
    assert check(operator, "aws:SourceIp", values, make_context({"aws:SourceIp": "203.0.113.7"})) is expected


def test_binary_equals_compares_decoded_bytes() -> None:
    c = make_context({"k": "aGVsbG8="})
    assert check("BinaryEquals", "k", "aGVsbG8=", c) is True
    assert check("BinaryEquals", "k", "d29ybGQ=", c) is False


# --- missing keys ----------------------------------------------------------------------

MISSING = make_context({}, absent=["aws:PrincipalTag/team", "aws:TagKeys"])


@pytest.mark.parametrize(
    ("operator", "expected"),
    [
        ("StringEquals", False),
        ("StringLike", False),
        ("ArnLike", False),
        ("NumericLessThan", False),
        ("DateLessThan", False),
        ("Bool", False),
        ("IpAddress", False),
        ("BinaryEquals", False),
        ("StringNotEquals", True),
        ("StringNotEqualsIgnoreCase", True),
        ("StringNotLike", True),
        ("ArnNotLike", True),
        ("ArnNotEquals", True),
        ("NumericNotEquals", True),
        ("DateNotEquals", True),
        ("NotIpAddress", True),
        ("StringEqualsIfExists", True),
        ("StringNotEqualsIfExists", True),
        ("ArnLikeIfExists", True),
        ("BoolIfExists", True),
        ("ForAllValues:StringEquals", True),
        ("ForAllValues:StringNotEquals", True),
        ("ForAnyValue:StringEquals", False),
        ("ForAnyValue:StringNotEquals", False),
    ],
)
def test_missing_key_rules(operator: str, expected: bool) -> None:
    values = {"Numeric": "1", "Date": "2025-01-01", "Bool": "true", "IpAddr": "10.0.0.0/8",
              "NotIpAddr": "10.0.0.0/8", "Binary": "aGVsbG8=", "Arn": "arn:aws:iam::*:role/x"}
    value = next((v for k, v in values.items() if k in operator), "x")
    assert check(operator, "aws:PrincipalTag/team", value, MISSING) is expected


def test_null_tests_presence() -> None:
    present = make_context({"aws:PrincipalTag/team": "a"}, absent=["aws:TokenIssueTime"])
    assert check("Null", "aws:PrincipalTag/team", "true", present) is False
    assert check("Null", "aws:PrincipalTag/team", "false", present) is True
    assert check("Null", "aws:TokenIssueTime", True, present) is True
    assert check("Null", "aws:TokenIssueTime", ["true", "false"], present) is True
    assert check("Null", "aws:SourceVpc", "true", present) is None  # unknown key
    secret = make_context({}, present_unknown=["sts:ExternalId"])
    assert check("Null", "sts:ExternalId", "false", secret) is True  # present even if unseen


def test_if_exists_on_present_key_applies_the_operator() -> None:
    assert check("StringEqualsIfExists", "aws:RequestedRegion", "us-east-1", REGION) is False
    assert check("StringNotEqualsIfExists", "aws:RequestedRegion", "us-east-1", REGION) is True


# --- multi-valued keys -------------------------------------------------------------------

TAGS = make_context({"aws:TagKeys": ["env", "owner"]})


@pytest.mark.parametrize(
    ("operator", "values", "expected"),
    [
        ("ForAllValues:StringEquals", ["env", "owner", "cost"], True),
        ("ForAllValues:StringEquals", ["env"], False),
        ("ForAnyValue:StringEquals", ["env"], True),
        ("ForAnyValue:StringEquals", ["cost"], False),
        ("ForAllValues:StringNotEquals", ["cost"], True),
        ("ForAllValues:StringNotEquals", ["env"], False),
        ("ForAnyValue:StringNotEquals", ["env"], True),
        ("ForAnyValue:StringNotEquals", ["env", "owner"], False),
        ("ForAnyValue:StringLike", ["own*"], True),
    ],
)
def test_set_qualifiers(operator: str, values: Any, expected: bool) -> None:
    assert check(operator, "aws:TagKeys", values, TAGS) is expected


def test_for_all_values_on_empty_set_is_true_for_any_value_false() -> None:
    empty = make_context({"aws:TagKeys": []})
    assert check("ForAllValues:StringEquals", "aws:TagKeys", "x", empty) is True
    assert check("ForAnyValue:StringEquals", "aws:TagKeys", "x", empty) is False


# --- combination rules ---------------------------------------------------------------------

def test_several_operators_and_keys_are_anded() -> None:
    c = make_context({"aws:RequestedRegion": "eu-west-1", "aws:PrincipalArn": "arn:aws:iam::1:role/x"})
    both = conditions({"StringEquals": {"aws:RequestedRegion": "eu-west-1"},
                       "ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/y"}})
    assert evaluate_conditions(both, c).value is False
    keys = conditions({"StringEquals": {"aws:RequestedRegion": "eu-west-1", "aws:PrincipalArn": "nope"}})
    assert evaluate_conditions(keys, c).value is False
    good = conditions({"StringEquals": {"aws:RequestedRegion": "eu-west-1"},
                       "ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/*"}})
    assert evaluate_conditions(good, c).value is True


# --- case rules ------------------------------------------------------------------------------

def test_condition_keys_are_case_insensitive_values_are_not() -> None:
    c = make_context({"aws:PrincipalTag/Team": "Payments"})
    assert check("StringEquals", "AWS:principaltag/TEAM", "Payments", c) is True
    assert check("StringEquals", "aws:PrincipalTag/team", "payments", c) is False
    assert check("StringEqualsIgnoreCase", "aws:PrincipalTag/team", "payments", c) is True
    assert check("StringLike", "aws:PrincipalTag/team", "pay*", c) is False


def test_operator_names_are_read_case_insensitively() -> None:
    assert check("stringequals", "aws:RequestedRegion", "eu-west-1", REGION) is True


# --- unknown keys and policy variables ---------------------------------------------------------

def test_unknown_key_is_unknown_and_named() -> None:
    (cond,) = conditions({"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}})
    result = evaluate_condition(cond, Context())
    assert result.value is None and result.unknown == {"aws:SourceIp"}


def test_present_key_with_unseen_value_is_unknown_for_value_operators() -> None:
    c = make_context({}, present_unknown=["sts:ExternalId"])
    assert check("StringEquals", "sts:ExternalId", "abc", c) is None
    assert check("StringEqualsIfExists", "sts:ExternalId", "abc", c) is None


def test_unknown_and_false_is_false_unknown_and_true_is_unknown() -> None:
    c = make_context({"aws:RequestedRegion": "eu-west-1"})
    decided = conditions({"StringEquals": {"aws:RequestedRegion": "us-east-1"},
                          "IpAddress": {"aws:SourceIp": "1.2.3.4"}})
    assert evaluate_conditions(decided, c).value is False
    undecided = conditions({"StringEquals": {"aws:RequestedRegion": "eu-west-1"},
                            "IpAddress": {"aws:SourceIp": "1.2.3.4"}})
    result = evaluate_conditions(undecided, c)
    assert result.value is None and result.unknown == {"aws:SourceIp"}


def test_policy_variables_are_substituted() -> None:
    c = make_context({"aws:ResourceAccount": "111122223333", "aws:PrincipalAccount": "111122223333"})
    assert check("StringEquals", "aws:ResourceAccount", "${aws:PrincipalAccount}", c) is True
    assert check("StringNotEquals", "aws:ResourceAccount", "${aws:PrincipalAccount}", c) is False
    other = make_context({"aws:ResourceAccount": "111122223333", "aws:PrincipalAccount": "444455556666"})
    assert check("StringEquals", "aws:ResourceAccount", "${aws:PrincipalAccount}", other) is False
    arn = make_context({"aws:PrincipalArn": "arn:aws:iam::111122223333:role/x",
                        "aws:PrincipalAccount": "111122223333"})
    assert check("ArnLike", "aws:PrincipalArn", "arn:aws:iam::${aws:PrincipalAccount}:role/*", arn) is True


def test_policy_variable_special_characters_and_defaults() -> None:
    star = make_context({"k": "a*"})
    assert check("StringLike", "k", "a${*}", star) is True
    assert check("StringLike", "k", "a${*}", make_context({"k": "ab"})) is False  # ${*} is a literal '*'
    dflt = make_context({"k": "none"}, absent=["aws:PrincipalTag/team"])
    assert check("StringEquals", "k", "${aws:PrincipalTag/team, 'none'}", dflt) is True


def test_unresolvable_policy_variable_is_unknown() -> None:
    c = make_context({"k": "v"})
    (cond,) = conditions({"StringEquals": {"k": "${aws:SourceVpc}"}})
    result = evaluate_condition(cond, c)
    assert result.value is None and "aws:sourcevpc" in result.unknown
    # ...unless another value already matches.
    assert check("StringEquals", "k", ["v", "${aws:SourceVpc}"], c) is True
