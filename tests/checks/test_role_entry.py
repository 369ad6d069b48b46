"""The pipeline's entry point: error stages, catalogue coverage, one finding per check id."""

from __future__ import annotations

import json

from auditor.checks.catalogue import CATALOGUE
from auditor.model import AccountError, Status

from .builders import ACCOUNT, datadog_statement, ids, one, role, run, snapshot, trust


def test_assume_role_error_is_the_only_finding_and_names_the_aws_error():
    error = AccountError("assume_role", "AccessDenied", "User: x is not authorized to perform: sts:AssumeRole")
    findings = run(snapshot(missing=True, error=error))
    assert [(f.check, f.status) for f in findings] == [("audit_role_unassumable", Status.ERROR)]
    assert "AccessDenied" in findings[0].detail and "not authorized" in findings[0].detail
    assert json.loads(findings[0].evidence)["stage"] == "assume_role"


def test_other_stage_error_without_role_is_account_read_error_only():
    error = AccountError("read_role", "Throttling", "Rate exceeded")
    findings = run(snapshot(missing=True, error=error))
    assert [(f.check, f.status) for f in findings] == [("account_read_error", Status.ERROR)]
    assert "read_role" in findings[0].detail and "Throttling: Rate exceeded" in findings[0].detail


def test_partial_read_error_still_checks_the_role_but_never_passes_it():
    error = AccountError("list_roles", "AccessDenied", "no iam:ListRoles")
    findings = run(snapshot(role(trust(datadog_statement(external_id=None))), error=error))
    assert {"account_read_error", "trust_external_id_missing"} <= ids(findings)
    assert "role_present" not in ids(run(snapshot(error=error)))


def test_findings_carry_account_context_and_catalogue_metadata():
    findings = run(snapshot(role(trust(datadog_statement(Principal="*", external_id=None)))))
    for f in findings:
        spec = CATALOGUE[f.check]
        assert (f.title, f.remediation) == (spec.title, spec.remediation)
        assert (f.account_id, f.account_name, f.ou_path) == (ACCOUNT.id, ACCOUNT.name, ACCOUNT.ou_path)
    assert one(findings, "trust_principal_wildcard").severity.value == "critical"


def test_every_role_check_id_is_registered():
    for check in (
        "role_missing",
        "role_present",
        "audit_role_unassumable",
        "account_read_error",
        "role_name_mismatch",
        "trust_principal_wrong_account",
        "trust_principal_wildcard",
        "trust_principal_extra",
        "trust_principal_not_root",
        "trust_action_missing",
        "trust_external_id_missing",
        "trust_external_id_loose",
        "trust_external_id_mismatch",
        "trust_policy_invalid",
        "external_id_not_compared",
        "role_permissions_missing",
        "role_permissions_unverified",
    ):
        assert check in CATALOGUE


def test_mask_secret_shows_only_the_last_four_characters():
    from auditor.checks.secrets import mask_secret

    assert mask_secret("4f1c2e3d5a6b7c8d9e0fa1b2c3d4e5f6") == "****e5f6"
    assert mask_secret("short") == "****"
    assert mask_secret("4f1c2e3d5a6b7c8d", show=True) == "4f1c2e3d5a6b7c8d"
    assert mask_secret(None) == ""


def test_access_key_accounts_get_one_info_note_and_no_role_finding():
    from auditor.checks.role import role_findings
    from auditor.model import Account, AccountSnapshot, ExpectedValues, Severity, Status

    acct = Account("111122223333", "keys", "k@example.com", "ACTIVE", "r-ab12", "Root", ("r-ab12", "111122223333"))
    ev = ExpectedValues(acct.id, source="datadog_api", access_key_id="AKIAIOSFODNN7EXAMPLE")
    found = role_findings(acct, AccountSnapshot(acct.id, role=None), site="datadoghq.com", partition="aws",
                          role_name="DatadogIntegrationRole", expected=ev, probe_actions=("ec2:DescribeInstances",),
                          aws_managed_documents={}, show_external_ids=False)
    assert [(f.check, f.severity, f.status) for f in found] == [("datadog_access_keys", Severity.INFO, Status.FAIL)]
    assert "AKIAIOSFODNN7EXAMPLE" not in found[0].detail + found[0].evidence
