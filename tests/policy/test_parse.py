"""The parser reads every shape AWS accepts and names statement and element when it cannot."""

from __future__ import annotations

import json

import pytest

from auditor.policy.document import PolicyError, parse_policy

from .builders import CONTROL_TOWER, DOCS_EU, PERIMETER, real


@pytest.mark.parametrize("name", [CONTROL_TOWER, DOCS_EU, PERIMETER])
def test_real_policies_parse(name: str) -> None:
    parsed = parse_policy(real(name), policy_id="p-1", name=name)
    assert len(parsed.statements) == 1
    assert parsed.statements[0].effect == "Deny"


def test_statement_may_be_an_object_or_a_list() -> None:
    one = parse_policy({"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}})
    many = parse_policy({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "*", "Resource": "*"}, {"Effect": "Deny", "Action": ["ec2:*"]}]})
    assert len(one.statements) == 1
    assert [s.effect for s in many.statements] == ["Allow", "Deny"]


def test_action_resource_principal_accept_string_or_list() -> None:
    parsed = parse_policy({"Version": "2012-10-17", "Statement": [
        {"Effect": "Deny", "Action": "s3:*", "Resource": "arn:aws:s3:::b", "Principal": "*"},
        {"Effect": "Deny", "NotAction": ["s3:*", "ec2:*"], "NotResource": ["arn:aws:s3:::b"],
         "Principal": {"AWS": ["111122223333", "arn:aws:iam::444455556666:root"]}},
        {"Effect": "Deny", "Action": "sts:AssumeRole", "NotPrincipal": {"AWS": "*"}},
    ]})
    first, second, third = parsed.statements
    assert first.actions == ("s3:*",) and not first.not_action
    assert second.actions == ("s3:*", "ec2:*") and second.not_action and second.not_resource
    assert [p.value for p in second.principals or ()] == ["111122223333", "arn:aws:iam::444455556666:root"]
    assert third.not_principal


def test_condition_values_scalar_list_bool_number_are_normalised() -> None:
    parsed = parse_policy({"Version": "2012-10-17", "Statement": [{
        "Effect": "Deny", "Action": "*", "Resource": "*",
        "Condition": {"Bool": {"aws:SecureTransport": False}, "NumericLessThan": {"s3:max-keys": [10, 2.5]},
                      "StringEquals": {"aws:RequestedRegion": "eu-west-1"}}}]})
    conds = {c.base: c.values for c in parsed.statements[0].conditions}
    assert conds == {"Bool": ("false",), "NumericLessThan": ("10", "2.5"), "StringEquals": ("eu-west-1",)}


def test_missing_resource_means_every_resource() -> None:
    parsed = parse_policy({"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "*"}]})
    assert [p.raw for p in parsed.statements[0].resource_patterns] == ["*"]


def test_operator_qualifiers_and_if_exists_are_split() -> None:
    parsed = parse_policy({"Version": "2012-10-17", "Statement": [{
        "Effect": "Deny", "Action": "*", "Resource": "*",
        "Condition": {"ForAnyValue:StringNotLikeIfExists": {"aws:TagKeys": "x*"}}}]})
    cond = parsed.statements[0].conditions[0]
    assert (cond.base, cond.qualifier, cond.if_exists, cond.negated) == ("StringNotLike", "ForAnyValue", True, True)


def _error(document: object) -> PolicyError:
    with pytest.raises(PolicyError) as info:
        parse_policy(json.dumps(document) if not isinstance(document, str) else document,
                     policy_id="p-abc", name="Guardrails")
    return info.value


def test_error_names_policy_statement_sid_and_element() -> None:
    err = _error({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "*", "Resource": "*"},
        {"Sid": "RegionLock", "Effect": "Deny", "Action": "*", "Resource": "*",
         "Condition": {"StringEqualz": {"aws:RequestedRegion": "eu-west-1"}}}]})
    msg = str(err)
    assert "p-abc (Guardrails)" in msg and "statement 1" in msg and "'RegionLock'" in msg
    assert "Condition.StringEqualz" in msg and "not a condition operator" in msg
    assert (err.policy_id, err.statement, err.sid) == ("p-abc", 1, "RegionLock")


@pytest.mark.parametrize(
    ("statement", "element", "problem"),
    [
        ({"Effect": "Permit", "Action": "*"}, "Effect", "'Allow' or 'Deny'"),
        ({"Effect": "Deny"}, "Action", "needs Action or NotAction"),
        ({"Effect": "Deny", "Action": "*", "NotAction": "s3:*"}, "NotAction", "both"),
        ({"Effect": "Deny", "Action": "s3"}, "Action", "'service:action'"),
        ({"Effect": "Deny", "Action": []}, "Action", "empty list"),
        ({"Effect": "Deny", "Action": [1]}, "Action[0]", "must be a string"),
        ({"Effect": "Deny", "Action": "*", "Resource": "bucket"}, "Resource", "an ARN"),
        ({"Effect": "Deny", "Action": "*", "Principal": {"Users": "x"}}, "Principal.Users", "principal type"),
        ({"Effect": "Deny", "Action": "*", "Principal": {"AWS": "bob"}}, "Principal.AWS", "account id"),
        ({"Effect": "Deny", "Action": "*", "Condition": {"Bool": {"aws:SecureTransport": "yes"}}},
         "Condition.Bool.aws:SecureTransport", "true or false"),
        ({"Effect": "Deny", "Action": "*", "Condition": {"NumericLessThan": {"k": "ten"}}},
         "Condition.NumericLessThan.k", "not a number"),
        ({"Effect": "Deny", "Action": "*", "Condition": {"DateLessThan": {"aws:CurrentTime": "soon"}}},
         "Condition.DateLessThan.aws:CurrentTime", "not a date"),
        ({"Effect": "Deny", "Action": "*", "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/33"}}},
         "Condition.IpAddress.aws:SourceIp", "CIDR"),
        ({"Effect": "Deny", "Action": "*", "Condition": {"StringEquals": {"k": None}}},
         "Condition.StringEquals.k", "found null"),
        ({"Effect": "Deny", "Action": "*", "Condition": {"StringEquals": {"k": []}}},
         "Condition.StringEquals.k", "empty list"),
        ({"Effect": "Deny", "Action": "*", "Condition": {"StringEquals": "k"}}, "Condition.StringEquals", "object"),
        ({"Effect": "Deny", "Action": "*", "Condition": {"NullIfExists": {"k": "true"}}}, "Condition.NullIfExists",
         "not a condition operator"),
        ({"Effect": "Deny", "Action": "*", "Actions": "s3:*"}, "Actions", "unknown element"),
    ],
)
def test_invalid_statement_is_reported_with_its_element(statement: dict, element: str, problem: str) -> None:
    msg = str(_error({"Version": "2012-10-17", "Statement": [statement]}))
    assert f"statement 0: {element}:" in msg, msg
    assert problem in msg, msg


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        ("{not json", "not valid JSON"),
        ([], "must be a JSON object"),
        ({"Version": "2012-10-17"}, "no Statement"),
        ({"Version": "2012-10-17", "Statement": []}, "empty list"),
        ({"Version": "2012-10-17", "Statement": "Allow"}, "object or a list"),
        ({"Version": "2020-01-01", "Statement": []}, "Version"),
        ({"Version": "2012-10-17", "Statement": [], "Extra": 1}, "unknown top-level element 'Extra'"),
    ],
)
def test_invalid_document_is_reported(document: object, problem: str) -> None:
    msg = str(_error(document))
    assert msg.startswith("policy p-abc (Guardrails): "), msg
    assert problem in msg, msg


def test_policy_variables_are_literal_in_version_2008() -> None:
    old = parse_policy({"Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*",
                                       "Condition": {"StringEquals": {"k": "${aws:PrincipalAccount}"}}}]})
    new = parse_policy({"Version": "2012-10-17", "Statement": [{
        "Effect": "Deny", "Action": "*", "Resource": "*",
        "Condition": {"StringEquals": {"k": "${aws:PrincipalAccount}"}}}]})
    assert not old.statements[0].conditions[0].patterns[0].has_vars
    assert new.statements[0].conditions[0].patterns[0].has_vars
