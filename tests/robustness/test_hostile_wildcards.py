"""A trust policy or an SCP whose StringLike value is many `?*` groups ending in a literal,
against a long value: with a backtracking matcher the analysis never finished (issue 13, item 2).

Run in a child process so that a regression fails the test instead of hanging the suite; the
timeout is a generous guard (the analysis takes well under a second), not a measurement: the
work bound is measured in operations in tests/policy/test_glob.py.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = textwrap.dedent('''
    import json, sys
    sys.path[:0] = [sys.argv[1], sys.argv[1] + "/tests/robustness"]
    from auditor.checks.role import role_findings
    from auditor.model import SCP, Account, AccountSnapshot, Inventory, OrgPolicy, OrgUnit, RoleInfo, Verdict
    from auditor.policy.matrix import evaluate_regions

    hostile = "?*" * 40 + "x"
    acct = Account("111122223333", "victim", "v@example.com", "ACTIVE", "r-ab12", "Root", ("r-ab12", "111122223333"))
    trust = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::464622532012:root"}, "Action": "sts:AssumeRole",
        "Condition": {"StringLike": {"sts:ExternalId": hostile}}}]})
    role = RoleInfo("DatadogIntegrationRole", "/", "arn:aws:iam::111122223333:role/DatadogIntegrationRole", trust,
                    (("team", "a" * 256),), (), ())
    snap = AccountSnapshot(acct.id, role)
    findings = role_findings(acct, snap, site="datadoghq.com", partition="aws", role_name="DatadogIntegrationRole",
                             expected=None, probe_actions=("ec2:DescribeInstances",), aws_managed_documents={},
                             show_external_ids=False)
    assert findings
    scp = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "*", "Resource": "*"},
        {"Effect": "Deny", "Action": "*", "Resource": "*",
         "Condition": {"StringLike": {"aws:PrincipalTag/team": hostile}}}]}
    inv = Inventory("o-x", "999999999999", "aws", (SCP,), (OrgUnit("r-ab12", "Root", "", "Root"),), (acct,),
                    (OrgPolicy("p-hostile", "hostile", SCP, False, "", json.dumps(scp), ("r-ab12", acct.id)),))
    result = evaluate_regions(inv, {acct.id: snap}, regions=("us-east-1", "eu-west-1"),
                              probe_actions=("ec2:DescribeInstances",), site="datadoghq.com",
                              role_name="DatadogIntegrationRole", exclude_partial=True)
    assert all(v.verdict is Verdict.ALLOWED for v in result.verdicts), result.verdicts
    print("done")
''')


def test_many_question_star_groups_in_trust_and_scp_conditions_do_not_stall_the_analysis() -> None:
    proc = subprocess.run([sys.executable, "-c", SCRIPT, str(ROOT)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip() == "done"
