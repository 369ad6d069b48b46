"""Role policies (trust and identity) read by the one policy parser: every shape IAM accepts,
and clear errors that never show a value for the rest."""

from __future__ import annotations

import json
import urllib.parse

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from auditor.policy.document import role_statements as parse_policy
from auditor.policy.model import PolicyError as PolicyDocumentError
from auditor.policy.model import parse_principal

from .strategies import role_policy_json

US = "464622532012"
EXTERNAL_ID = "4f1c2e3d5a6b7c8d9e0fa1b2c3d4e5f6"


def _shape(statements):
    """The normalized content without the raw JSON (which keeps the original shape)."""
    return [(s.effect, s.principals, s.not_principal, s.actions, s.not_action, s.conditions) for s in statements]


def test_statement_object_and_single_item_list_normalize_the_same():
    stmt = {"Effect": "Allow", "Principal": {"AWS": US}, "Action": "sts:AssumeRole"}
    as_object = parse_policy(json.dumps({"Statement": stmt}), trust=True)
    as_list = parse_policy(json.dumps({"Statement": [stmt]}), trust=True)
    assert _shape(as_object) == _shape(as_list)
    assert as_object[0].label == "Statement[0]"


def test_action_and_principal_string_or_list_normalize_the_same():
    scalar = {"Effect": "Allow", "Principal": {"AWS": US}, "Action": "sts:AssumeRole"}
    listed = {"Effect": "Allow", "Principal": {"AWS": [US]}, "Action": ["sts:AssumeRole"]}
    assert _shape(parse_policy(json.dumps({"Statement": scalar}), trust=True)) == _shape(
        parse_policy(json.dumps({"Statement": listed}), trust=True)
    )


def test_condition_value_scalar_or_list_and_booleans_become_strings():
    doc = {
        "Statement": {
            "Effect": "Allow",
            "Principal": {"AWS": US},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"sts:ExternalId": EXTERNAL_ID}, "Bool": {"aws:SecureTransport": True}},
        }
    }
    (stmt,) = parse_policy(json.dumps(doc), trust=True)
    assert stmt.conditions_on("STS:EXTERNALID")[0].values == (EXTERNAL_ID,)
    assert stmt.conditions_on("aws:SecureTransport")[0].values == ("true",)


@pytest.mark.parametrize(
    ("value", "shape", "account", "partition"),
    [
        (f"arn:aws:iam::{US}:root", "root", US, "aws"),
        (US, "account", US, None),
        (f"arn:aws:iam::{US}:role/DatadogAWSIntegrationRole", "role", US, "aws"),
        (f"arn:aws:iam::{US}:user/ops/someone", "user", US, "aws"),
        (f"arn:aws:sts::{US}:assumed-role/R/session", "assumed_role", US, "aws"),
        ("arn:aws-us-gov:iam::065115117704:root", "root", "065115117704", "aws-us-gov"),
        ("*", "wildcard", None, None),
        ("AROAEXAMPLEUNIQUEID", "other", None, None),
        ("46462253201", "other", None, None),
    ],
)
def test_aws_principal_shapes(value, shape, account, partition):
    p = parse_principal("AWS", value)
    assert (p.shape, p.account, p.partition) == (shape, account, partition)


def test_principal_star_string_and_aws_star_are_both_wildcards():
    for principal in ("*", {"AWS": "*"}):
        (stmt,) = parse_policy(
            json.dumps({"Statement": {"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}}),
            trust=True,
        )
        assert [p.wildcard for p in stmt.principals] == [True]


def test_service_and_federated_principal_types_are_kept_with_canonical_case():
    doc = {
        "Statement": {
            "Effect": "Allow",
            "Principal": {"service": "ec2.amazonaws.com", "Federated": "cognito-identity.amazonaws.com"},
            "Action": "sts:AssumeRoleWithWebIdentity",
        }
    }
    (stmt,) = parse_policy(json.dumps(doc), trust=True)
    assert {(p.type, p.value) for p in stmt.principals} == {
        ("Service", "ec2.amazonaws.com"),
        ("Federated", "cognito-identity.amazonaws.com"),
    }


def test_url_encoded_document_as_iam_raw_api_returns_it():
    doc = json.dumps({"Statement": {"Effect": "Allow", "Principal": {"AWS": US}, "Action": "sts:AssumeRole"}})
    (stmt,) = parse_policy(urllib.parse.quote(doc), trust=True)
    assert stmt.principals[0].account == US


def test_action_wildcards_match_case_insensitively():
    (stmt,) = parse_policy(
        json.dumps({"Statement": {"Effect": "Allow", "Principal": "*", "Action": "STS:Assume*"}}), trust=True
    )
    assert stmt.allows("sts:AssumeRole")
    assert not stmt.allows("sts:GetCallerIdentity")


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ('{"Statement": [', "not valid JSON"),
        ("", "empty"),
        ("[]", "must be a JSON object, found a list"),
        ('{"Version": "2012-10-17"}', "no Statement"),
        ('{"Statement": "x"}', "Statement must be an object or a list"),
        ('{"Statement": []}', "empty list"),
        ('{"Statement": [1]}', "Statement[0] must be an object"),
        ('{"Statement": {"Principal": "*", "Action": "sts:AssumeRole"}}', "Statement.Effect"),
        ('{"Statement": {"Effect": "Allow", "Action": "sts:AssumeRole"}}', "Statement has no Principal"),
        ('{"Statement": {"Effect": "Allow", "Principal": ["*"], "Action": "a:b"}}', "Statement.Principal must be"),
        ('{"Statement": {"Effect": "Allow", "Principal": {"AWS": [1]}, "Action": "a:b"}}', "Principal.AWS[0]"),
        ('{"Statement": {"Effect": "Allow", "Principal": "*"}}', "neither Action nor NotAction"),
        ('{"Statement": {"Effect": "Allow", "Principal": "*", "Action": 5}}', "Statement.Action must be"),
        (
            '{"Statement": {"Effect": "Allow", "Principal": "*", "Action": "a:b", "Condition": []}}',
            "Statement.Condition must be an object",
        ),
    ],
)
def test_malformed_documents_raise_one_clear_error_naming_the_place(document, message):
    with pytest.raises(PolicyDocumentError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_policy(document, trust=True)


def test_errors_never_quote_condition_values():
    doc = {
        "Statement": {
            "Effect": "Allow",
            "Principal": "*",
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"sts:ExternalId": [{"nested": EXTERNAL_ID}]}},
        }
    }
    with pytest.raises(PolicyDocumentError) as err:
        parse_policy(json.dumps(doc), trust=True)
    assert EXTERNAL_ID not in str(err.value)
    assert "Statement.Condition.StringEquals.sts:ExternalId[0]" in str(err.value)


def _parse_or_error(text: str, *, trust: bool) -> None:
    """Either statements with a valid effect, or PolicyDocumentError; nothing else may escape."""
    try:
        statements = parse_policy(text, trust=trust)
    except PolicyDocumentError as exc:
        assert str(exc)
        return
    assert statements and all(s.effect in ("Allow", "Deny") and s.actions for s in statements)
    if trust:
        assert all(s.principals for s in statements)


@settings(max_examples=300, deadline=None)
@given(role_policy_json)
def test_normalizer_never_crashes_on_any_json(data):
    _parse_or_error(json.dumps(data), trust=True)
    _parse_or_error(json.dumps(data), trust=False)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40))
def test_normalizer_never_crashes_on_any_text(text):
    _parse_or_error(text, trust=True)
