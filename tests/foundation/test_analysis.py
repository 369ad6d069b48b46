"""The analysis, account by account: one account's broken document is that account's finding, and
a run deadline or a stop request during the analysis keeps what was analysed (issue 13, items 3, 4)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

import auditor.analysis
from auditor.analysis import Analysis, analyze
from auditor.config import config_from_dict
from auditor.model import SCP, AccountSnapshot, RoleInfo, Status, Verdict
from auditor.stop import Interrupted
from tests.policy.builders import account, full_access_everywhere, inventory, policy

REGIONS = ("us-east-1", "eu-west-1")
IDS = ("111111111111", "222222222222", "333333333333", "444444444444")
GOOD_TRUST = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::464622532012:root"}, "Action": "sts:AssumeRole",
    "Condition": {"StringEquals": {"sts:ExternalId": "abc"}}}]})
HUGE = "9" * 5000


def snap(account_id: str, trust: str = GOOD_TRUST) -> AccountSnapshot:
    return AccountSnapshot(account_id, RoleInfo("DatadogIntegrationRole", "/",
                                                f"arn:aws:iam::{account_id}:role/DatadogIntegrationRole", trust,
                                                (), (), ()))


def run(snaps: dict[str, AccountSnapshot], *, scp: str | None = None,
        should_stop: Callable[[], str] | None = None) -> Analysis:
    accounts = [account(i, name=f"acct{i[0]}") for i in IDS]
    policies = [full_access_everywhere(accounts)]
    if scp is not None:
        policies.append(policy("p-hostile", SCP, scp, ["r-ab12"]))
    inv = inventory(accounts, policies, types=(SCP,))
    cfg = config_from_dict({"datadog": {"expected_values": "none"}, "regions": {"audited": list(REGIONS)}})
    kw: dict[str, Any] = {"should_stop": should_stop} if should_stop else {}
    return analyze(inv, snaps, cfg=cfg, regions=REGIONS, expected={}, aws_managed_documents={}, **kw)


def checks_of(result: Analysis, account_id: str) -> set[str]:
    return {f.check for f in result.findings if f.account_id == account_id}


def test_a_trust_policy_with_a_5000_digit_number_is_that_accounts_finding_and_the_others_are_audited() -> None:
    bad = GOOD_TRUST.replace('"abc"', HUGE)
    result = run({i: snap(i, bad if i == IDS[1] else GOOD_TRUST) for i in IDS})
    invalid = [f for f in result.findings if f.check == "trust_policy_invalid"]
    assert [f.account_id for f in invalid] == [IDS[1]] and "5000 digits" in invalid[0].detail
    assert result.incomplete_reason == ""
    for i in IDS:
        assert {v.region for v in result.verdicts if v.account_id == i} == set(REGIONS)
        if i != IDS[1]:
            assert "external_id_not_compared" in checks_of(result, i)


@pytest.mark.parametrize("depth", [200, 100_000])
def test_a_deeply_nested_trust_policy_is_trust_policy_invalid(depth: int) -> None:
    bad = GOOD_TRUST.replace('"abc"', "[" * depth + '"abc"' + "]" * depth)
    result = run({i: snap(i, bad if i == IDS[0] else GOOD_TRUST) for i in IDS})
    assert [f.account_id for f in result.findings if f.check == "trust_policy_invalid"] == [IDS[0]]
    assert "nested" in next(f.detail for f in result.findings if f.check == "trust_policy_invalid")


def test_an_scp_with_a_5000_digit_number_is_policy_document_invalid_and_every_region_has_a_verdict() -> None:
    scp = ('{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*",'
           f'"Condition":{{"NumericGreaterThan":{{"aws:MultiFactorAuthAge":{HUGE}}}}}}}]}}')
    result = run({i: snap(i) for i in IDS}, scp=scp)
    invalid = [f for f in result.findings if f.check == "policy_document_invalid"]
    assert invalid and "5000 digits" in invalid[0].detail
    assert len(result.verdicts) == len(IDS) * len(REGIONS)


def test_an_error_no_parser_foresaw_is_that_accounts_analysis_error_and_the_others_are_audited(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = auditor.analysis.role_findings

    def breaking(acct: Any, snapshot: AccountSnapshot, **kw: Any) -> Any:
        if acct.id == IDS[2]:
            raise ValueError("Exceeds the limit (4300 digits) for integer string conversion")
        return real(acct, snapshot, **kw)

    monkeypatch.setattr(auditor.analysis, "role_findings", breaking)
    result = run({i: snap(i) for i in IDS})
    errors = [f for f in result.findings if f.check == "analysis_error"]
    assert [(f.account_id, f.status) for f in errors] == [(IDS[2], Status.ERROR)]
    assert "ValueError" in errors[0].detail and "4300 digits" in errors[0].detail
    for i in IDS:
        if i != IDS[2]:
            assert "external_id_not_compared" in checks_of(result, i)
    assert result.incomplete_reason == ""


def test_a_run_deadline_passing_during_the_analysis_keeps_the_accounts_analysed_and_judges_no_other() -> None:
    polls: list[int] = []

    def deadline_after_three_polls() -> str:
        polls.append(1)
        return "the run deadline of 60s ([run] run_timeout_seconds) was reached" if len(polls) > 6 else ""

    result = run({i: snap(i) for i in IDS}, should_stop=deadline_after_three_polls)
    assert "run_timeout_seconds" in result.incomplete_reason and "analysis" in result.incomplete_reason
    # Polled once per account by the role checks, once before the matrix, once per account in it.
    judged = {v.account_id for v in result.verdicts if v.verdict is not Verdict.NOT_APPLICABLE}
    assert judged == {IDS[0]}
    assert {e.account_id for e in result.exclusions} == {IDS[0]}
    for i in IDS:  # every account still has its role checks and a verdict per region
        assert "external_id_not_compared" in checks_of(result, i)
        assert {v.region for v in result.verdicts if v.account_id == i} == set(REGIONS)
    assert all("not judged" in v.reason for v in result.verdicts if v.account_id != IDS[0])


def test_a_stop_request_during_the_role_checks_keeps_the_accounts_checked_and_reports_the_rest(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = auditor.analysis.role_findings

    def signalled(acct: Any, snapshot: AccountSnapshot, **kw: Any) -> Any:
        if acct.id == IDS[2]:
            raise Interrupted("SIGTERM")
        return real(acct, snapshot, **kw)

    monkeypatch.setattr(auditor.analysis, "role_findings", signalled)
    result = run({i: snap(i) for i in IDS})
    assert "SIGTERM" in result.incomplete_reason and "analysis" in result.incomplete_reason
    assert "external_id_not_compared" in checks_of(result, IDS[0]) & checks_of(result, IDS[1])
    for i in IDS[2:]:
        assert checks_of(result, i) == {"analysis_error"}
        assert "SIGTERM" in next(f.detail for f in result.findings if f.account_id == i)
    assert {v.verdict for v in result.verdicts} == {Verdict.NOT_APPLICABLE}
    assert len(result.verdicts) == len(IDS) * len(REGIONS) and result.exclusions == ()


def test_a_stop_request_during_the_region_matrix_keeps_the_rows_already_judged(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import auditor.policy.matrix as matrix

    real = matrix.region_cell

    def signalled(ev: Any, view: Any, region: str, actions: Any) -> Any:
        if view.account.id == IDS[1]:
            raise KeyboardInterrupt
        return real(ev, view, region, actions)

    monkeypatch.setattr(matrix, "region_cell", signalled)
    snaps = {i: snap(i) for i in IDS}
    # Distinct role names: every account is its own group, so each row is computed.
    result = run({i: AccountSnapshot(i, s.role.__class__(**{**s.role.__dict__, "path": f"/p{n}/"}))
                  for n, (i, s) in enumerate(snaps.items())})
    assert "SIGINT" in result.incomplete_reason
    judged = {v.account_id for v in result.verdicts if v.verdict is not Verdict.NOT_APPLICABLE}
    assert judged == {IDS[0]}
    assert len(result.verdicts) == len(IDS) * len(REGIONS)
    for i in IDS:
        assert "external_id_not_compared" in checks_of(result, i)


def test_a_datadog_source_error_is_the_first_finding_with_its_text_unchanged() -> None:
    accounts = [account(i, name=f"acct{i[0]}") for i in IDS]
    inv = inventory(accounts, [full_access_everywhere(accounts)], types=(SCP,))
    cfg = config_from_dict({"datadog": {"expected_values": "datadog_api"}, "regions": {"audited": list(REGIONS)}})
    error = "Datadog API GET /api/v2/integration/aws/accounts at https://api.datadoghq.com failed with HTTP 403"
    result = analyze(inv, {i: snap(i) for i in IDS}, cfg=cfg, regions=REGIONS, expected={},
                     aws_managed_documents={}, datadog_error=error)
    first = result.findings[0]
    assert (first.check, first.status, first.detail) == ("datadog_api_error", Status.ERROR, error)
    assert [f.check for f in result.findings].count("datadog_api_error") == 1
