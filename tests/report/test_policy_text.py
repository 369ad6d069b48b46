"""The report's policy facts agree with the policy parser the checks use (one reader of policy JSON)."""

from __future__ import annotations

import json

from auditor.report.policy_text import external_id_state, external_ids, region_restriction, trust_principals

DATADOG_ROOT = "arn:aws:iam::464622532012:root"
EXTERNAL_ID = "0123456789abcdef0123456789abcdef"


def _trust(statement: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def test_lower_case_allow_trusts_like_the_checks_read_it() -> None:
    # IAM reads Effect case-insensitively, and so do the trust checks: the report must too.
    doc = _trust({"Effect": "allow", "Principal": {"AWS": DATADOG_ROOT}, "Action": "sts:AssumeRole",
                  "Condition": {"StringEquals": {"sts:ExternalId": EXTERNAL_ID}}})
    assert trust_principals(doc) == DATADOG_ROOT
    assert external_ids(doc) == [EXTERNAL_ID]
    assert external_id_state(doc, [], show=False) == "****" + EXTERNAL_ID[-4:]


def test_principal_types_are_read_case_insensitively() -> None:
    doc = _trust({"Effect": "Allow", "Principal": {"aws": DATADOG_ROOT, "service": "ec2.amazonaws.com"},
                  "Action": "sts:AssumeRole"})
    assert trust_principals(doc) == f"{DATADOG_ROOT}; Service: ec2.amazonaws.com"


def test_wildcard_and_not_principal_are_named() -> None:
    star = _trust({"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole"})
    aws_star = _trust({"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"})
    but = _trust({"Effect": "Allow", "NotPrincipal": {"AWS": DATADOG_ROOT}, "Action": "sts:AssumeRole"})
    assert (trust_principals(star), trust_principals(aws_star), trust_principals(but)) == (
        "* (anyone)", "*", "NotPrincipal (everyone but ...)")


def test_a_trust_policy_the_checks_cannot_read_is_not_shown_as_trusting_anyone() -> None:
    # No Action: IAM refuses it and the checks report trust_policy_invalid; the report lists no principal.
    doc = _trust({"Effect": "Allow", "Principal": {"AWS": DATADOG_ROOT}})
    assert trust_principals(doc).startswith("(trust policy cannot be read: ")
    assert "neither Action nor NotAction" in trust_principals(doc)
    assert trust_principals("{not json") == "(trust policy is not valid JSON)"


def test_external_ids_already_masked_in_a_saved_inventory_stay_as_saved() -> None:
    doc = _trust({"Effect": "Allow", "Principal": {"AWS": DATADOG_ROOT}, "Action": "sts:AssumeRole",
                  "Condition": {"StringEquals": {"sts:ExternalId": "****cdef"}}})
    assert external_id_state(doc, ["trust_external_id_mismatch"], show=False) == (
        "****cdef; failing: trust_external_id_mismatch")


def test_region_conditions_come_from_the_parsed_policy() -> None:
    scp = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Deny", "NotAction": "iam:*", "Resource": "*",
         "Condition": {"StringNotEquals": {"AWS:RequestedRegion": ["us-east-1", "eu-west-1"]}}}]})
    assert region_restriction(scp) == ("yes", "Deny StringNotEquals: us-east-1, eu-west-1")


def test_a_policy_the_parser_refuses_is_not_reported_as_restricting_by_its_conditions() -> None:
    # Lower-case "deny": Organizations refuses it, and the region matrix does not apply it.
    scp = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "deny", "Action": "*", "Resource": "*",
         "Condition": {"StringNotEquals": {"aws:RequestedRegion": "us-east-1"}}}]})
    restricts, shown = region_restriction(scp)
    assert restricts == "yes" and shown.startswith("(policy cannot be read: ")
    assert "Effect" in shown
