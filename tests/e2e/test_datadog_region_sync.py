"""The region lists end to end: a moto organization, the Datadog API double, the run's
datadog_patches.json and exclusions.tf.json, and sync-regions (dry run, then --apply against a
Datadog that silently drops a region it does not support)."""

import json
from pathlib import Path

import boto3

from auditor.cli import main
from auditor.demo.organization import build_demo_org
from tests.doubles.datadog_double import dd_account
from tests.e2e.api_config import api_source_config

REGIONS = ["us-east-1", "eu-west-1", "eu-central-1", "ap-southeast-1"]


def _sync(run_dir: Path, cfg: Path, *extra: str) -> int:
    return main(["datadog", "sync-regions", "--run", str(run_dir), "--config", str(cfg), *extra])


def _record(run_dir: Path, mode: str) -> dict:
    [record] = [r for p in run_dir.glob("sync-*.json") if (r := json.loads(p.read_text()))["mode"] == mode]
    return record


def test_patches_terraform_and_sync_agree_and_a_dropped_region_fails_the_apply(moto_server, datadog, tmp_path, capsys):
    org = build_demo_org(boto3.Session(region_name="us-east-1"), total_accounts=20)
    by_name = {spec.name: acct for acct, spec in org.accounts.items()}
    config_ids = {}
    for i, (acct, role_name, external_id) in enumerate(org.expected_csv_rows):
        if acct == by_name["ledger-prod"]:
            continue  # not monitored by Datadog
        regions = {"include_only": ["us-east-1"]} if acct == by_name["dev-alpha"] else None
        config_ids[acct] = f"cfg-{i}"
        datadog.accounts.append(dd_account(f"cfg-{i}", acct, role_name, external_id, regions=regions))
    cfg = api_source_config(tmp_path, datadog.url(), REGIONS)
    assert main(["run", "--config", str(cfg), "--output-dir", str(tmp_path / "reports"), "--quiet"]) == 1
    run_dir = tmp_path / "reports" / "latest"
    patches = json.loads((run_dir / "datadog_patches.json").read_text())
    tf = json.loads((run_dir / "exclusions.tf.json").read_text())["locals"]

    # Patches Datadog can apply: config id, method, exact path, body with sorted regions.
    pay = by_name["payments-prod"]
    assert patches[pay]["status"] == "ready" and patches[pay]["datadog_config_id"] == config_ids[pay]
    assert (patches[pay]["method"], patches[pay]["path"]) == (
        "PATCH", f"/api/v2/integration/aws/accounts/{config_ids[pay]}")
    assert patches[pay]["body"] == {"data": {"type": "account", "attributes": {
        "aws_account_id": pay, "aws_regions": {"include_only": ["eu-central-1", "eu-west-1"]}}}}
    assert by_name["dev-alpha"] not in patches  # Datadog already collects from us-east-1 only
    ledger = patches[by_name["ledger-prod"]]
    assert ledger["status"] == "config_id_unknown" and ledger["path"] is None
    # Every region denied (the data-perimeter RCP): one rule, no empty include_only anywhere.
    sandbox = by_name["sandbox-ana"]
    assert patches[sandbox]["status"] == "no_region_left" and patches[sandbox]["body"] is None
    assert sandbox not in tf["datadog_include_only_regions"] and tf["datadog_accounts_without_regions"] == [sandbox]

    # Dry run: nothing sent, the plan is what the patches file says.
    assert _sync(run_dir, cfg) == 0 and datadog.patches == []
    planned = {a["account_id"]: a for a in _record(run_dir, "dry-run")["accounts"]}
    ready = {a: p for a, p in patches.items() if p["status"] == "ready"}
    assert {a for a, p in planned.items() if p["action"] == "would_update"} == set(ready)
    assert planned[sandbox]["action"] == "no_region_left" and planned[sandbox]["proposed"] is None

    # --apply against a Datadog that does not support eu-central-1 (like a newly launched region).
    datadog.unsupported_regions = {"eu-central-1"}
    capsys.readouterr()
    assert _sync(run_dir, cfg, "--apply") == 1
    out = capsys.readouterr().out
    sent = {f"/api/v2/integration/aws/accounts/{cid}": body for cid, body in datadog.patches}
    assert sent == {p["path"]: p["body"] for p in ready.values()}  # exactly the patches file, nothing else
    applied = {a["account_id"]: a for a in _record(run_dir, "apply")["accounts"]}
    for account_id in (pay, by_name["payments-dr"]):
        assert applied[account_id]["action"] == "not_kept"
        assert applied[account_id]["not_kept"] == ["eu-central-1"]
        assert applied[account_id]["stored"] == {"include_only": ["eu-west-1"]}
        assert f"account {account_id} (Datadog config {config_ids[account_id]})" in applied[account_id]["error"]
        assert f"account {account_id} " in out
    assert "did not keep eu-central-1" in out
    dev = by_name["dev-beta"]
    assert applied[dev]["action"] == "updated" and applied[dev]["stored"] == {"include_only": ["us-east-1"]}
    assert applied[sandbox]["action"] == "no_region_left"
