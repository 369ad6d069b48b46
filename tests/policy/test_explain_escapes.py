"""`auditor explain` never sends a control sequence from an OU, policy, account or statement name."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from auditor.model import RCP, SCP, AuditResult, OrgUnit, RunInfo
from auditor.report.inventory_json import inventory_to_dict

from .builders import (
    ACCT,
    OU_PAY,
    OU_PROD,
    ROOT,
    account,
    doc,
    full_access_everywhere,
    inventory,
    policy,
    snapshot,
    stmt,
)
from .test_explain import run_command

HOSTILE = ("\x1b[2J\x1b]0;pwned\x07", "\r", "\u202e", "\x9b31m", "\u200b", "\x7f")
RAW_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


def hostile_run(tmp_path: Path) -> Path:
    evil = "".join(HOSTILE)
    acct = account(ACCT, name=f"acct{evil}\nFORGED: denied")
    units = (OrgUnit(ROOT, f"Root{evil}", "", "Root"), OrgUnit(OU_PROD, f"Prod{evil}", ROOT, f"Root/Prod{evil}"),
             OrgUnit(OU_PAY, "Payments", OU_PROD, "Root/Prod/Payments"))
    deny = doc(stmt("Deny", "cloudwatch:*", Sid=f"S{evil}",
                    Condition={"StringEquals": {"aws:RequestedRegion": f"eu-west-1{evil}"}}))
    inv = inventory([acct], [full_access_everywhere([acct]),
                             policy("p-evil", SCP, deny, [OU_PROD], f"policy{evil}"),
                             policy("p-rcp", RCP, doc(stmt("Deny", "s3:*", Principal="*")), [ROOT], f"rcp{evil}")],
                    units=units)
    result = AuditResult(RunInfo("2025-01-01T00:00:00Z", "2025-01-01T00:01:00Z", "0.1.0", "abc"), inv,
                         ("eu-west-1",), (snapshot(ACCT, tags=((f"k{evil}", f"v{evil}"),)),), ())
    (tmp_path / "inventory.json").write_text(json.dumps(inventory_to_dict(result)))
    return tmp_path


def test_explain_shows_control_characters_of_names_escaped(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run_dir = hostile_run(tmp_path)
    code = run_command(["--run", str(run_dir), "--account", ACCT, "--region", "eu-west-1",
                        "--action", "cloudwatch:GetMetricData"])
    out = capsys.readouterr().out
    assert code == 0
    assert not RAW_CONTROL.findall(out)
    assert r"\x1b[2J" in out and r"\u202e" in out and r"\r" in out and r"\x9b" in out
    # a newline in a name is shown, not obeyed: it cannot forge a line of the explanation
    assert not [ln for ln in out.splitlines() if ln.startswith("FORGED")]
    assert r"\nFORGED: denied" in out
