"""Both sides at once: a moto organization over HTTP and a local Datadog API double."""

import json

import boto3

from auditor.cli import main
from auditor.demo.organization import build_demo_org
from tests.doubles.datadog_double import dd_account
from tests.e2e.api_config import api_source_config

REGIONS = ["us-east-1", "eu-west-1", "eu-central-1", "ap-southeast-1"]
STALE = "999999999999"


def test_findings_name_each_case_and_sync_sends_exactly_the_expected_patches(moto_server, datadog, tmp_path):
    org = build_demo_org(boto3.Session(region_name="us-east-1"), total_accounts=20)
    by_name = {spec.name: acct for acct, spec in org.accounts.items()}
    for i, (acct, role_name, external_id) in enumerate(org.expected_csv_rows):
        datadog.accounts.append(dd_account(f"cfg-{i}", acct, role_name, external_id))
    datadog.accounts.append(dd_account("cfg-stale", STALE, "DatadogIntegrationRole", "0" * 32))
    cfg = api_source_config(tmp_path, datadog.url(), REGIONS)
    out = tmp_path / "reports"
    assert main(["run", "--config", str(cfg), "--output-dir", str(out), "--quiet"]) == 1
    run_dir = out / "latest"
    findings = json.loads((run_dir / "findings.json").read_text())

    def checks(account_id: str) -> set[str]:
        return {f["check"] for f in findings if f["account_id"] == account_id and f["status"] == "fail"}

    assert "role_name_mismatch" in checks(by_name["web-api"])  # "DatadogIntegrationRole " in Datadog
    assert "trust_external_id_mismatch" in checks(by_name["web-cdn"])  # rotated in Datadog only
    assert checks(STALE) == {"datadog_account_not_in_org"}
    assert "datadog_regions_include_denied" in checks(by_name["payments-prod"])
    assert "datadog_regions_include_denied" not in checks(by_name["web-prod"])
    assert not datadog.patches  # the audit itself never writes to Datadog

    assert main(["datadog", "sync-regions", "--run", str(run_dir), "--config", str(cfg)]) == 0
    assert not datadog.patches  # a dry run changes nothing

    assert main(["datadog", "sync-regions", "--run", str(run_dir), "--config", str(cfg), "--apply"]) == 0
    exclusions = json.loads((run_dir / "exclusions.json").read_text())
    config_ids = {a["attributes"]["aws_account_id"]: a["id"] for a in datadog.accounts}
    expected = {
        config_ids[e["account_id"]]: sorted(e["include_only"])
        for e in exclusions
        if e["exclude"] and e["include_only"] and e["account_id"] in config_ids
    }
    sent = {cid: sorted(body["data"]["attributes"]["aws_regions"]["include_only"]) for cid, body in datadog.patches}
    assert sent == expected
    assert len(datadog.patches) == len(expected)
    assert config_ids[by_name["payments-prod"]] in sent
    assert sent[config_ids[by_name["payments-prod"]]] == ["eu-central-1", "eu-west-1"]
    for _cid, body in datadog.patches:
        assert body["data"]["type"] == "account"
        assert set(body["data"]["attributes"]) == {"aws_account_id", "aws_regions"}
