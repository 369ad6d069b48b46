"""Datadog's published permission list against the Datadog double beside a moto organization: read once
per run, every entry checked (a wildcard entry only as a whole), and a failing endpoint costs one warning
and the probe-action check, nothing else."""

from __future__ import annotations

import json
import os
from pathlib import Path

import boto3
import pytest

from auditor.cli import main
from auditor.demo.organization import AUDIT_ROLE, DATADOG_STANDARD_PERMISSIONS, build_demo_org
from auditor.facts.sites import DEFAULT_ROLE_NAME
from tests.doubles.datadog_double import FakeDatadog, dd_account

LIST_SIZE = len(DATADOG_STANDARD_PERMISSIONS)


def _org(datadog: FakeDatadog) -> dict[str, str]:
    org = build_demo_org(boto3.Session(region_name="us-east-1"), total_accounts=20)
    for i, (acct, role_name, external_id) in enumerate(org.expected_csv_rows):
        datadog.accounts.append(dd_account(f"cfg-{i}", acct, role_name, external_id))
    return {spec.name: acct for acct, spec in org.accounts.items()}


def _run(tmp_path: Path, datadog: FakeDatadog) -> tuple[int, Path]:
    tmp_path.mkdir(parents=True, exist_ok=True)
    cfg = tmp_path / "auditor.toml"
    cfg.write_text('[organization]\naudit_role_name = "OrganizationAccountAccessRole"\n'
                   f'[datadog]\nexpected_values = "datadog_api"\napi_url = "{datadog.url()}"\n'
                   '[regions]\naudited = ["us-east-1", "eu-west-1"]\n[run]\nworkers = 4\nmax_attempts = 2\n')
    os.chmod(cfg, 0o600)
    code = main(["run", "--config", str(cfg), "--output-dir", str(tmp_path / "reports"), "--quiet"])
    return code, tmp_path / "reports" / "latest"


def _findings(run_dir: Path, account_id: str, checks: set[str] | None = None) -> list[dict]:
    found = json.loads((run_dir / "findings.json").read_text())
    return [f for f in found if f["account_id"] == account_id and (checks is None or f["check"] in checks)]


def _set_role_policy(account_id: str, actions: list[str]) -> None:
    creds = boto3.client("sts", region_name="us-east-1").assume_role(
        RoleArn=f"arn:aws:iam::{account_id}:role/{AUDIT_ROLE}", RoleSessionName="test")["Credentials"]
    iam = boto3.client("iam", region_name="us-east-1", aws_access_key_id=creds["AccessKeyId"],
                       aws_secret_access_key=creds["SecretAccessKey"], aws_session_token=creds["SessionToken"])
    iam.put_role_policy(RoleName=DEFAULT_ROLE_NAME, PolicyName="DatadogAWSIntegrationPolicy", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]}))


def _without(*entries: str) -> list[str]:
    return [a for a in DATADOG_STANDARD_PERMISSIONS if a not in entries]


def _statuses(run_dir: Path) -> list[tuple[str, str, str]]:
    return sorted((f["account_id"], f["check"], f["status"])
                  for f in json.loads((run_dir / "findings.json").read_text()))


def test_roles_are_held_to_every_entry_of_datadogs_list(moto_server, datadog: FakeDatadog, tmp_path):
    by_name = _org(datadog)
    _set_role_policy(by_name["web-prod"], [*_without("dynamodb:List*"), "dynamodb:ListTables"])
    _set_role_policy(by_name["dev-beta"], _without("batch:DescribeJobQueues", "backup:List*"))
    _, run_dir = _run(tmp_path, datadog)
    assert datadog.permission_requests == 1

    (web,) = _findings(run_dir, by_name["web-prod"], {"role_permissions_missing"})
    assert f"Datadog's standard permission list ({LIST_SIZE} entries)" in web["detail"]
    assert "dynamodb:List* (only part of it is allowed: dynamodb:List is not" in web["detail"]
    assert json.loads(web["evidence"])["missing"] == ["dynamodb:List*"]
    (dev,) = _findings(run_dir, by_name["dev-beta"], {"role_permissions_missing"})
    assert json.loads(dev["evidence"])["missing"] == ["backup:List*", "batch:DescribeJobQueues"]

    # Datadog's full policy passes, and says against which list
    healthy = _findings(run_dir, by_name["security-tooling"])
    assert not [f for f in healthy if f["check"].startswith("role_permissions")]
    (present,) = [f for f in healthy if f["check"] == "role_present"]
    assert f"every permission of Datadog's standard permission list ({LIST_SIZE} entries)" in present["detail"]
    recorded = json.loads((run_dir / "inventory.json").read_text())["analysis"]["required_permissions"]
    assert recorded["source"] == "datadog" and len(recorded["actions"]) == LIST_SIZE


def test_a_failing_list_endpoint_costs_one_warning_and_the_probe_actions(moto_server, datadog: FakeDatadog,
                                                                        tmp_path, capsys: pytest.CaptureFixture[str]):
    by_name = _org(datadog)
    _set_role_policy(by_name["web-prod"], [*_without("dynamodb:List*"), "dynamodb:ListTables"])
    code_ok, ok_dir = _run(tmp_path / "ok", datadog)
    datadog.permissions_status = 500
    capsys.readouterr()
    code, run_dir = _run(tmp_path / "down", datadog)

    # the console (--quiet: warnings and errors only) shows one line about it
    warnings = [line for line in capsys.readouterr().err.splitlines() if "Datadog" in line or "permission" in line]
    assert len(warnings) == 1, warnings
    assert warnings[0].startswith("WARNING ")
    assert "Datadog API GET /api/v2/integration/aws/iam_permissions/standard" in warnings[0]
    assert "HTTP 500" in warnings[0] and "probe_actions" in warnings[0]
    # the probe actions hold no dynamodb action: web-prod passes, and the finding says which list was used
    (present,) = _findings(run_dir, by_name["web-prod"], {"role_present"})
    assert "the configured probe actions ([regions] probe_actions, 7 actions; Datadog's list was not read: " \
        "Datadog API GET /api/v2/integration/aws/iam_permissions/standard" in present["detail"]
    # the run is otherwise what it was with the list, but for the one account the list catches
    assert code == code_ok
    web_missing = (by_name["web-prod"], "role_permissions_missing", "fail")
    assert web_missing in _statuses(ok_dir)
    assert [s for s in _statuses(ok_dir) if s != web_missing and s[0] != by_name["web-prod"]] == \
        [s for s in _statuses(run_dir) if s[0] != by_name["web-prod"]]


def test_an_unreadable_api_is_one_run_level_finding_and_no_datadog_side_check(moto_server, datadog: FakeDatadog,
                                                                                tmp_path, monkeypatch):
    _org(datadog)
    monkeypatch.setenv("DD_APP_KEY", "not-the-app-key")  # the double answers 403
    _code, run_dir = _run(tmp_path, datadog)
    found = json.loads((run_dir / "findings.json").read_text())
    (error,) = [f for f in found if f["check"] == "datadog_api_error"]
    assert error["status"] == "error" and error["detail"] == (
        f"Datadog API GET /api/v2/integration/aws/accounts at {datadog.url()} failed with HTTP 403: the "
        "application key lacks permission (needs aws_configuration_read, and aws_configuration_edit to change "
        "regions) (Forbidden)")
    # Datadog's inventory is unknown: no account is said to be missing from it
    assert not [f for f in found if f["check"] in ("datadog_account_missing", "datadog_account_not_in_org")]
    assert datadog.permission_requests == 0  # the list is only read from an API that answered
