"""Role permission checks: the probe actions against the role's own policies."""

from __future__ import annotations

import json

import pytest

from auditor.model import InlinePolicy, ManagedPolicyRef, RequiredPermissions, Status

from .builders import SECURITY_AUDIT, failing, ids, one, role, run, snapshot

PROBES = ("cloudwatch:GetMetricData", "ec2:DescribeInstances", "tag:GetResources")
CUSTOMER_ARN = "arn:aws:iam::012345678901:policy/DatadogExtra"
AWS_READONLY = "arn:aws:iam::aws:policy/ReadOnlyAccess"


def _doc(*statements: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def _allow(actions, resource="*") -> dict:
    return {"Effect": "Allow", "Action": actions, "Resource": resource}


def _run_with(inline=(), attached=(), managed=None, aws_managed=None, boundary=""):
    attached = (*attached, ManagedPolicyRef("SecurityAudit", SECURITY_AUDIT))
    snap = snapshot(
        role(inline=[InlinePolicy(f"p{i}", d) for i, d in enumerate(inline)], attached=attached, boundary=boundary),
        managed=managed,
    )
    # SecurityAudit here grants none of the probe actions, so only the policies under test count.
    aws_managed = aws_managed if aws_managed is not None else {SECURITY_AUDIT: _doc(_allow("iam:Get*"))}
    return run(snap, probe_actions=PROBES, aws_managed=aws_managed)


def test_missing_actions_are_listed_by_name():
    findings = _run_with(inline=[_doc(_allow("cloudwatch:GetMetricData"))])
    f = one(findings, "role_permissions_missing")
    assert "ec2:DescribeInstances" in f.detail and "tag:GetResources" in f.detail
    assert "cloudwatch:GetMetricData" not in f.detail.split("3 actions):")[1]
    assert json.loads(f.evidence)["missing"] == ["ec2:DescribeInstances", "tag:GetResources"]
    assert failing(findings) == {"role_permissions_missing"}


def test_service_wildcards_star_and_not_action_allow():
    assert failing(_run_with(inline=[_doc(_allow(["cloudwatch:*", "EC2:describe*", "tag:Get*"]))])) == set()
    assert failing(_run_with(inline=[_doc(_allow("*"))])) == set()
    not_action = {"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}
    assert failing(_run_with(inline=[_doc(not_action)])) == set()


def test_unconditional_deny_removes_an_action():
    deny = {"Effect": "Deny", "Action": "ec2:*", "Resource": "*"}
    f = one(_run_with(inline=[_doc(_allow("*"), deny)]), "role_permissions_missing")
    assert "ec2:DescribeInstances (denied by inline policy p0 Statement[1])" in f.detail


def test_allow_on_specific_resources_does_not_cover_list_calls():
    findings = _run_with(inline=[_doc(_allow("*", resource="arn:aws:ec2:*:*:instance/*"))])
    assert "role_permissions_missing" in ids(findings)


def test_customer_managed_and_aws_managed_documents_are_used():
    findings = _run_with(
        attached=[ManagedPolicyRef("DatadogExtra", CUSTOMER_ARN), ManagedPolicyRef("ReadOnlyAccess", AWS_READONLY)],
        managed={CUSTOMER_ARN: _doc(_allow("cloudwatch:GetMetricData"))},
        aws_managed={
            AWS_READONLY: _doc(_allow(["ec2:Describe*", "tag:GetResources"])),
            SECURITY_AUDIT: _doc(_allow("iam:Get*")),
        },
    )
    assert failing(findings) == set()
    assert "role_present" in ids(findings)


def test_unavailable_managed_document_means_unverified_not_missing():
    findings = _run_with(attached=[ManagedPolicyRef("DatadogExtra", CUSTOMER_ARN)])
    f = one(findings, "role_permissions_unverified")
    assert f.status is Status.ERROR
    assert "DatadogExtra" in f.detail and "not available" in f.detail
    assert "role_permissions_missing" not in ids(findings)
    assert "role_present" not in ids(findings)


def test_unreadable_managed_document_means_unverified():
    findings = _run_with(attached=[ManagedPolicyRef("DatadogExtra", CUSTOMER_ARN)], managed={CUSTOMER_ARN: "{bad"})
    assert "cannot be read" in one(findings, "role_permissions_unverified").detail


def test_unavailable_document_does_not_hide_a_certain_deny():
    deny = {"Effect": "Deny", "Action": "tag:*", "Resource": "*"}
    findings = _run_with(inline=[_doc(_allow("*"), deny)], attached=[ManagedPolicyRef("X", CUSTOMER_ARN)])
    assert ids(findings) >= {"role_permissions_missing"}
    assert "role_permissions_unverified" not in ids(findings)


def test_permissions_boundary_limits_the_role():
    boundary_arn = "arn:aws:iam::012345678901:policy/Boundary"
    findings = _run_with(
        inline=[_doc(_allow("*"))], boundary=boundary_arn, managed={boundary_arn: _doc(_allow("cloudwatch:*"))}
    )
    f = one(findings, "role_permissions_missing")
    assert "not allowed by the permissions boundary" in f.detail and "tag:GetResources" in f.detail


def test_security_audit_absent_is_informational_only():
    snap = snapshot(role(attached=()))
    findings = run(snap)
    # A note on the pass finding, never a finding with status fail: a healthy role stays healthy.
    assert {f.status for f in findings} == {Status.PASS}
    f = one(findings, "role_present")
    assert "SecurityAudit is not attached" in f.detail
    assert failing(findings) == set()


def test_security_audit_attached_is_not_mentioned():
    f = one(run(snapshot(role())), "role_present")
    assert "SecurityAudit" not in f.detail


# --- Datadog's published list: every entry, wildcard entries covered only as a whole ----------------

DATADOG_LIST = RequiredPermissions("datadog", ("batch:DescribeJobQueues", "cloudwatch:Get*", "dynamodb:List*",
                                               "ec2:Describe*", "tag:GetResources"))


def _run_list(*statements: dict, required: RequiredPermissions = DATADOG_LIST, **kw):
    snap = snapshot(role(inline=[InlinePolicy("p0", _doc(*statements))], **kw))
    return run(snap, required_permissions=required, aws_managed={SECURITY_AUDIT: _doc(_allow("iam:Get*"))})


def test_every_entry_of_datadogs_list_is_checked_and_the_finding_says_which_list():
    findings = _run_list(_allow(["cloudwatch:*", "ec2:Describe*", "tag:GetResources", "dynamodb:ListTables"]))
    f = one(findings, "role_permissions_missing")
    assert "Datadog's standard permission list (5 entries)" in f.detail
    assert "batch:DescribeJobQueues (no policy allows it)" in f.detail
    assert "dynamodb:List* (only part of it is allowed: dynamodb:List is not" in f.detail
    evidence = json.loads(f.evidence)
    assert evidence["missing"] == ["batch:DescribeJobQueues", "dynamodb:List*"]
    assert evidence["list"] == {"source": "datadog", "entries": 5}


@pytest.mark.parametrize("actions", [
    ["*"],
    ["batch:*", "cloudwatch:G*", "dynamodb:*", "ec2:*", "tag:*"],
    ["batch:DescribeJobQueues", "CLOUDWATCH:get*", "dynamodb:List*", "ec2:Describe*", "tag:GetResources"],
    ["batch:Describe*", "cloudwatch:Get", "cloudwatch:Get?*", "dynamodb:List*", "ec2:Describe*", "tag:Get*"],
])
def test_patterns_that_cover_every_entry_as_a_whole_pass(actions):
    assert failing(_run_list(_allow(actions))) == set()


def test_not_action_allow_covers_wildcard_entries_it_does_not_exclude():
    assert failing(_run_list({"Effect": "Allow", "NotAction": ["iam:*", "sts:*"], "Resource": "*"})) == set()
    f = one(_run_list({"Effect": "Allow", "NotAction": "dynamodb:ListT*", "Resource": "*"}),
            "role_permissions_missing")
    assert json.loads(f.evidence)["missing"] == ["dynamodb:List*"]


def test_a_deny_on_part_of_a_wildcard_entry_names_that_part():
    deny = {"Effect": "Deny", "Action": "dynamodb:ListTagsOfResource", "Resource": "*"}
    f = one(_run_list(_allow("*"), deny), "role_permissions_missing")
    assert "dynamodb:List* (dynamodb:ListTagsOfResource is denied by inline policy p0 Statement[1])" in f.detail
    assert json.loads(f.evidence)["missing"] == ["dynamodb:List*"]


def test_a_conditional_deny_or_an_allow_on_some_resources_only_does_not_count_as_a_deny_or_an_allow():
    conditional = {"Effect": "Deny", "Action": "dynamodb:*", "Resource": "*",
                   "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
    assert failing(_run_list(_allow("*"), conditional)) == set()
    scoped = _allow("dynamodb:*", resource="arn:aws:dynamodb:*:*:table/*")
    f = one(_run_list(_allow(["batch:*", "cloudwatch:*", "ec2:*", "tag:*"]), scoped), "role_permissions_missing")
    assert json.loads(f.evidence)["missing"] == ["dynamodb:List*"]


def test_a_boundary_must_cover_the_whole_entry_too():
    boundary_arn = "arn:aws:iam::012345678901:policy/Boundary"
    snap = snapshot(role(inline=[InlinePolicy("p0", _doc(_allow("*")))], boundary=boundary_arn),
                    managed={boundary_arn: _doc(_allow(["batch:*", "cloudwatch:*", "ec2:*", "tag:*",
                                                        "dynamodb:ListTables"]))})
    f = one(run(snap, required_permissions=DATADOG_LIST), "role_permissions_missing")
    assert "dynamodb:List* (only part of it is allowed: dynamodb:List is not allowed by the permissions boundary" \
        in f.detail


def test_a_long_list_of_missing_entries_stays_readable_and_the_evidence_keeps_them_all():
    many = RequiredPermissions("datadog", tuple(f"svc{i:02d}:Describe*" for i in range(40)))
    f = one(_run_list(_allow("ec2:*"), required=many), "role_permissions_missing")
    assert "and 20 more" in f.detail and "svc39" not in f.detail
    assert len(json.loads(f.evidence)["missing"]) == 40


def test_without_datadogs_list_the_finding_says_the_probe_actions_were_used_and_why():
    probes = RequiredPermissions("probe_actions", PROBES, "Datadog answered HTTP 500")
    f = one(_run_list(_allow("cloudwatch:*"), required=probes), "role_permissions_missing")
    assert ("the configured probe actions ([regions] probe_actions, 3 actions; Datadog's list was not read: "
            "Datadog answered HTTP 500)") in f.detail


def test_a_pattern_too_complex_to_decide_is_unverified_not_missing():
    pattern = "dynamodb:*b" + "?" * 16
    statement = {"Effect": "Allow", "Action": pattern, "Resource": "*"}
    other = {"Effect": "Allow", "NotAction": pattern, "Resource": "*"}
    findings = _run_list(statement, other, required=RequiredPermissions("datadog", ("dynamodb:List*",)))
    f = one(findings, "role_permissions_unverified")
    assert "dynamodb:List*" in f.detail and "too many" in f.detail
    assert "role_permissions_missing" not in ids(findings)


def test_roles_with_the_same_documents_are_assessed_once_with_the_same_answer(monkeypatch):
    from auditor.checks import permissions

    permissions._assess.cache_clear()
    calls: list[str] = []
    real = permissions._why_not_covered
    monkeypatch.setattr(permissions, "_why_not_covered", lambda e, *a: calls.append(e) or real(e, *a))
    first = _run_list(_allow(["cloudwatch:*", "ec2:Describe*", "dynamodb:ListTables"]))
    entries = len(calls)
    again = _run_list(_allow(["cloudwatch:*", "ec2:Describe*", "dynamodb:ListTables"]))
    assert entries == len(DATADOG_LIST.actions) and len(calls) == entries  # the second role costs no automaton
    assert [(f.check, f.detail, f.evidence) for f in again] == [(f.check, f.detail, f.evidence) for f in first]
    other = _run_list(_allow(["*"]))
    assert len(calls) == 2 * entries and "role_permissions_missing" not in failing(other)
