"""Regions an account has not enabled (opt-in regions it has not opted into) in the region matrix."""

from __future__ import annotations

from dataclasses import replace

from auditor.config import DEFAULT_PROBE_ACTIONS
from auditor.model import SCP, RegionOptIn, Status, Verdict
from auditor.policy.matrix import NOT_ENABLED_REASON, evaluate_regions

from .builders import (
    CONTROL_TOWER,
    OU_PROD,
    ROLE,
    account,
    full_access_everywhere,
    inventory,
    judged,
    policy,
    real,
    snapshot,
)

REGIONS = ("us-east-1", "eu-west-1", "us-west-2", "ap-east-1")
OFF, ON, UNKNOWN = "111111111111", "222222222222", "333333333333"


def _run():
    accts = [account(a, ous=(OU_PROD,)) for a in (OFF, ON, UNKNOWN)]
    ct = policy("p-ct", SCP, real(CONTROL_TOWER), [OU_PROD], "CT region deny")  # denies outside us-east-1/us-west-2
    snaps = {
        OFF: replace(snapshot(OFF), region_opt_in=RegionOptIn(not_enabled=("ap-east-1", "me-south-1"))),
        ON: replace(snapshot(ON), region_opt_in=RegionOptIn(not_enabled=("me-south-1",))),
        UNKNOWN: replace(snapshot(UNKNOWN), region_opt_in=RegionOptIn(error="UnauthorizedOperation: no")),
    }
    inv = inventory(accts, [full_access_everywhere(accts), ct])
    return judged(evaluate_regions(inv, snaps, regions=REGIONS, probe_actions=DEFAULT_PROBE_ACTIONS,
                                   site="datadoghq.com", role_name=ROLE, exclude_partial=True), inv)


def _verdicts(result, account_id):
    return {v.region: v for v in result.verdicts if v.account_id == account_id}


def _findings(result, account_id):
    return {f.check: f for f in result.findings if f.account_id == account_id}


def test_a_region_the_account_has_not_enabled_is_not_applicable_with_that_reason() -> None:
    result = _run()
    v = _verdicts(result, OFF)
    assert list(v) == list(REGIONS)  # every audited region has its row, in order
    assert v["ap-east-1"].verdict is Verdict.NOT_APPLICABLE
    assert v["ap-east-1"].reason == NOT_ENABLED_REASON and "not enabled for this account" in NOT_ENABLED_REASON
    assert v["ap-east-1"].denied_actions == () and v["ap-east-1"].deciding_policies == ()
    assert v["eu-west-1"].verdict is Verdict.PARTIAL and v["us-east-1"].verdict is Verdict.ALLOWED


def test_it_is_neither_in_include_only_nor_counted_as_denied() -> None:
    result = _run()
    ex = {e.account_id: e for e in result.exclusions}
    assert ex[OFF].exclude == ("eu-west-1",)
    assert ex[OFF].include_only == ("us-east-1", "us-west-2")
    assert ex[OFF].not_enabled == ("ap-east-1",)  # only audited regions
    f = _findings(result, OFF)["scp_region_denied"]
    assert f.status is Status.FAIL and "1 region(s)" in f.detail and "ap-east-1 (" not in f.detail
    assert "not enabled for this account" in f.detail and "ap-east-1" in f.detail


def test_accounts_of_one_group_keep_their_own_opt_in_status() -> None:
    result = _run()
    on = _verdicts(result, ON)
    assert on["ap-east-1"].verdict is Verdict.PARTIAL  # enabled there: the SCP decides
    ex = {e.account_id: e for e in result.exclusions}
    assert ex[ON].exclude == ("eu-west-1", "ap-east-1") and ex[ON].include_only == ("us-east-1", "us-west-2")
    assert ex[ON].not_enabled == ()
    assert "not enabled" not in _findings(result, ON)["scp_region_denied"].detail


def test_an_unknown_status_judges_every_region_and_says_so() -> None:
    result = _run()
    v = _verdicts(result, UNKNOWN)
    assert v["ap-east-1"].verdict is Verdict.PARTIAL
    ex = {e.account_id: e for e in result.exclusions}
    assert ex[UNKNOWN].exclude == ("eu-west-1", "ap-east-1") and ex[UNKNOWN].not_enabled == ()
    detail = _findings(result, UNKNOWN)["scp_region_denied"].detail
    assert "opt-in status could not be read" in detail and "UnauthorizedOperation" in detail
