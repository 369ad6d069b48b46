"""Datadog's side as Datadog really is, against the Datadog double beside a moto organization:
accounts that already leave their denied regions out, access-key accounts, the published permission list."""

from __future__ import annotations

import csv
import io
import json
import logging
import os
import zipfile
from pathlib import Path

import boto3

from auditor.checks.catalogue import CATALOGUE, Subject
from auditor.cli import main
from auditor.demo.organization import build_demo_org
from tests.doubles.datadog_double import FakeDatadog, dd_access_key_account, dd_account

REGIONS = ["us-east-1", "eu-west-1", "eu-central-1", "ap-southeast-1"]
REGION_CHECKS = {"scp_region_denied", "rcp_assume_role_denied", "region_indeterminate",
                 "datadog_regions_include_denied"}


def _org(datadog: FakeDatadog, regions_by_name: dict[str, dict], total: int = 20):
    org = build_demo_org(boto3.Session(region_name="us-east-1"), total_accounts=total)
    names = {acct: spec.name for acct, spec in org.accounts.items()}
    for i, (acct, role_name, external_id) in enumerate(org.expected_csv_rows):
        datadog.accounts.append(dd_account(f"cfg-{i}", acct, role_name, external_id,
                                           regions=regions_by_name.get(names.get(acct, ""))))
    return org, {spec.name: acct for acct, spec in org.accounts.items()}


def _run(tmp_path: Path, datadog: FakeDatadog, extra: str = "") -> tuple[int, Path]:
    cfg = tmp_path / "auditor.toml"
    cfg.write_text(
        '[organization]\naudit_role_name = "OrganizationAccountAccessRole"\n'
        f'[datadog]\nexpected_values = "datadog_api"\napi_url = "{datadog.url()}"\n'
        f"[regions]\naudited = {json.dumps(REGIONS)}\n[run]\nworkers = 4\nmax_attempts = 2\n{extra}"
    )
    os.chmod(cfg, 0o600)
    out = tmp_path / "reports"
    code = main(["run", "--config", str(cfg), "--output-dir", str(out), "--quiet"])
    return code, out / "latest"


def _findings(run_dir: Path, account_id: str, checks: set[str] | None = None) -> list[dict]:
    found = json.loads((run_dir / "findings.json").read_text())
    return [f for f in found if f["account_id"] == account_id and (checks is None or f["check"] in checks)]


def test_region_findings_follow_what_datadog_collects(moto_server, datadog, tmp_path):
    eu = {"include_only": ["eu-central-1", "eu-west-1"]}
    _, by_name = _org(datadog, {
        "payments-prod": eu,  # the SCP denies everything outside the EU: Datadog already leaves it out
        "payments-dr": {"include_only": ["eu-west-1", "us-east-1"]},  # still collects us-east-1
        "sandbox-ana": {"include_only": []},  # the RCP denies sts:AssumeRole everywhere; nothing collected
    })
    _, run_dir = _run(tmp_path, datadog)

    ok = _findings(run_dir, by_name["payments-prod"], REGION_CHECKS)
    assert [(f["check"], f["status"]) for f in ok] == [("scp_region_denied", "pass")]
    assert "us-east-1, ap-southeast-1" in ok[0]["detail"] and "already leaves them out" in ok[0]["detail"]

    dr = [f for f in _findings(run_dir, by_name["payments-dr"], REGION_CHECKS) if f["status"] == "fail"]
    assert [f["check"] for f in dr] == ["datadog_regions_include_denied"]
    assert "Drop us-east-1" in dr[0]["detail"] and "corrected include_only: eu-west-1" in dr[0]["detail"]
    assert "Already left out in Datadog: ap-southeast-1" in dr[0]["detail"]

    sandbox = _findings(run_dir, by_name["sandbox-ana"], REGION_CHECKS)
    assert [(f["check"], f["status"]) for f in sandbox] == [("rcp_assume_role_denied", "pass")]

    # include_all (the double's default) under Control Tower's region deny: one failing finding
    ben = _findings(run_dir, by_name["dev-alpha"], REGION_CHECKS)
    assert [(f["check"], f["status"], f["severity"]) for f in ben] == [
        ("datadog_regions_include_denied", "fail", "medium")]


def test_with_the_csv_source_the_region_findings_stay_as_before(moto_server, tmp_path, monkeypatch):
    org = build_demo_org(boto3.Session(region_name="us-east-1"), total_accounts=20)
    by_name = {spec.name: acct for acct, spec in org.accounts.items()}
    csv = tmp_path / "expected.csv"
    csv.write_text("account_id,role_name,external_id\n"
                   + "".join(f"{a},{r},{e}\n" for a, r, e in org.expected_csv_rows))
    cfg = tmp_path / "auditor.toml"
    cfg.write_text('[organization]\naudit_role_name = "OrganizationAccountAccessRole"\n'
                   f'[datadog]\nexpected_values = "csv"\nexpected_values_csv = "{csv}"\n'
                   f"[regions]\naudited = {json.dumps(REGIONS)}\n[run]\nworkers = 4\n")
    os.chmod(cfg, 0o600)
    main(["run", "--config", str(cfg), "--output-dir", str(tmp_path / "r"), "--quiet"])
    found = _findings(tmp_path / "r" / "latest", by_name["payments-prod"], REGION_CHECKS)
    assert [(f["check"], f["status"]) for f in found] == [("scp_region_denied", "fail")]


ACCESS_KEY_ID = "AKIAIOSFODNN7EXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


def test_access_key_accounts_get_one_info_finding_no_role_failure_and_the_secret_goes_nowhere(
        moto_server, datadog, tmp_path, capsys, caplog):
    caplog.set_level(logging.DEBUG)
    _, by_name = _org(datadog, {})
    # ledger-prod has no role at all, legacy-bi a wildcard trust: with access keys neither matters
    for name in ("ledger-prod", "legacy-bi", "dev-alpha"):
        item = next(a for a in datadog.accounts if a["attributes"]["aws_account_id"] == by_name[name])
        datadog.accounts[datadog.accounts.index(item)] = dd_access_key_account(
            item["id"], by_name[name], ACCESS_KEY_ID, SECRET)
    _, run_dir = _run(tmp_path, datadog)
    role_checks = {c for c, spec in CATALOGUE.items() if spec.subject in (Subject.ROLE, Subject.TRUST)}
    for name in ("ledger-prod", "legacy-bi"):
        found = _findings(run_dir, by_name[name])
        assert [f["check"] for f in found if f["check"] in role_checks] == []
        (note,) = [f for f in found if f["check"] == "datadog_access_keys"]
        assert note["severity"] == "info" and "recommended" in note["detail"]
    # SCPs still bind the IAM user: Control Tower's region deny applies, but it exempts its own roles by
    # aws:PrincipalArn, which for an unknown IAM user is unseen: undecided, never guessed
    regions = {r["region"]: r for r in csv.DictReader((run_dir / "regions.csv").open())
               if r["account_id"] == by_name["dev-alpha"]}
    assert regions["us-east-1"]["verdict"] == "allowed"
    assert regions["eu-central-1"]["verdict"] == "indeterminate"
    assert regions["eu-central-1"]["unknown_keys"].lower() == "aws:principalarn"

    outputs = [p.read_bytes() for p in run_dir.rglob("*") if p.is_file()]
    outputs += [p.read_bytes() for p in (tmp_path / "reports").glob("*.log*") if p.is_file()]
    captured = capsys.readouterr()
    for blob in [*outputs, captured.out.encode(), captured.err.encode(), caplog.text.encode()]:
        assert SECRET.encode() not in blob
        assert SECRET[:12].encode() not in zlib_safe(blob)
    assert any(b"datadog_access_keys" in blob for blob in outputs)


def zlib_safe(blob: bytes) -> bytes:
    """The workbook is a zip: its sheets are compressed, so look inside."""
    if blob[:2] != b"PK":
        return blob
    with zipfile.ZipFile(io.BytesIO(blob)) as z:
        return b"".join(z.read(n) for n in z.namelist())
