"""One AWS account held by Datadog in two account configs, end to end: one rule decides it for the run's
finding, datadog_patches.json and sync-regions (which config Datadog uses is not the auditor's to guess)."""

import json

import boto3

from auditor.cli import main
from auditor.demo.organization import build_demo_org
from tests.doubles.datadog_double import dd_account
from tests.e2e.api_config import api_source_config

REGIONS = ["us-east-1", "eu-west-1", "eu-central-1", "ap-southeast-1"]


def test_an_account_in_two_datadog_configs_is_one_finding_no_ready_patch_and_never_patched(
        moto_server, datadog, tmp_path, capsys):
    org = build_demo_org(boto3.Session(region_name="us-east-1"), total_accounts=20)
    by_name = {spec.name: acct for acct, spec in org.accounts.items()}
    pay = by_name["payments-prod"]  # the organization denies it regions: sync-regions would PATCH it
    for i, (acct, role_name, external_id) in enumerate(org.expected_csv_rows):
        datadog.accounts.append(dd_account(f"cfg-{i}", acct, role_name, external_id))
        if acct == pay:
            first = f"cfg-{i}"
    datadog.accounts.append(dd_account("cfg-pay-again", pay, "DatadogIntegrationRole", "0" * 32))
    cfg = api_source_config(tmp_path, datadog.url(), REGIONS)
    assert main(["run", "--config", str(cfg), "--output-dir", str(tmp_path / "reports"), "--quiet"]) == 1
    run_dir = tmp_path / "reports" / "latest"

    findings = json.loads((run_dir / "findings.json").read_text())
    [dup] = [f for f in findings if f["check"] == "datadog_account_duplicated"]
    assert (dup["account_id"], dup["status"], dup["severity"]) == (pay, "fail", "medium")
    assert f"{first}, cfg-pay-again" in dup["detail"]
    assert json.loads(dup["evidence"]) == {"kept": first, "others": ["cfg-pay-again"]}

    patch = json.loads((run_dir / "datadog_patches.json").read_text())[pay]
    assert patch["status"] == "duplicate_config" and patch["path"] is None and patch["method"] is None
    assert first in patch["note"] and "cfg-pay-again" in patch["note"]

    capsys.readouterr()
    assert main(["datadog", "sync-regions", "--run", str(run_dir), "--config", str(cfg), "--apply"]) == 1
    sent = {cid for cid, _ in datadog.patches}
    assert sent and not sent & {first, "cfg-pay-again"}  # the other accounts still apply
    assert f"{pay} (payments-prod): failed" in capsys.readouterr().out
