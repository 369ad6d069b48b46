import json
from pathlib import Path

import pytest

from auditor.cli import main

SHARED = Path(__file__).resolve().parents[3] / "shared" / "policies"
PACKAGED = Path(__file__).resolve().parents[2] / "auditor" / "demo" / "policies"


def test_demo_writes_a_complete_run_folder_and_says_where(tmp_path, capsys):
    code = main(["demo", "--output-dir", str(tmp_path)])
    assert code == 1  # the demo organization has planted high-severity problems
    runs = [p for p in tmp_path.iterdir() if p.is_dir() and p.name[0].isdigit()]
    assert len(runs) == 1
    for name in ("findings.json", "findings.csv", "regions.csv", "exclusions.json", "run.json",
                 "inventory.json", "audit.xlsx"):
        assert (runs[0] / name).is_file()
    run = json.loads((runs[0] / "run.json").read_text())
    assert run["complete"] is True
    assert run["accounts_errored"] == 1 and run["accounts_skipped"] == 1
    assert str(runs[0]) in capsys.readouterr().err
    _one_account_has_not_enabled_the_audited_opt_in_region(runs[0])


def _one_account_has_not_enabled_the_audited_opt_in_region(run_dir):
    import csv

    from auditor.demo.organization import DEMO_OPT_IN_REGION, DEMO_REGIONS

    assert DEMO_OPT_IN_REGION in DEMO_REGIONS
    names = {a["id"]: a["name"] for a in json.loads((run_dir / "inventory.json").read_text())["inventory"]["accounts"]}
    rows = [r for r in csv.DictReader((run_dir / "regions.csv").open()) if r["region"] == DEMO_OPT_IN_REGION]
    off = [r for r in rows if "region not enabled for this account" in r["reason"]]
    assert [names[r["account_id"]] for r in off] == ["web-prod"] and off[0]["verdict"] == "not_applicable"
    assert any(r["verdict"] == "allowed" for r in rows)  # the others enabled it: judged as usual
    exclusions = {e["account_id"]: e for e in json.loads((run_dir / "exclusions.json").read_text())}
    assert exclusions[off[0]["account_id"]]["not_enabled"] == [DEMO_OPT_IN_REGION]
    assert DEMO_OPT_IN_REGION not in exclusions[off[0]["account_id"]]["include_only"]


def test_a_second_demo_run_compares_with_the_first(tmp_path):
    main(["demo", "--output-dir", str(tmp_path), "--quiet"])
    main(["demo", "--output-dir", str(tmp_path), "--quiet"])
    run = json.loads((tmp_path / "latest" / "run.json").read_text())
    assert run["compared_with"]
    findings = json.loads((tmp_path / "latest" / "findings.json").read_text())
    changes = {f["change"] for f in findings if f["status"] in ("fail", "error")}
    assert changes == {"open"}  # the same organization: nothing new, nothing resolved


@pytest.mark.skipif(not SHARED.is_dir(), reason="shared/ not beside the repository")
def test_packaged_policies_are_the_shared_real_ones():
    for src in SHARED.glob("*.json"):
        assert json.loads((PACKAGED / src.name).read_text()) == json.loads(src.read_text())
