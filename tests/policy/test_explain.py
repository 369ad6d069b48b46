"""`auditor explain`: the chain level by level, statement by statement, from a run's inventory.json."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from auditor.commands import explain as command
from auditor.model import RCP, SCP, AuditResult, RunInfo
from auditor.policy.explain import ExplainError, explain_region
from auditor.report.inventory_json import inventory_to_dict

from .builders import (
    ACCT,
    CONTROL_TOWER,
    OU_PROD,
    PERIMETER,
    ROLE,
    ROOT,
    account,
    doc,
    full_access_everywhere,
    inventory,
    policy,
    real,
    snapshot,
    stmt,
)


def org():
    accts = [account(ACCT)]
    inv = inventory(accts, [full_access_everywhere(accts),
                            policy("p-ct", SCP, real(CONTROL_TOWER), [OU_PROD], "CT region deny"),
                            policy("p-dp", RCP, real(PERIMETER), [ROOT], "Data perimeter")])
    return inv, {ACCT: snapshot(ACCT)}


def section(text: str, title: str) -> str:
    """The block of the explanation that starts with `== <title>`."""
    return next(block for block in text.split("\n== ") if block.startswith(title))


def explain(region: str, actions=("cloudwatch:GetMetricData", "tag:GetResources")) -> str:
    inv, snaps = org()
    return explain_region(inv, snaps, account_id=ACCT, region=region, actions=actions, site="datadoghq.com",
                          role_name=ROLE)


def test_explain_walks_every_level_and_names_the_deciding_statement() -> None:
    text = explain("eu-west-1")
    metrics = section(text, "cloudwatch:GetMetricData")
    assert "Level 1: root r-ab12" in metrics and f"Level 2: OU {OU_PROD} (Prod)" in metrics
    assert f"Level 3: account {ACCT}" in metrics
    assert "p-ct (CT region deny)" in metrics
    assert "Deny 'GRREGIONDENY' (#0): APPLIES" in metrics
    assert "aws:RequestedRegion = 'eu-west-1' -> true" in metrics
    assert "Decision: DENIED - explicit Deny by p-ct (CT region deny) at " + OU_PROD in metrics
    tags = section(text, "tag:GetResources")
    assert "Deny 'GRREGIONDENY' (#0): does not apply - NotAction lists tag:GetResources" in tags
    assert "Decision: ALLOWED" in tags


def test_explain_shows_the_rcp_assume_role_and_the_region_verdict() -> None:
    text = explain("us-east-1")
    rcp = section(text, "sts:AssumeRole by Datadog's account 464622532012")
    assert "only Deny statements decide" in rcp
    assert "p-dp (Data perimeter)" in rcp and "'EnforceOrgIdentities' (#0): APPLIES" in rcp
    assert "aws:ResourceTag/dp:exclude:identity is absent, IfExists -> true" in rcp
    assert "Region verdict: denied" in text and "denied actions: sts:AssumeRole" in text


def test_explain_unknown_account_is_a_clear_error() -> None:
    inv, snaps = org()
    with pytest.raises(ExplainError, match="444455556666 is not in the run's inventory"):
        explain_region(inv, snaps, account_id="444455556666", region="eu-west-1", actions=("ec2:DescribeInstances",),
                       site="datadoghq.com", role_name=ROLE)


def write_run(tmp_path: Path) -> Path:
    inv, snaps = org()
    result = AuditResult(RunInfo("2025-01-01T00:00:00Z", "2025-01-01T00:01:00Z", "0.1.0", "abc"), inv,
                         ("us-east-1", "eu-west-1"), tuple(snaps.values()), ())
    (tmp_path / "inventory.json").write_text(json.dumps(inventory_to_dict(result)))
    return tmp_path


def run_command(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    command.register(parser.add_subparsers())
    args = parser.parse_args(["explain", *argv])
    return args.handler(args)


def test_command_explains_offline_from_inventory_json(tmp_path: Path, capsys) -> None:
    run_dir = write_run(tmp_path)
    code = run_command(["--run", str(run_dir), "--account", ACCT, "--region", "eu-west-1",
                        "--action", "cloudwatch:GetMetricData"])
    out = capsys.readouterr().out
    assert code == 0
    assert "== cloudwatch:GetMetricData" in out and "== tag:GetResources" not in out
    assert "Region verdict: denied" in out


def test_command_reports_bad_input_in_one_line(tmp_path: Path, capsys) -> None:
    assert run_command(["--run", str(tmp_path), "--account", ACCT, "--region", "eu-west-1"]) == 2
    assert "inventory.json: no such file" in capsys.readouterr().err
    run_dir = write_run(tmp_path)
    assert run_command(["--run", str(run_dir), "--account", "444455556666", "--region", "eu-west-1"]) == 2
    assert "444455556666 is not in the run's inventory" in capsys.readouterr().err
    assert run_command(["--run", str(run_dir), "--account", ACCT, "--region", "Europe"]) == 2
    assert "--region 'Europe'" in capsys.readouterr().err


def test_explain_names_each_key_the_policies_read_with_its_class_and_why() -> None:
    text = explain("eu-west-1", actions=("cloudwatch:GetMetricData",))
    metrics = section(text, "cloudwatch:GetMetricData")
    assert "Request keys the policies read" in metrics
    assert ("aws:RequestedRegion: present, 'eu-west-1' - always in the request: the region the call is sent to"
            in metrics)
    assert "aws:PrincipalARN: present, 'arn:aws:iam::111122223333:role/DatadogIntegrationRole'" in metrics
    rcp = section(text, "sts:AssumeRole by Datadog's account")
    assert "aws:PrincipalOrgID: absent - set only if the principal's account is a member of an organization" in rcp
    assert ("aws:ResourceTag/dp:exclude:identity: absent - sent for each tag on the role; a tag the role does not have "
            "is absent") in rcp
    assert "aws:PrincipalIsAWSService: present, 'false' - in every signed request" in rcp


def test_explain_says_why_a_key_is_unknown_or_absent_or_unseen() -> None:
    accts = [account(ACCT)]
    scp = doc(stmt("Deny", "*", Condition={
        "StringNotEqualsIfExists": {"aws:SourceVpc": "vpc-1", "aws:SourceAccount": "1", "aws:userid": "x"},
        "Bool": {"aws:ViaAWSMCPService": "true"}, "StringEquals": {"s3:prefix": "${aws:CalledVia}"}}))
    inv = inventory(accts, [full_access_everywhere(accts), policy("p-keys", SCP, scp, [OU_PROD])], types=(SCP,))
    text = explain_region(inv, {ACCT: snapshot(ACCT)}, account_id=ACCT, region="eu-west-1",
                          actions=("tag:GetResources",), site="datadoghq.com", role_name=ROLE)
    tags = section(text, "tag:GetResources")
    assert "aws:SourceVpc: unknown - set only when the request comes through a VPC endpoint" in tags
    assert "aws:SourceAccount: absent - set only when an AWS service principal calls" in tags
    assert "aws:userid: present, value unknown - always in the request" in tags
    assert "aws:ViaAWSMCPService: unknown (absent, or 'false') - documented for calls made through" in tags
    assert "aws:calledvia: absent - set only when a service calls another" in tags  # read as a policy variable
    assert "s3:prefix: unknown - not in the auditor's table of Datadog's requests" in tags
