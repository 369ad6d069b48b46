"""Region findings against Datadog's own region setting: one actionable finding per problem."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from auditor.checks.catalogue import CheckId, finding
from auditor.checks.datadog_regions import with_datadog_regions
from auditor.checks.datadog_side import datadog_findings
from auditor.model import (
    SCP,
    Account,
    ExpectedValues,
    Inventory,
    OrgPolicy,
    RegionVerdict,
    Severity,
    Status,
    Verdict,
)
from auditor.policy.matrix import (
    exclusion_for,
)

ACCT = "111111111111"
REGIONS = ("us-east-1", "eu-west-1", "eu-central-1", "ap-south-1")
PROBES = ("ec2:DescribeInstances", "cloudwatch:ListMetrics")
ACCOUNT = Account(ACCT, "prod", "p@example.com", "ACTIVE", "r-ab12", "Root", ("r-ab12", ACCT))
INVENTORY = Inventory("o-abc1234567", "000000000000", "aws", (SCP,), (), (ACCOUNT,),
                      (OrgPolicy("p-region1", "deny-outside-eu", SCP, False, "", "{}", ("r-ab12",)),
                       OrgPolicy("p-rcp0001", "data-perimeter", "RESOURCE_CONTROL_POLICY", False, "", "{}",
                                 ("r-ab12",))))


def _verdict(region: str, kind: str) -> RegionVerdict:
    if kind == "scp":
        return RegionVerdict(ACCT, region, Verdict.DENIED, PROBES, ("p-region1",), reason="SCP deny")
    if kind == "rcp":
        return RegionVerdict(ACCT, region, Verdict.DENIED, ("sts:AssumeRole",), ("p-rcp0001",), reason="RCP deny")
    if kind == "partial":
        return RegionVerdict(ACCT, region, Verdict.PARTIAL, PROBES[:1], ("p-region1",), reason="SCP deny ec2")
    if kind == "open":
        return RegionVerdict(ACCT, region, Verdict.INDETERMINATE, (), ("p-region1",), ("aws:SourceIp",),
                             reason="depends on aws:SourceIp")
    return RegionVerdict(ACCT, region, Verdict.ALLOWED, reason="allowed")


def _matrix_findings(verdicts):
    """What the region matrix reports for these verdicts (its checks, one each)."""
    out = []
    if any(any(a != "sts:AssumeRole" for a in v.denied_actions) for v in verdicts):
        out.append(finding(CheckId.SCP_REGION_DENIED, ACCOUNT, Status.FAIL, "SCPs deny ..."))
    if any("sts:AssumeRole" in v.denied_actions for v in verdicts):
        out.append(finding(CheckId.RCP_ASSUME_ROLE_DENIED, ACCOUNT, Status.FAIL, "RCPs deny ..."))
    if any(v.verdict is Verdict.INDETERMINATE for v in verdicts):
        out.append(finding(CheckId.REGION_INDETERMINATE, ACCOUNT, Status.FAIL, "Undecided ..."))
    if not out:
        out.append(finding(CheckId.ORG_POLICIES_ALLOW, ACCOUNT, Status.PASS, "No SCP or RCP denies"))
    return out


def _ev(include_all: bool | None, only: tuple[str, ...] = ()) -> ExpectedValues:
    return ExpectedValues(ACCT, "DatadogIntegrationRole", "ext", "aws", include_all, only, "datadog_api", "cfg-1")


def _judge(kinds: dict[str, str], ev: ExpectedValues, *, exclude_partial: bool = False):
    verdicts = [_verdict(r, kinds.get(r, "ok")) for r in REGIONS]
    exclusion = exclusion_for(ACCT, verdicts, REGIONS, exclude_partial)
    region_findings = with_datadog_regions(_matrix_findings(verdicts), INVENTORY, {ACCT: ev}, {ACCT: exclusion},
                                           {ACCT: verdicts}, REGIONS)
    side = datadog_findings(INVENTORY, (ACCT,), {ACCT: ev}, {ACCT: exclusion}, REGIONS, partition="aws",
                            report_unmonitored=True, verdicts={ACCT: verdicts})
    return region_findings + side


def _failing(findings):
    return [f for f in findings if f.status is Status.FAIL]


def test_denied_regions_datadog_already_leaves_out_pass_and_name_the_regions():
    found = _judge({"us-east-1": "scp", "ap-south-1": "scp"}, _ev(False, ("eu-west-1", "eu-central-1")))
    assert _failing(found) == []
    (f,) = [f for f in found if f.check == CheckId.SCP_REGION_DENIED]
    assert f.status is Status.PASS and f.severity is Severity.INFO
    assert "us-east-1, ap-south-1" in f.detail and "already leaves them out" in f.detail


def test_a_denied_region_datadog_collects_is_one_failing_finding_naming_what_to_drop():
    found = _judge({"us-east-1": "scp", "ap-south-1": "scp"}, _ev(False, ("eu-west-1", "us-east-1")))
    (f,) = _failing(found)
    assert f.check == CheckId.DATADOG_REGIONS_INCLUDE_DENIED and f.severity is Severity.MEDIUM
    assert "Drop us-east-1" in f.detail and "corrected include_only: eu-west-1" in f.detail
    assert "deny-outside-eu (p-region1)" in f.detail and "Already left out in Datadog: ap-south-1" in f.detail
    assert json.loads(f.evidence)["proposed"] == {"include_only": ["eu-west-1"]}
    assert not [g for g in found if g.check == CheckId.SCP_REGION_DENIED]  # not reported twice


def test_an_rcp_denied_region_datadog_collects_is_the_same_one_finding_at_rcp_severity():
    found = _judge({"us-east-1": "scp", "eu-central-1": "rcp"}, _ev(True))
    (f,) = _failing(found)
    assert f.check == CheckId.DATADOG_REGIONS_INCLUDE_DENIED and f.severity is Severity.HIGH
    assert "eu-central-1 (an RCP denies sts:AssumeRole: data-perimeter (p-rcp0001))" in f.detail
    assert {g.check for g in found} == {CheckId.DATADOG_REGIONS_INCLUDE_DENIED}


def test_rcp_denied_regions_datadog_leaves_out_pass():
    found = _judge({"eu-central-1": "rcp"}, _ev(False, ("eu-west-1",)))
    assert _failing(found) == []
    assert [g.status for g in found if g.check == CheckId.RCP_ASSUME_ROLE_DENIED] == [Status.PASS]


def test_a_partial_region_kept_and_collected_still_fails_scp_region_denied_alone():
    found = _judge({"eu-west-1": "partial"}, _ev(True))
    (f,) = _failing(found)
    assert f.check == CheckId.SCP_REGION_DENIED and "eu-west-1 (ec2:DescribeInstances)" in f.detail
    assert "exclude_partial = false" in f.detail


def test_a_partial_region_with_exclude_partial_is_dropped_through_the_one_finding():
    found = _judge({"eu-west-1": "partial"}, _ev(True), exclude_partial=True)
    assert [f.check for f in _failing(found)] == [CheckId.DATADOG_REGIONS_INCLUDE_DENIED]


def test_undecided_regions_fail_only_where_datadog_collects():
    left_out = _judge({"ap-south-1": "open"}, _ev(False, ("eu-west-1",)))
    assert _failing(left_out) == []
    assert [f.status for f in left_out if f.check == CheckId.REGION_INDETERMINATE] == [Status.PASS]
    collected = _judge({"ap-south-1": "open", "us-east-1": "open"}, _ev(False, ("us-east-1",)))
    (f,) = _failing(collected)
    assert f.check == CheckId.REGION_INDETERMINATE and "1 region(s) Datadog collects from: us-east-1" in f.detail


def test_unknown_datadog_regions_keep_the_matrix_findings():
    found = _judge({"us-east-1": "scp"}, _ev(None))
    assert [f.check for f in _failing(found)] == [CheckId.SCP_REGION_DENIED]
    assert found[0].detail == "SCPs deny ..."


kinds = st.dictionaries(st.sampled_from(REGIONS), st.sampled_from(("scp", "rcp", "partial", "open", "ok")))


@given(kinds=kinds, include_all=st.booleans(), only=st.sets(st.sampled_from(REGIONS)), exclude_partial=st.booleans())
def test_at_most_one_failing_finding_says_what_to_drop_and_nothing_fails_when_datadog_collects_nothing_denied(
        kinds, include_all, only, exclude_partial):
    ev = _ev(include_all, () if include_all else tuple(sorted(only)))
    found = _judge(kinds, ev, exclude_partial=exclude_partial)
    failing = _failing(found)
    assert len([f for f in failing if f.check == CheckId.DATADOG_REGIONS_INCLUDE_DENIED]) <= 1
    assert not [f for f in failing if f.check == CheckId.RCP_ASSUME_ROLE_DENIED]
    collected = set(REGIONS) if include_all else only
    troubled = {r for r, k in kinds.items() if k != "ok"}
    if not troubled & collected:
        assert failing == []
    for f in failing:  # every failing region finding names a region Datadog collects
        assert any(r in f.detail for r in troubled & collected)
