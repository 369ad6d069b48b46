"""Trust policy checks: principal, action and external id, one problem at a time and combined."""

from __future__ import annotations

import json

import pytest

from auditor.model import Severity, Status

from .builders import (
    AP1,
    EXTERNAL_ID,
    GOV_COMMERCIAL,
    GOV_GOV,
    OTHER_EXTERNAL_ID,
    US,
    assert_no_secret,
    datadog_statement,
    expected,
    failing,
    ids,
    one,
    role,
    run,
    run_trust,
    snapshot,
)

US_ROOT = f"arn:aws:iam::{US}:root"


def test_healthy_role_yields_exactly_one_role_present_pass_and_no_fail():
    findings = run()
    assert [(f.check, f.status) for f in findings] == [("role_present", Status.PASS)]
    assert "****" in findings[0].detail
    assert_no_secret(findings)


@pytest.mark.parametrize(
    "statement",
    [
        datadog_statement(Principal={"AWS": US}),
        datadog_statement(Principal={"AWS": [US_ROOT]}),
        datadog_statement(Action=["sts:AssumeRole"]),
        datadog_statement(Action="sts:*"),
        datadog_statement(Action="*"),
        datadog_statement(Condition={"StringEquals": {"sts:ExternalId": [EXTERNAL_ID]}}),
        datadog_statement(Condition={"StringLike": {"sts:ExternalId": EXTERNAL_ID}}),
        datadog_statement(
            Condition={"StringEquals": {"sts:ExternalId": EXTERNAL_ID}, "Bool": {"aws:SecureTransport": "true"}}
        ),
    ],
    ids=[
        "bare-account-id",
        "principal-list",
        "action-list",
        "sts-star",
        "star",
        "condition-list",
        "stringlike-no-wildcard",
        "secure-transport",
    ],
)
def test_equivalent_healthy_shapes_pass(statement):
    findings = run_trust(statement)
    assert failing(findings) == set()
    assert ids(findings) == {"role_present"}


def test_statement_as_object_instead_of_list_passes():
    doc = json.dumps({"Version": "2012-10-17", "Statement": datadog_statement()})
    assert ids(run(snapshot(role(doc)))) == {"role_present"}


# --- principals ---------------------------------------------------------------------------


@pytest.mark.parametrize("principal", ["*", {"AWS": "*"}, {"AWS": [US_ROOT, "*"]}])
def test_wildcard_principal_is_critical(principal):
    findings = run_trust(datadog_statement(Principal=principal))
    f = one(findings, "trust_principal_wildcard")
    assert f.severity is Severity.CRITICAL and f.status is Status.FAIL
    assert "Statement[0]" in f.detail and US_ROOT in f.detail
    assert "role_present" not in ids(findings)


def test_wildcard_mentions_the_conditions_that_are_the_only_limit():
    f = one(run_trust(datadog_statement(Principal="*")), "trust_principal_wildcard")
    assert "limited only by conditions on sts:ExternalId" in f.detail


def test_allow_with_not_principal_is_a_wildcard():
    findings = run_trust(datadog_statement(Principal=None, NotPrincipal={"AWS": "arn:aws:iam::111111111111:root"}))
    assert "trust_principal_wildcard" in ids(findings)
    assert "everyone except the NotPrincipal" in one(findings, "trust_principal_wildcard").detail


def test_ap1_customer_trusting_the_us_account_is_the_wrong_account():
    findings = run_trust(datadog_statement(account=US), site="ap1.datadoghq.com")
    assert failing(findings) == {"trust_principal_wrong_account"}
    f = one(findings, "trust_principal_wrong_account")
    assert f"arn:aws:iam::{AP1}:root" in f.detail  # expected
    assert US_ROOT in f.detail and "datadoghq.com" in f.detail  # found, and whose it is
    assert json.loads(f.evidence)["expected"] == f"arn:aws:iam::{AP1}:root"


def test_us_sites_share_one_account():
    for site in ("datadoghq.com", "us3.datadoghq.com", "us5.datadoghq.com", "datadoghq.eu"):
        assert failing(run_trust(datadog_statement(account=US), site=site)) == set()


def test_govcloud_partition_trusting_ddog_gov_govcloud_account_passes():
    findings = run_trust(
        datadog_statement(account=GOV_GOV, partition="aws-us-gov"), site="ddog-gov.com", partition="aws-us-gov"
    )
    assert ids(findings) == {"role_present"}
    assert f"arn:aws-us-gov:iam::{GOV_GOV}:root" in findings[0].detail


def test_govcloud_customer_trusting_the_us_account_names_both():
    findings = run_trust(
        datadog_statement(account=US, partition="aws-us-gov"), site="ddog-gov.com", partition="aws-us-gov"
    )
    f = one(findings, "trust_principal_wrong_account")
    assert f"arn:aws-us-gov:iam::{GOV_GOV}:root" in f.detail and US in f.detail


def test_govcloud_principal_written_with_commercial_partition_is_wrong():
    findings = run_trust(
        datadog_statement(account=GOV_GOV, partition="aws"), site="ddog-gov.com", partition="aws-us-gov"
    )
    f = one(findings, "trust_principal_wrong_account")
    assert "another partition" in f.detail


def test_ddog_gov_site_in_commercial_partition_expects_its_commercial_account():
    assert failing(run_trust(datadog_statement(account=GOV_COMMERCIAL), site="ddog-gov.com")) == set()
    findings = run_trust(datadog_statement(account=GOV_GOV), site="ddog-gov.com")
    f = one(findings, "trust_principal_wrong_account")
    assert GOV_COMMERCIAL in f.detail and GOV_GOV in f.detail


def test_site_without_an_account_in_the_partition_says_so_and_names_serving_sites():
    findings = run_trust(
        datadog_statement(account=US, partition="aws-us-gov"), site="datadoghq.com", partition="aws-us-gov"
    )
    f = one(findings, "trust_principal_wrong_account")
    assert "no AWS account in partition 'aws-us-gov'" in f.detail
    assert "ddog-gov.com" in f.detail and "us2.ddog-gov.com" in f.detail


def test_trusting_no_datadog_account_at_all_names_what_it_trusts():
    findings = run_trust(datadog_statement(account="111122223333"))
    assert failing(findings) == {"trust_principal_wrong_account"}
    assert "arn:aws:iam::111122223333:root" in one(findings, "trust_principal_wrong_account").detail


def test_role_arn_in_datadogs_account_is_wrong_shape_but_same_account():
    stmt = datadog_statement(Principal={"AWS": f"arn:aws:iam::{US}:role/DatadogAWSIntegrationRole"})
    findings = run_trust(stmt)
    assert failing(findings) == {"trust_principal_not_root"}
    assert US_ROOT in one(findings, "trust_principal_not_root").detail


def test_role_arn_next_to_the_root_principal_is_fine():
    stmt = datadog_statement(Principal={"AWS": [US_ROOT, f"arn:aws:iam::{US}:role/X"]})
    assert failing(run_trust(stmt)) == set()


def test_extra_aws_principal_is_reported_by_value():
    stmt = datadog_statement(Principal={"AWS": [US_ROOT, "arn:aws:iam::111122223333:role/admin"]})
    findings = run_trust(stmt)
    assert failing(findings) == {"trust_principal_extra"}
    assert "arn:aws:iam::111122223333:role/admin" in one(findings, "trust_principal_extra").detail


def test_service_principal_with_assume_role_is_extra():
    svc = {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
    findings = run_trust(datadog_statement(), svc)
    assert failing(findings) == {"trust_principal_extra"}
    assert "Service ec2.amazonaws.com" in one(findings, "trust_principal_extra").detail


def test_federated_principal_with_web_identity_only_is_not_extra():
    fed = {
        "Effect": "Allow",
        "Principal": {"Federated": "arn:aws:iam::012345678901:oidc-provider/x"},
        "Action": "sts:AssumeRoleWithWebIdentity",
    }
    assert failing(run_trust(datadog_statement(), fed)) == set()


def test_second_datadog_account_next_to_the_right_one_is_extra_not_wrong():
    findings = run_trust(datadog_statement(), datadog_statement(account=AP1))
    assert failing(findings) == {"trust_principal_extra"}
    assert "ap1.datadoghq.com" in one(findings, "trust_principal_extra").detail


# --- action -------------------------------------------------------------------------------


def test_deny_statement_for_datadog_is_action_missing():
    findings = run_trust(datadog_statement(Effect="Deny"))
    assert failing(findings) == {"trust_action_missing"}
    assert "Statement[0] is a Deny" in one(findings, "trust_action_missing").detail


def test_only_web_identity_action_is_action_missing():
    findings = run_trust(datadog_statement(Action="sts:AssumeRoleWithWebIdentity"))
    assert failing(findings) == {"trust_action_missing"}
    assert "allows only sts:AssumeRoleWithWebIdentity" in one(findings, "trust_action_missing").detail


def test_datadog_in_not_principal_is_action_missing():
    stmt = datadog_statement(Effect="Deny", Principal=None, NotPrincipal={"AWS": US_ROOT})
    findings = run_trust(datadog_statement(), stmt)
    assert failing(findings) == set()  # Deny everyone except Datadog: Datadog still allowed
    findings = run_trust(datadog_statement(Principal=None, NotPrincipal={"AWS": US_ROOT}))
    assert {"trust_action_missing", "trust_principal_wildcard"} <= failing(findings)


def test_unconditional_deny_of_everyone_overrides_the_allow():
    deny = {"Effect": "Deny", "Principal": "*", "Action": "sts:*"}
    findings = run_trust(datadog_statement(), deny)
    assert failing(findings) == {"trust_action_missing"}
    assert "Statement[1] denies sts:AssumeRole" in one(findings, "trust_action_missing").detail


def test_not_action_excluding_assume_role_is_action_missing():
    findings = run_trust(datadog_statement(Action=None, NotAction="sts:AssumeRole"))
    assert failing(findings) == {"trust_action_missing"}


# --- external id --------------------------------------------------------------------------


def test_missing_external_id_is_high():
    findings = run_trust(datadog_statement(external_id=None))
    f = one(findings, "trust_external_id_missing")
    assert f.severity is Severity.HIGH and "confused deputy" in f.detail
    assert failing(findings) == {"trust_external_id_missing"}


@pytest.mark.parametrize(
    ("condition", "words"),
    [
        ({"StringLike": {"sts:ExternalId": "4f1c*"}}, "wildcard"),
        ({"StringEquals": {"sts:ExternalId": [EXTERNAL_ID, OTHER_EXTERNAL_ID]}}, "2 different external ids"),
        ({"StringEqualsIfExists": {"sts:ExternalId": EXTERNAL_ID}}, "without any external id"),
        (
            {"StringEquals": {"sts:ExternalId": EXTERNAL_ID}, "IpAddress": {"aws:SourceIp": "10.0.0.0/8"}},
            "aws:SourceIp",
        ),
        ({"StringEquals": {"sts:ExternalId": EXTERNAL_ID, "aws:PrincipalOrgID": "o-abc"}}, "aws:PrincipalOrgID"),
        ({"StringEquals": {"sts:ExternalId": EXTERNAL_ID, "aws:PrincipalTag/team": "x"}}, "aws:PrincipalTag/team"),
        (
            {"StringEquals": {"sts:ExternalId": EXTERNAL_ID}, "StringEqualsIfExists": {"aws:SourceVpc": "vpc-1"}},
            "aws:SourceVpc",
        ),
        (
            {"StringEquals": {"sts:ExternalId": EXTERNAL_ID, "aws:PrincipalAccount": "111122223333"}},
            "aws:PrincipalAccount",
        ),
        ({"Null": {"sts:ExternalId": "false"}}, "Null only tests"),
        ({"ForAllValues:StringEquals": {"sts:ExternalId": EXTERNAL_ID}}, "no external id"),
    ],
)
def test_loose_external_id_conditions(condition, words):
    findings = run_trust(datadog_statement(Condition=condition))
    f = one(findings, "trust_external_id_loose")
    assert words in f.detail
    assert "trust_external_id_mismatch" not in ids(findings)
    assert_no_secret(findings)


def test_principal_account_condition_naming_datadog_is_satisfiable():
    cond = {"StringEquals": {"sts:ExternalId": EXTERNAL_ID, "aws:PrincipalAccount": US}}
    assert failing(run_trust(datadog_statement(Condition=cond))) == set()


def test_stale_ids_in_two_statements_are_loose():
    findings = run_trust(datadog_statement(), datadog_statement(external_id=OTHER_EXTERNAL_ID))
    assert failing(findings) == {"trust_external_id_loose"}


def test_different_external_id_is_a_mismatch_with_masked_values():
    findings = run_trust(datadog_statement(external_id=OTHER_EXTERNAL_ID))
    f = one(findings, "trust_external_id_mismatch")
    assert f.severity is Severity.HIGH
    assert "****0000" in f.detail and "****e5f6" in f.detail
    assert failing(findings) == {"trust_external_id_mismatch"}
    assert_no_secret(findings)


def test_external_id_with_trailing_space_is_a_mismatch_that_says_why():
    findings = run_trust(datadog_statement(), expected_values=expected(EXTERNAL_ID + " "))
    f = one(findings, "trust_external_id_mismatch")
    assert "invisible characters" in f.detail and "trailing U+0020 SPACE" in f.detail
    assert "␠" in f.detail  # the masked value shows its last characters visibly


def test_show_external_ids_reveals_them():
    findings = run_trust(datadog_statement(external_id=OTHER_EXTERNAL_ID), show_external_ids=True)
    f = one(findings, "trust_external_id_mismatch")
    assert OTHER_EXTERNAL_ID in f.detail and EXTERNAL_ID in f.detail


def test_evidence_holds_the_statement_with_external_id_masked():
    f = one(run_trust(datadog_statement(external_id=OTHER_EXTERNAL_ID)), "trust_external_id_mismatch")
    evidence = json.loads(f.evidence)
    stmt = evidence["statements"]["Statement[0]"]
    assert stmt["Principal"] == {"AWS": US_ROOT}
    assert stmt["Condition"]["StringEquals"]["sts:ExternalId"] == "****0000"


def test_without_expected_values_the_id_is_reported_not_compared():
    findings = run(expected_values=None)
    f = one(findings, "external_id_not_compared")
    assert f.status is Status.ERROR and f.severity is Severity.INFO
    assert "role_present" in ids(findings)  # a note, not a failure
    assert "not compared" in one(findings, "role_present").detail


def test_deny_unless_external_id_is_an_accepted_way_to_require_it():
    deny = {
        "Effect": "Deny",
        "Principal": "*",
        "Action": "sts:AssumeRole",
        "Condition": {"StringNotEquals": {"sts:ExternalId": EXTERNAL_ID}},
    }
    assert failing(run_trust(datadog_statement(external_id=None), deny)) == set()
    findings = run_trust(
        datadog_statement(external_id=None),
        {**deny, "Condition": {"StringNotEquals": {"sts:ExternalId": OTHER_EXTERNAL_ID}}},
    )
    assert failing(findings) == {"trust_external_id_mismatch"}


def test_wrong_account_statement_still_gets_its_external_id_checked():
    findings = run_trust(datadog_statement(account=US, external_id=None), site="ap1.datadoghq.com")
    assert failing(findings) == {"trust_principal_wrong_account", "trust_external_id_missing"}


# --- combinations ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("statements", "kwargs", "expected_ids"),
    [
        (
            [
                datadog_statement(external_id=None),
                {"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole"},
                {"Effect": "Allow", "Principal": {"AWS": "111122223333"}, "Action": "sts:AssumeRole"},
            ],
            {},
            {"trust_principal_wildcard", "trust_principal_extra", "trust_external_id_missing"},
        ),
        (
            [
                datadog_statement(account=US, Condition={"StringLike": {"sts:ExternalId": "*"}}),
                {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"},
            ],
            {"site": "ap1.datadoghq.com"},
            {"trust_principal_wrong_account", "trust_principal_extra", "trust_external_id_loose"},
        ),
        (
            [
                datadog_statement(
                    Principal={"AWS": f"arn:aws:iam::{US}:role/x"},
                    external_id=OTHER_EXTERNAL_ID,
                    Condition={
                        "StringEquals": {"sts:ExternalId": [OTHER_EXTERNAL_ID, "a" * 32]},
                        "IpAddress": {"aws:SourceIp": "10.0.0.1/32"},
                    },
                )
            ],
            {},
            {"trust_principal_not_root", "trust_external_id_loose", "trust_external_id_mismatch"},
        ),
        (
            [
                datadog_statement(Effect="Deny"),
                {"Effect": "Allow", "Principal": {"AWS": "111122223333"}, "Action": "sts:AssumeRole"},
            ],
            {},
            {"trust_action_missing", "trust_principal_extra"},
        ),
    ],
    ids=["wildcard+extra+no-id", "wrong-account+service+loose", "not-root+stale+ip+mismatch", "deny+extra"],
)
def test_several_problems_yield_exactly_the_expected_ids(statements, kwargs, expected_ids):
    findings = run_trust(*statements, **kwargs)
    assert failing(findings) == expected_ids
    assert "role_present" not in ids(findings)
    assert_no_secret(findings)


# --- invalid documents ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "document",
    [
        '{"Statement": [',
        '{"Version": "2012-10-17"}',
        '{"Statement": {"Effect": 1}}',
        "null",
        '{"Statement": {"Effect": "Allow", "Principal": "*"}}',
    ],
)
def test_malformed_trust_policy_is_a_finding_not_a_crash(document):
    findings = run(snapshot(role(document)))
    f = one(findings, "trust_policy_invalid")
    assert f.status is Status.FAIL and "cannot be read" in f.detail
    assert json.loads(f.evidence)["error"]
    assert failing(findings) == {"trust_policy_invalid"}


def test_unknown_site_is_a_wrong_account_finding_not_a_crash():
    f = one(run(site="datadoghq.moon"), "trust_principal_wrong_account")
    assert "unknown Datadog site 'datadoghq.moon'" in f.detail


@pytest.mark.parametrize(
    ("condition", "accepted"),
    [
        ({"StringEquals": {"sts:ExternalId": EXTERNAL_ID}}, True),
        ({"stringequals": {"STS:EXTERNALID": EXTERNAL_ID}}, True),  # operators and keys: any letter case
        ({"StringEquals": {"sts:ExternalId": OTHER_EXTERNAL_ID}}, False),
        ({"ForAnyValue:StringEqualsIgnoreCase": {"sts:ExternalId": EXTERNAL_ID.upper()}}, True),
        ({"StringEqualsIgnoreCase": {"sts:ExternalId": OTHER_EXTERNAL_ID.upper()}}, False),
        ({"StringLike": {"sts:ExternalId": EXTERNAL_ID[:6] + "*"}}, True),
        ({"StringLikeIfExists": {"sts:ExternalId": "?" + OTHER_EXTERNAL_ID[1:]}}, False),
        ({"StringNotEquals": {"sts:ExternalId": OTHER_EXTERNAL_ID}}, True),
        ({"StringNotEquals": {"sts:ExternalId": EXTERNAL_ID}}, False),
        ({"ForAllValues:StringNotLike": {"sts:ExternalId": EXTERNAL_ID[:4] + "*"}}, False),
        ({"Null": {"sts:ExternalId": "false"}}, True),
        ({"Null": {"sts:ExternalId": "true"}}, False),
    ],
)
def test_whether_datadogs_id_passes_follows_the_evaluators_operator_rules(condition, accepted):
    # The external-id checks ask policy/conditions.py, the evaluator the region matrix uses.
    findings = run_trust(datadog_statement(Condition=condition))
    assert ("trust_external_id_mismatch" not in ids(findings)) is accepted
    assert_no_secret(findings)
