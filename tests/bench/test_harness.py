"""The benchmark harness end to end at a tiny size: it runs, measures and reports.

No timing assertions: the ratios are the benchmark's business, not a unit test's.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> tuple[dict, str]:
    out = tmp_path_factory.mktemp("bench") / "results.json"
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run.py"), "--sizes", "20", "--latency-ms", "1", "--baseline-sample", "2",
         "--throttle", "organizations=200/20,sts=5/2", "--throttle-sizes", "20", "--evaluation-accounts", "40",
         "--report-accounts", "0", "--json", str(out)],
        capture_output=True, text=True, timeout=300, cwd=ROOT,
    )
    assert out.exists(), done.stderr[-3000:]
    return json.loads(out.read_text()), done.stdout


def test_the_run_reads_every_account_with_the_expected_calls(results):
    data, _ = results
    plain = data["runs"][0]
    probe = plain["probe"]
    assert plain["n"] == 20 and not plain["throttle"]
    assert probe["accounts"] == 21 and probe["errors"] == 0  # 20 members + the management account
    assert probe["api_calls"]["sts.AssumeRole"] == 20
    assert probe["api_calls"]["iam.GetRolePolicy"] == 21
    assert max(probe["per_account_calls"]) == 6  # 5 one after another + ec2:DescribeRegions beside them
    assert probe["api_calls"]["ec2.DescribeRegions"] == 21
    org_calls = sum(v for k, v in probe["api_calls"].items() if k.startswith("organizations."))
    assert org_calls == plain["expected_organization_calls"]
    assert probe["peak_rss_mb"] > 0 and probe["cpu"] > 0
    assert plain["server"]["calls"]["sts.AssumeRole"] == 20  # the simulated AWS saw what the auditor counted
    assert plain["server"]["calls"]["ec2.DescribeRegions"] == 21


def test_the_bound_and_the_baseline_are_reported(results):
    data, stdout = results
    plain = data["runs"][0]
    assert plain["bound"]["account_rounds"] == 1 and plain["bound"]["sequential_calls_per_account"] == 5
    assert plain["baseline"]["sample"] == 2
    assert plain["baseline"]["api_calls"]["organizations.ListParents"] >= 2
    assert "lower bound" in stdout and "naive baseline" in stdout and "== targets ==" in stdout


def test_throttled_run_loses_no_account(results):
    data, _ = results
    throttled = data["runs"][1]
    assert throttled["throttle"].startswith("organizations=200/20")
    assert sum(throttled["server"]["throttled"].values()) > 0  # throttling really happened
    assert throttled["probe"]["accounts"] == 21 and throttled["probe"]["errors"] == 0


def test_policy_evaluation_counts_requests_and_evaluations(results):
    data, _ = results
    ev = data["evaluation"]
    assert ev["accounts"] == 41 and ev["regions"] == 30 and ev["actions"] == 5
    assert ev["verdicts"] == 41 * 30
    assert 0 < ev["evaluations"] <= ev["requests"]
