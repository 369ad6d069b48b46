"""Malformed or oversized policy documents from AWS are findings, never a crash.

The documents are swapped into the parsed responses before botocore's own handlers see them,
as if AWS had returned them: each account of the test organization gets a different one in its
trust policy and inline policy, and the organization's SCP gets one too.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fault_org import Org, make_config

from auditor.commands.run import execute
from auditor.exit_codes import ExitCode

STATEMENT = {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"AWS": "arn:aws:iam::464622532012:root"}}
DOCUMENTS = {
    "not_json": "{not json",
    "empty": "",
    "null": "null",
    "array": "[]",
    "statement_number": '{"Statement": 5}',
    "bad_escape": "%7B%22Statement%22%3A%5B%7B",
    "deep_array": "[" * 50_000 + "]" * 50_000,  # RecursionError in json.loads
    "deep_but_parseable": '{"Statement":' + "[" * 900 + "]" * 900 + "}",  # parses, then too deep to walk
    "condition_object": json.dumps({"Version": "2012-10-17", "Statement": [{
        **STATEMENT, "Condition": {"StringEquals": {"sts:ExternalId": {"nested": [1, {"x": None}]}}}}]}),
    # IAM's largest limit is 10,240 characters; this is ~130,000.
    "oversized": json.dumps({"Version": "2012-10-17",
                             "Statement": [dict(STATEMENT, Sid=f"S{i}") for i in range(1000)]}),
    "lone_surrogate": '{"Statement": "\\ud800"}',
}
NAMES = sorted(DOCUMENTS)
GROUPS = [NAMES[:6], NAMES[6:]]  # the test organization has 6 accounts


def _swap(org: Org, path: tuple[str, ...], by_account: dict[str, str]) -> Any:
    def hook(parsed: dict[str, Any], **_: Any) -> None:
        node: Any = parsed
        for key in path[:-1]:
            node = node.get(key) if isinstance(node, dict) else None
        account = org.faults.current_account()
        if isinstance(node, dict) and path[-1] in node and account in by_account:
            node[path[-1]] = by_account[account]
    return hook


@pytest.mark.parametrize("names", GROUPS, ids=["-".join(g) for g in GROUPS])
def test_malformed_trust_inline_and_organization_policies_become_findings(org: Org, tmp_path: Path,
                                                                           names: list[str]) -> None:
    accounts = sorted(org.all_accounts)
    by_account = {a: DOCUMENTS[n] for a, n in zip(accounts, names, strict=False)}
    events = org.session.events
    events.register("after-call.iam.GetRole", _swap(org, ("Role", "AssumeRolePolicyDocument"), by_account))
    events.register("after-call.iam.GetRolePolicy", _swap(org, ("PolicyDocument",), by_account))
    scp = {org.management: DOCUMENTS[names[0]]}
    events.register("after-call.organizations.DescribePolicy", _swap(org, ("Policy", "Content"), scp))
    code, run_dir = execute(make_config(), tmp_path, session=org.session, quiet=True, env={})
    assert code != ExitCode.INCOMPLETE and run_dir is not None
    run = json.loads((run_dir / "run.json").read_text())
    assert run["complete"] is True and run["accounts_errored"] == 0
    findings = json.loads((run_dir / "findings.json").read_text())
    invalid = {f["account_id"] for f in findings if f["check"] == "trust_policy_invalid" and f["status"] != "pass"}
    assert invalid == {a for a, n in zip(accounts, names, strict=False) if n != "oversized"}
    assert any(f["check"] == "policy_document_invalid" and f["status"] == "error" for f in findings)  # the SCP
    unreadable = ("role_permissions_unverified", "role_permissions_missing")
    permissions = {f["account_id"] for f in findings if f["check"] in unreadable and f["status"] != "pass"}
    assert permissions == set(by_account)  # the inline policy could not be read as granting anything


HUGE_NUMBER = "9" * 5000  # beyond Python's int/str conversion limit (4300 digits): a ValueError


def test_a_5000_digit_number_in_one_trust_policy_and_the_scp_ends_in_findings_and_every_account_is_audited(
    org: Org, tmp_path: Path
) -> None:
    accounts = sorted(org.all_accounts)
    victim = accounts[0]
    trust = json.dumps({"Version": "2012-10-17", "Statement": [{**STATEMENT, "Condition": {
        "NumericLessThan": {"aws:MultiFactorAuthAge": 1}}}]}).replace('"aws:MultiFactorAuthAge": 1',
                                                                       f'"aws:MultiFactorAuthAge": {HUGE_NUMBER}')
    scp = ('{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*",'
           f'"Condition":{{"NumericGreaterThan":{{"aws:MultiFactorAuthAge":{HUGE_NUMBER}}}}}}}]}}')
    events = org.session.events
    events.register("after-call.iam.GetRole", _swap(org, ("Role", "AssumeRolePolicyDocument"), {victim: trust}))
    events.register("after-call.organizations.DescribePolicy",
                    _swap(org, ("Policy", "Content"), {org.management: scp}))
    code, run_dir = execute(make_config(), tmp_path, session=org.session, quiet=True, env={})
    assert code != ExitCode.INCOMPLETE and run_dir is not None
    run = json.loads((run_dir / "run.json").read_text())
    assert run["complete"] is True and run["accounts_errored"] == 0
    findings = json.loads((run_dir / "findings.json").read_text())
    invalid = [f for f in findings if f["check"] == "trust_policy_invalid" and f["status"] != "pass"]
    assert [f["account_id"] for f in invalid] == [victim]
    assert "5000 digits" in invalid[0]["detail"]
    policy_invalid = [f for f in findings if f["check"] == "policy_document_invalid"]
    assert policy_invalid and "5000 digits" in policy_invalid[0]["detail"]
    for account in accounts[1:]:  # every other account is audited as usual
        checks = {f["check"] for f in findings if f["account_id"] == account}
        assert "external_id_not_compared" in checks, checks  # the role checks ran
        assert not checks & {"trust_policy_invalid", "analysis_error"}
