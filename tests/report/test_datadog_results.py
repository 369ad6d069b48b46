"""The series and the event a run sends to Datadog, built from the run's findings (plain data)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from auditor.checks.catalogue import CATALOGUE
from auditor.datadog.intake import Gauge, ResultPayload
from auditor.facts.result_names import METRICS
from auditor.model import AuditResult, Severity, Status
from auditor.report.datadog_results import MAX_TEXT, MAX_TITLE, build_results, series_per_run
from auditor.report.history import compare_findings
from auditor.report.run_folder import RunFolder
from auditor.report.writer import write_run

from .factory import ERROR_ID, HOSTILE_ID, OK_ID, SKIPPED_ID, finding
from .factory import make_result as _factory_result

ORG_TAG = "aws_org_id:o-abc123def4"
TAGS = ("env:prod", "team:cloud-sec")


def make_result(**kwargs: object) -> AuditResult:
    """The factory's result, its region finding under the catalogue's id (scp_region_denied)."""
    result = _factory_result(**kwargs)  # type: ignore[arg-type]
    fix = {"org_region_denied": "scp_region_denied"}
    return replace(result, findings=tuple(replace(f, check=fix.get(f.check, f.check)) for f in result.findings))


def _compared(result: AuditResult, previous: tuple = ()) -> AuditResult:
    """The result as `auditor run` has it after the history: changes set against `previous`."""
    return replace(result, findings=compare_findings(result.findings, previous),
                   run=replace(result.run, compared_with="20250228T020000Z"))


def _build(result: AuditResult, threshold: str = "high") -> ResultPayload:
    return build_results(result, fail_on_severity=threshold, result_tags=TAGS, run_dir="/srv/reports/20250301T020000Z")


def _values(payload: ResultPayload, metric: str) -> dict[tuple[str, ...], float]:
    return {tuple(t for t in g.tags if t != ORG_TAG and t not in TAGS): g.value
            for g in payload.series if g.metric == metric}


def test_failing_findings_are_counted_per_check_and_severity_with_zeros_for_every_other_check() -> None:
    payload = _build(_compared(make_result()))
    failing = _values(payload, "datadog_org_auditor.findings.failing")
    assert failing[("check:role_missing", "severity:high")] == 1
    assert failing[("check:audit_role_unassumable", "severity:high")] == 1  # status error is failing too
    assert failing[("check:trust_principal_wildcard", "severity:critical")] == 0
    assert {k[0] for k in failing} == {f"check:{c}" for c in CATALOGUE}
    assert sum(failing.values()) == 3  # role_present passes


def test_the_number_of_series_is_bounded_by_the_catalogue_not_the_organization() -> None:
    many = tuple(finding(f"{n:012d}", "role_missing", name=f"acct-{n}") for n in range(500))
    payload = _build(_compared(make_result(findings=many)))
    assert len(payload.series) == series_per_run() == 2 * len(CATALOGUE) + 5
    account_ids = {f.account_id for f in many} | {OK_ID, HOSTILE_ID, ERROR_ID, SKIPPED_ID}
    assert not any(tag.split(":", 1)[-1] in account_ids for g in payload.series for tag in g.tags)
    assert _values(payload, "datadog_org_auditor.findings.failing")[("check:role_missing", "severity:high")] == 500


def test_every_series_is_a_metric_we_name_and_carries_the_organization_and_the_users_tags() -> None:
    payload = _build(_compared(make_result()))
    assert {g.metric for g in payload.series} == set(METRICS)
    assert all(g.tags[-3:] == (ORG_TAG, *TAGS) for g in payload.series)
    assert payload.event.tags == (ORG_TAG, *TAGS)


def test_accounts_by_state_add_up_to_every_account_of_the_organization() -> None:
    result = make_result()
    states = _values(_build(_compared(result)), "datadog_org_auditor.accounts")
    assert states == {("state:audited",): 2, ("state:error",): 1, ("state:skipped",): 1}
    assert sum(states.values()) == len(result.inventory.accounts)
    unreached = replace(result, snapshots=result.snapshots[:1], run=replace(result.run, complete=False))
    states = _values(_build(_compared(unreached)), "datadog_org_auditor.accounts")
    assert states == {("state:audited",): 1, ("state:error",): 2, ("state:skipped",): 1}  # not reached: error


def test_regions_excluded_and_run_complete() -> None:
    result = _compared(make_result())
    assert _values(_build(result), "datadog_org_auditor.regions.excluded") == {(): 1}
    assert _values(_build(result), "datadog_org_auditor.run.complete") == {(): 1}
    stopped = replace(result, run=replace(result.run, complete=False, incomplete_reason="interrupted by SIGTERM"))
    assert _values(_build(stopped), "datadog_org_auditor.run.complete") == {(): 0}
    assert "incomplete (interrupted by SIGTERM)" in _build(stopped).event.text


def test_new_counts_only_what_the_previous_run_did_not_have_failing() -> None:
    result = make_result()
    previous = (finding(HOSTILE_ID, "role_missing"),)  # already failing last night
    new = _values(_build(_compared(result, previous)), "datadog_org_auditor.findings.new")
    assert {k: v for k, v in new.items() if v} == {
        ("check:scp_region_denied", "severity:medium"): 1,
        ("check:audit_role_unassumable", "severity:high"): 1,
    }


def test_with_no_earlier_run_every_failing_finding_counts_as_new() -> None:
    payload = _build(make_result())  # not compared: change is "" everywhere
    assert sum(_values(payload, "datadog_org_auditor.findings.new").values()) == 3
    assert "no earlier complete run to compare with" in payload.event.text
    assert payload.event.alert_type == "error"


@pytest.mark.parametrize(
    ("new_severity", "threshold", "complete", "expected"),
    [
        (Severity.CRITICAL, "high", True, "error"),
        (Severity.HIGH, "high", True, "error"),
        (Severity.MEDIUM, "high", True, "warning"),
        (Severity.MEDIUM, "medium", True, "error"),
        (None, "high", True, "success"),
        (None, "high", False, "warning"),
    ],
)
def test_alert_type_follows_the_new_findings_and_fail_on_severity(new_severity, threshold, complete, expected) -> None:
    old = finding(OK_ID, "role_missing", severity=Severity.HIGH, name="payments-prod")
    findings = (old,) if new_severity is None else (old, finding(OK_ID, "trust_principal_extra", severity=new_severity))
    result = replace(make_result(findings=findings), run=replace(make_result().run, complete=complete))
    assert _build(_compared(result, (old,)), threshold).event.alert_type == expected


def test_the_event_lists_every_new_and_resolved_finding_with_account_id_and_name() -> None:
    fixed = finding(OK_ID, "trust_external_id_mismatch", name="payments-prod")
    result = _compared(make_result(), (fixed,))
    event = _build(result).event
    assert event.title == "Datadog org auditor o-abc123def4: 3 new, 1 resolved, 3 failing"
    assert "- [high] audit_role_unassumable: 210987654321 (legacy-dev)" in event.text
    assert "- [medium] scp_region_denied: 012345678901 (payments-prod) in ap-southeast-1" in event.text
    assert "Resolved:\n- [high] trust_external_id_mismatch: 012345678901 (payments-prod)" in event.text
    assert event.text.endswith("Run folder: /srv/reports/20250301T020000Z")
    assert "- [high] role_missing: 000111222333 (" in event.text


def test_a_long_list_is_capped_with_and_n_more_within_datadogs_limits() -> None:
    many = tuple(finding(f"{n:012d}", "role_missing", name="n" * 300) for n in range(1000))
    gone = tuple(finding(f"9{n:011d}", "trust_principal_extra", Severity.MEDIUM) for n in range(50))
    result = _compared(make_result(findings=many), gone)
    event = _build(result).event
    assert len(event.text) <= MAX_TEXT and len(event.title) <= MAX_TITLE
    listed = [line for line in event.text.splitlines() if line.startswith("- [")]
    more = [line for line in event.text.splitlines() if line.startswith("and ")]
    assert more and more[0] == f"and {1000 - len([x for x in listed if 'role_missing' in x])} more"
    assert event.text.endswith("Run folder: /srv/reports/20250301T020000Z")


def test_account_names_from_aws_cannot_notify_or_inject_control_characters() -> None:
    hostile = finding(OK_ID, "role_missing", name="@pagerduty-oncall \x1b[31m\u202eevil\nline")
    event = _build(make_result(findings=(hostile,))).event
    line = next(x for x in event.text.splitlines() if x.startswith("- [high] role_missing"))
    assert "@" not in event.text and "\x1b" not in event.text and "\u202e" not in event.text
    assert "pagerduty-oncall" in line and "line" in line  # the name is still readable, on one line


def test_a_failing_finding_of_an_unknown_check_is_counted_under_other() -> None:
    odd = finding(OK_ID, "check_from_a_newer_version", Status.FAIL, Severity.LOW)
    failing = _values(_build(make_result(findings=(odd,))), "datadog_org_auditor.findings.failing")
    assert failing[("check:other", "severity:low")] == 1
    assert Gauge  # the payload's type is the sender's


def test_a_run_folder_read_back_gives_the_same_payload_as_the_live_result(tmp_path) -> None:
    fixed = finding(OK_ID, "trust_external_id_mismatch", name="payments-prod")
    live = _compared(make_result(), (fixed,))
    run_dir = write_run(live, tmp_path)
    again = RunFolder(run_dir).load_result()
    assert _build(again) == _build(live)
    assert "Resolved:" in _build(again).event.text and "compared with run 20250228T020000Z" in _build(again).event.text
