"""`auditor run` over HTTP against a moto server holding a whole organization."""

import csv
import json
import os

import boto3

from auditor.cli import main
from auditor.demo.organization import build_demo_org


def write_config(tmp_path, **datadog):
    cfg = tmp_path / "auditor.toml"
    lines = [
        "[organization]",
        'audit_role_name = "OrganizationAccountAccessRole"',  # moto creates it in every member account
        "[regions]",
        'audited = ["us-east-1", "eu-west-1", "eu-central-1", "ap-southeast-1"]',
        "[run]",
        "workers = 4",
        "max_attempts = 2",
        "[datadog]",
        'expected_values = "none"',
    ]
    lines += [f'{k} = "{v}"' for k, v in datadog.items()]
    cfg.write_text("\n".join(lines) + "\n")
    os.chmod(cfg, 0o600)
    return cfg


def test_run_lists_every_active_account_once_and_reports_unassumable_ones(moto_server, tmp_path):
    org = build_demo_org(boto3.Session(region_name="us-east-1"), total_accounts=24)
    out = tmp_path / "reports"
    code = main(["run", "--config", str(write_config(tmp_path)), "--output-dir", str(out), "--quiet"])
    assert code == 1  # the demo organization has failing findings of high severity
    (run_dir,) = [p for p in out.iterdir() if p.is_dir() and p.name[0].isdigit()]
    for name in ("findings.json", "findings.csv", "regions.csv", "exclusions.json", "run.json",
                 "inventory.json", "audit.xlsx"):
        assert (run_dir / name).is_file(), name
    run = json.loads((run_dir / "run.json").read_text())
    suspended = {a for a, spec in org.accounts.items() if spec.status != "ACTIVE"}
    active = (set(org.accounts) | {org.management_account_id}) - suspended
    deleted = {a for a, spec in org.accounts.items() if spec.problem == "audit_role_deleted"}
    assert run["accounts_audited"] + run["accounts_errored"] == len(active)
    assert run["accounts_errored"] == len(deleted) == 1
    assert run["accounts_skipped"] == len(suspended)
    assert run["api_calls"]["sts.AssumeRole"] == len(active) - 1  # the management account uses its own
    findings = json.loads((run_dir / "findings.json").read_text())
    by_account: dict[str, set[str]] = {}
    for f in findings:
        by_account.setdefault(f["account_id"], set()).add(f["check"])
    assert set(by_account) >= active
    assert not (set(by_account) & suspended)
    (bad,) = deleted
    err = next(f for f in findings if f["account_id"] == bad)
    assert err["check"] == "audit_role_unassumable" and err["status"] == "error"
    assert "AccessDenied" in err["detail"]
    regions = list(csv.DictReader((run_dir / "regions.csv").open()))
    rows = {(r["account_id"], r["region"]) for r in regions}
    everyone = set(org.accounts) | {org.management_account_id}
    assert len(rows) == len(regions) == len(everyone) * 4
    # Accounts that were not audited are in the matrix too, as not applicable.
    for r in regions:
        if r["account_id"] in suspended | deleted:
            assert r["verdict"] == "not_applicable", r


def test_a_fix_between_two_runs_shows_as_resolved(moto_server, tmp_path):
    from auditor.demo.organization import AUDIT_ROLE, DATADOG_ACCOUNT, external_id_for, trust_policy

    session = boto3.Session(region_name="us-east-1")
    org = build_demo_org(session, total_accounts=20)
    (gamma,) = [a for a, spec in org.accounts.items() if spec.problem == "external_id_missing"]
    out = tmp_path / "reports"
    cfg = write_config(tmp_path)
    main(["run", "--config", str(cfg), "--output-dir", str(out), "--quiet"])

    creds = session.client("sts").assume_role(
        RoleArn=f"arn:aws:iam::{gamma}:role/{AUDIT_ROLE}", RoleSessionName="fixer"
    )["Credentials"]
    iam = boto3.client("iam", region_name="us-east-1", aws_access_key_id=creds["AccessKeyId"],
                       aws_secret_access_key=creds["SecretAccessKey"], aws_session_token=creds["SessionToken"])
    iam.update_assume_role_policy(
        RoleName="DatadogIntegrationRole",
        PolicyDocument=trust_policy(f"arn:aws:iam::{DATADOG_ACCOUNT}:root", external_id_for(gamma)),
    )
    main(["run", "--config", str(cfg), "--output-dir", str(out), "--quiet"])

    findings = json.loads((out / "latest" / "findings.json").read_text())
    mine = {f["check"]: f["change"] for f in findings if f["account_id"] == gamma}
    assert mine["trust_external_id_missing"] == "resolved"
    others = [f for f in findings if f["account_id"] != gamma and f["status"] == "fail"]
    assert others and all(f["change"] == "open" for f in others)
    run = json.loads((out / "latest" / "run.json").read_text())
    assert run["compared_with"] and run["changes"]["resolved"] == 1
