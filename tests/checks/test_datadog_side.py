"""Pure checks comparing Datadog's AWS integration settings with the organization."""

from __future__ import annotations

import json
from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st

from auditor.checks.catalogue import CATALOGUE, CheckId, Subject
from auditor.checks.datadog_side import (
    datadog_api_error_finding,
    datadog_findings,
    proposed_include_only,
)
from auditor.model import Account, Exclusion, ExpectedValues, Inventory, Severity, Status

PROD, DEV, SANDBOX = "111111111111", "222222222222", "333333333333"
CLOSED, GONE = "444444444444", "999999999999"
AUDITED = ("eu-west-1", "us-east-1", "ap-south-1", "sa-east-1")


def _account(account_id: str, name: str, status: str = "ACTIVE") -> Account:
    return Account(account_id, name, f"{name}@example.com", status, "ou-ab12-prod0001", "Root/Prod",
                   ("r-ab12", "ou-ab12-prod0001", account_id))


INVENTORY = Inventory(
    organization_id="o-abc1234567", management_account_id="000000000000", partition="aws",
    enabled_policy_types=("SERVICE_CONTROL_POLICY",), units=(),
    accounts=(_account(PROD, "prod"), _account(DEV, "dev"), _account(SANDBOX, "sandbox"),
              _account(CLOSED, "old", "SUSPENDED")),
    policies=(),
)


def _ev(account_id: str, *, include_all: bool | None = True, only: tuple[str, ...] = (),
        partition: str = "aws") -> ExpectedValues:
    return ExpectedValues(account_id, "DatadogIntegrationRole", "ext", partition, include_all, only,
                          "datadog_api", f"cfg-{account_id}")


def _excl(account_id: str, exclude: tuple[str, ...]) -> Exclusion:
    return Exclusion(account_id, exclude, tuple(r for r in AUDITED if r not in exclude))


def _run(expected, exclusions=None, *, audited=(PROD, DEV, SANDBOX), report_unmonitored=True,
         partition="aws"):
    return datadog_findings(INVENTORY, audited, {e.account_id: e for e in expected},
                            {x.account_id: x for x in exclusions or ()}, AUDITED,
                            partition=partition, report_unmonitored=report_unmonitored)


def _by_check(findings):
    return {(f.check, f.account_id): f for f in findings}


def test_datadog_side_checks_are_in_the_catalogue_with_their_subject():
    for check in (CheckId.DATADOG_ACCOUNT_NOT_IN_ORG, CheckId.DATADOG_ACCOUNT_MISSING,
                  CheckId.DATADOG_REGIONS_INCLUDE_DENIED, CheckId.DATADOG_PARTITION_MISMATCH,
                  CheckId.DATADOG_API_ERROR, CheckId.DATADOG_ACCOUNT_DUPLICATED):
        assert CATALOGUE[check].subject is Subject.DATADOG
    assert CATALOGUE[CheckId.DATADOG_ACCOUNT_MISSING].severity is Severity.INFO


def test_stale_datadog_entry_is_reported_with_a_placeholder_account():
    found = _by_check(_run([_ev(PROD), _ev(DEV), _ev(SANDBOX), _ev(GONE)]))
    f = found[(CheckId.DATADOG_ACCOUNT_NOT_IN_ORG, GONE)]
    assert f.status is Status.FAIL and f.account_name == "(not in organization)"
    assert "cfg-999999999999" in f.evidence
    stale = CheckId.DATADOG_ACCOUNT_NOT_IN_ORG
    assert [k for k in found if k[0] == stale] == [(stale, GONE)]


def test_suspended_account_still_monitored_is_not_in_org():
    f = _by_check(_run([_ev(PROD), _ev(DEV), _ev(SANDBOX), _ev(CLOSED)]))[(CheckId.DATADOG_ACCOUNT_NOT_IN_ORG, CLOSED)]
    assert "SUSPENDED" in f.detail and f.account_name == "old"


def test_unmonitored_active_accounts_are_reported_only_when_asked():
    found = _run([_ev(PROD)])
    assert sorted(f.account_id for f in found if f.check == CheckId.DATADOG_ACCOUNT_MISSING) == [DEV, SANDBOX]
    assert all(f.severity is Severity.INFO for f in found if f.check == CheckId.DATADOG_ACCOUNT_MISSING)
    assert [f for f in _run([_ev(PROD)], report_unmonitored=False) if f.check == CheckId.DATADOG_ACCOUNT_MISSING] == []


def test_accounts_out_of_scope_are_not_reported_missing():
    found = _run([_ev(PROD)], audited=(PROD, DEV))
    assert [f.account_id for f in found if f.check == CheckId.DATADOG_ACCOUNT_MISSING] == [DEV]


def test_include_all_with_denied_regions_gets_the_audited_allowed_list():
    found = _by_check(_run([_ev(PROD), _ev(DEV), _ev(SANDBOX)], [_excl(PROD, ("ap-south-1", "sa-east-1"))]))
    f = found[(CheckId.DATADOG_REGIONS_INCLUDE_DENIED, PROD)]
    evidence = json.loads(f.evidence)
    assert evidence["current"] == {"include_all": True}
    assert evidence["denied"] == ["ap-south-1", "sa-east-1"]
    assert evidence["proposed"] == {"include_only": ["eu-west-1", "us-east-1"]}
    assert "eu-west-1, us-east-1" in f.detail and f.severity is Severity.MEDIUM
    assert (CheckId.DATADOG_REGIONS_INCLUDE_DENIED, DEV) not in found


def test_include_only_holding_a_denied_region_keeps_its_other_regions():
    ev = _ev(PROD, include_all=False, only=("us-east-1", "ap-south-1", "me-south-1"))
    found = _by_check(_run([ev, _ev(DEV), _ev(SANDBOX)], [_excl(PROD, ("ap-south-1",))]))
    f = found[(CheckId.DATADOG_REGIONS_INCLUDE_DENIED, PROD)]
    # me-south-1 was not audited: it stays; eu-west-1 is allowed but Datadog never had it: not added
    assert json.loads(f.evidence)["proposed"] == {"include_only": ["me-south-1", "us-east-1"]}


def test_include_only_without_denied_regions_is_fine():
    ev = _ev(PROD, include_all=False, only=("us-east-1",))
    assert [f for f in _run([ev, _ev(DEV), _ev(SANDBOX)], [_excl(PROD, ("ap-south-1",))])] == []


def test_unknown_region_setting_is_not_judged():
    ev = _ev(PROD, include_all=None)
    assert _run([ev, _ev(DEV), _ev(SANDBOX)], [_excl(PROD, ("ap-south-1",))]) == []


def test_every_included_region_denied_says_nothing_is_left():
    ev = _ev(PROD, include_all=False, only=("ap-south-1",))
    found = _by_check(_run([ev, _ev(DEV), _ev(SANDBOX)], [_excl(PROD, ("ap-south-1",))]))
    f = found[(CheckId.DATADOG_REGIONS_INCLUDE_DENIED, PROD)]
    assert "no region left" in f.detail and "an empty include_only is never proposed" in f.detail
    assert json.loads(f.evidence)["proposed"] == "no_region_left"  # never {"include_only": []}


def test_an_account_datadog_holds_in_several_configs_fails_naming_every_config_kept_one_first():
    dup = replace(_ev(DEV), other_config_ids=("cfg-dev-2", "cfg-dev-3"))
    found = _run([_ev(PROD), dup, _ev(SANDBOX)], audited=(PROD, SANDBOX))  # judged even when not audited
    [f] = [f for f in found if f.check == CheckId.DATADOG_ACCOUNT_DUPLICATED]
    assert (f.account_id, f.account_name, f.status, f.severity) == (DEV, "dev", Status.FAIL, Severity.MEDIUM)
    assert "cfg-222222222222, cfg-dev-2, cfg-dev-3" in f.detail and "3 account configs" in f.detail
    assert json.loads(f.evidence) == {"kept": "cfg-222222222222", "others": ["cfg-dev-2", "cfg-dev-3"]}
    assert f.title == CATALOGUE[CheckId.DATADOG_ACCOUNT_DUPLICATED].title


def test_a_stale_account_in_several_configs_names_them_all_in_its_not_in_org_finding():
    dup = replace(_ev(GONE), other_config_ids=("cfg-gone-2",))
    found = _run([_ev(PROD), _ev(DEV), _ev(SANDBOX), dup])
    assert [f.check for f in found if f.account_id == GONE] == [CheckId.DATADOG_ACCOUNT_NOT_IN_ORG]  # delete all
    f = _by_check(found)[(CheckId.DATADOG_ACCOUNT_NOT_IN_ORG, GONE)]
    assert "cfg-999999999999, cfg-gone-2" in f.detail
    assert json.loads(f.evidence) == {"datadog_config_id": "cfg-999999999999", "other_config_ids": ["cfg-gone-2"]}


def test_partition_mismatch_is_reported():
    found = _by_check(_run([_ev(PROD, partition="aws-us-gov"), _ev(DEV), _ev(SANDBOX)]))
    f = found[(CheckId.DATADOG_PARTITION_MISMATCH, PROD)]
    assert f.severity is Severity.HIGH and "aws-us-gov" in f.detail
    assert (CheckId.DATADOG_PARTITION_MISMATCH, DEV) not in found


def test_api_error_is_a_run_level_error_finding():
    f = datadog_api_error_finding("Datadog API GET /api/v2/integration/aws/accounts failed with HTTP 403")
    assert f.check == CheckId.DATADOG_API_ERROR and f.status is Status.ERROR and "HTTP 403" in f.detail
    f = datadog_api_error_finding("TimeoutError: read timed out", management_account_id="000000000000")
    assert f.detail == "TimeoutError: read timed out" and f.account_id == "000000000000"


regions = st.sets(st.sampled_from((*AUDITED, "me-south-1", "af-south-1")), max_size=6)


@given(current=regions, include_all=st.booleans(), excluded=st.sets(st.sampled_from(AUDITED)),
       widen=st.booleans())
def test_proposal_never_holds_a_denied_region_and_only_widens_when_allowed(current, include_all, excluded,
                                                                           widen):
    ev = _ev(PROD, include_all=include_all, only=() if include_all else tuple(sorted(current)))
    exclusion = _excl(PROD, tuple(sorted(excluded)))
    proposed = set(proposed_include_only(ev, exclusion, allow_widen=widen))
    assert not proposed & excluded
    if not include_all:
        assert current - excluded <= proposed
        if not widen:
            assert proposed <= current


def test_a_region_the_account_has_not_enabled_is_never_proposed_even_if_datadog_lists_it() -> None:
    # Datadog's include_only names ap-east-1; the account has not opted into it (and eu-west-1 is denied).
    ev = ExpectedValues("111122223333", regions_include_all=False,
                        regions_include_only=("us-east-1", "eu-west-1", "ap-east-1"))
    exclusion = Exclusion("111122223333", ("eu-west-1",), ("us-east-1",), ("ap-east-1",))
    for widen in (False, True):
        assert proposed_include_only(ev, exclusion, allow_widen=widen) == ("us-east-1",)
    everything = ExpectedValues("111122223333", regions_include_all=True)
    assert proposed_include_only(everything, exclusion) == ("us-east-1",)
