"""The catalogue is one typed table: every check id once, with what it judges; reports ask it."""

from __future__ import annotations

import subprocess
import sys

from auditor.checks.catalogue import CATALOGUE, EXTERNAL_ID_CHECKS, CheckId, Subject, spec_of, subject_of
from auditor.model import Status
from auditor.report.history import compare_findings
from auditor.report.policy_text import external_id_state

from .builders import ACCOUNT


def test_every_check_id_has_exactly_one_spec_keyed_by_its_own_id() -> None:
    assert list(CATALOGUE) == list(CheckId)
    assert all(spec.id is check for check, spec in CATALOGUE.items())


def test_the_catalogue_is_whole_without_importing_any_check_module() -> None:
    """No check registers itself at import time: the table alone names every check."""
    code = ("import sys, auditor.checks.catalogue as c; print(len(c.CATALOGUE), "
            "[m for m in ('auditor.checks.datadog_side', 'auditor.checks.datadog_regions', 'auditor.policy.matrix') "
            "if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == f"{len(CheckId)} []"


def test_ids_read_from_a_run_folder_find_their_spec_and_unknown_ones_do_not() -> None:
    assert spec_of("scp_region_denied") is CATALOGUE[CheckId.SCP_REGION_DENIED]
    assert subject_of("datadog_access_keys") is Subject.DATADOG
    assert spec_of("check_of_a_later_version") is None and subject_of("") is None


def test_subjects_group_the_checks_as_the_reports_need() -> None:
    by_subject = {s: {c.value for c, spec in CATALOGUE.items() if spec.subject is s} for s in Subject}
    assert by_subject[Subject.RUN] == {"audit_role_unassumable", "account_read_error", "analysis_error"}
    assert by_subject[Subject.REGION] == {"scp_region_denied", "rcp_assume_role_denied", "org_policies_allow",
                                          "region_indeterminate", "policy_document_invalid"}
    assert all(c.startswith("datadog_") for c in by_subject[Subject.DATADOG])
    assert {c for c, s in CATALOGUE.items() if s.subject is Subject.TRUST} >= EXTERNAL_ID_CHECKS


def test_the_external_id_column_names_the_failing_external_id_checks_only() -> None:
    failing = ["trust_principal_extra", "trust_external_id_loose", "external_id_not_compared", "role_missing"]
    state = external_id_state('{"Statement": []}', failing, show=False)
    assert state.endswith("; failing: trust_external_id_loose, external_id_not_compared")


def test_history_keeps_previous_datadog_side_findings_by_subject_when_datadog_was_not_read() -> None:
    from auditor.checks.catalogue import finding

    kept = [finding(c, ACCOUNT, Status.FAIL, "x") for c in CATALOGUE if CATALOGUE[c].subject is Subject.DATADOG]
    other = finding(CheckId.ROLE_MISSING, ACCOUNT, Status.FAIL, "x")
    resolved = compare_findings([], [*kept, other], datadog_unverified=True)
    assert [f.check for f in resolved] == [CheckId.ROLE_MISSING]
