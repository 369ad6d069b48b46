"""Role permission checks: the probe actions against the role's own policies."""

from __future__ import annotations

import json

from auditor.model import InlinePolicy, ManagedPolicyRef, Status

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
    assert "cloudwatch:GetMetricData" not in f.detail.split("calls:")[1]
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
