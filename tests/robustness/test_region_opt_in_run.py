"""Whole runs with accounts that have not enabled an audited opt-in region, and with the opt-in read denied."""

from __future__ import annotations

import argparse
import csv
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fault_org import Org, make_config
from faults import Request

from auditor.commands.explain import explain_from_run
from auditor.commands.render import render_run
from auditor.commands.run import execute
from auditor.demo.moto_regions import opted_in_regions

REGIONS = ["us-east-1", "eu-west-1", "ap-east-1"]
DENY_EU_WEST_1 = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Deny", "Action": "*", "Resource": "*",
    "Condition": {"StringEquals": {"aws:RequestedRegion": "eu-west-1"}}}]})


@pytest.fixture
def denied_eu_west_1(org: Org) -> Iterator[Org]:
    """Every member (the OU) is denied eu-west-1: each gets an exclusion and a patch to look at."""
    client = org.session.client("organizations")
    pid = client.create_policy(Content=DENY_EU_WEST_1, Description="t", Name="deny-eu-west-1",
                               Type="SERVICE_CONTROL_POLICY")["Policy"]["PolicySummary"]["Id"]
    client.attach_policy(PolicyId=pid, TargetId=org.ou)
    yield org
    client.detach_policy(PolicyId=pid, TargetId=org.ou)
    client.delete_policy(PolicyId=pid)


def _run(org: Org, tmp_path: Path) -> Path:
    code, run_dir = execute(make_config(regions={"audited": REGIONS}), tmp_path, session=org.session, quiet=True,
                            env={})
    assert run_dir is not None and code in (0, 1)
    return run_dir


def _regions(run_dir: Path) -> dict[tuple[str, str], dict[str, str]]:
    return {(r["account_id"], r["region"]): r for r in csv.DictReader((run_dir / "regions.csv").open())}


def test_a_region_an_account_has_not_enabled_is_not_applicable_and_never_proposed(denied_eu_west_1: Org,
                                                                                   tmp_path: Path) -> None:
    org = denied_eu_west_1
    off, on = org.members[0], org.members[1]
    with opted_in_regions() as opted:
        for acct in org.all_accounts - {off}:
            opted[acct] = {"ap-east-1"}
        run_dir = _run(org, tmp_path)
    regions = _regions(run_dir)
    row = regions[(off, "ap-east-1")]
    assert row["verdict"] == "not_applicable" and "region not enabled for this account" in row["reason"]
    assert regions[(on, "ap-east-1")]["verdict"] == "allowed"
    assert regions[(off, "eu-west-1")]["verdict"] == "denied"

    exclusions = {e["account_id"]: e for e in json.loads((run_dir / "exclusions.json").read_text())}
    assert exclusions[off]["include_only"] == ["us-east-1"] and exclusions[off]["exclude"] == ["eu-west-1"]
    assert exclusions[off]["not_enabled"] == ["ap-east-1"]
    assert exclusions[on]["include_only"] == ["us-east-1", "ap-east-1"] and exclusions[on]["not_enabled"] == []
    csv_rows = {r["account_id"]: r for r in csv.DictReader((run_dir / "exclusions.csv").open())}
    assert csv_rows[off]["include_only"] == "us-east-1" and csv_rows[off]["excluded_count"] == "1"
    tf = json.loads((run_dir / "exclusions.tf.json").read_text())["locals"]
    assert tf["datadog_include_only_regions"][off] == ["us-east-1"] and tf["datadog_excluded_regions"][off] == [
        "eu-west-1"]
    patches = json.loads((run_dir / "datadog_patches.json").read_text())
    assert "ap-east-1" not in json.dumps(patches[off])

    findings = json.loads((run_dir / "findings.json").read_text())
    denied = next(f for f in findings if f["account_id"] == off and f["check"] == "scp_region_denied")
    assert "1 region(s)" in denied["detail"] and "not enabled for this account" in denied["detail"]

    inventory = json.loads((run_dir / "inventory.json").read_text())
    snaps = {s["account_id"]: s for s in inventory["snapshots"]}
    assert "ap-east-1" in snaps[off]["region_opt_in"]["not_enabled"]
    assert "ap-east-1" not in snaps[on]["region_opt_in"]["not_enabled"]
    assert json.loads((run_dir / "run.json").read_text())["api_calls"]["ec2.DescribeRegions"] == len(org.all_accounts)

    # From the saved run alone: the workbook is rebuilt, and explain says why.
    assert render_run(run_dir).is_file()
    text = explain_from_run(argparse.Namespace(run=run_dir, account=off, region="ap-east-1", action=[], config=None,
                                               site=None, role_name=None))
    assert "region not enabled for this account" in text
    assert text.rstrip().splitlines()[-1].startswith("Region verdict: not_applicable")


def test_a_denied_opt_in_read_counts_every_region_as_enabled_warns_once_and_loses_nothing(
        denied_eu_west_1: Org, tmp_path: Path) -> None:
    org = denied_eu_west_1
    org.faults.add("ec2.DescribeRegions",
                   lambda r: r.error("UnauthorizedOperation", "You are not authorized to perform this operation.",
                                     403))
    run_dir = _run(org, tmp_path)
    inventory = json.loads((run_dir / "inventory.json").read_text())
    assert all(s["error"] is None for s in inventory["snapshots"])
    assert all(s["region_opt_in"]["error"].startswith("UnauthorizedOperation") for s in inventory["snapshots"])
    regions = _regions(run_dir)
    assert {regions[(a, "ap-east-1")]["verdict"] for a in org.members} == {"allowed"}
    exclusions = {e["account_id"]: e for e in json.loads((run_dir / "exclusions.json").read_text())}
    assert exclusions[org.members[0]]["include_only"] == ["us-east-1", "ap-east-1"]
    log = (tmp_path / "auditor.log").read_text()
    warnings = [line for line in log.splitlines() if "opt-in status" in line]
    assert len(warnings) == 1 and "WARNING" in warnings[0], warnings
    assert f"{len(org.all_accounts)} account(s)" in warnings[0] and "ec2:DescribeRegions" in warnings[0]
    findings = json.loads((run_dir / "findings.json").read_text())
    denied = next(f for f in findings if f["account_id"] == org.members[0] and f["check"] == "scp_region_denied")
    assert "opt-in status could not be read" in denied["detail"]


def test_a_throttled_opt_in_read_is_retried_then_degrades_for_that_account_only(org: Org, tmp_path: Path) -> None:
    slow = org.members[2]

    def throttle(r: Request):
        return r.error("RequestLimitExceeded", "Request limit exceeded.", 503) if r.account == slow else None

    org.faults.add("ec2.DescribeRegions", throttle)
    run_dir = _run(org, tmp_path)
    assert org.faults.injected["ec2.DescribeRegions"] == 3  # [run] max_attempts = 3: retried, then given up
    snaps = {s["account_id"]: s for s in json.loads((run_dir / "inventory.json").read_text())["snapshots"]}
    assert snaps[slow]["error"] is None and snaps[slow]["region_opt_in"]["error"].startswith("RequestLimitExceeded")
    assert all(not s["region_opt_in"]["error"] for a, s in snaps.items() if a != slow)
    assert _regions(run_dir)[(slow, "ap-east-1")]["verdict"] == "allowed"
    assert _regions(run_dir)[(org.members[0], "ap-east-1")]["verdict"] == "not_applicable"  # moto: not opted in
