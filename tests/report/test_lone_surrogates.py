"""A lone surrogate in AWS or Datadog text (JSON's "\\ud800", which Organizations, a policy document
or Datadog's API can carry) is written to every run file instead of losing the whole run folder."""

from __future__ import annotations

import csv
import json
from dataclasses import replace
from pathlib import Path

from auditor.report.writer import write_run

from .factory import OK_ID, finding, inventory, make_result
from .helpers import all_cells, open_book

LONE = "prod\ud800team\udfff"


def test_a_lone_surrogate_in_names_and_findings_reaches_every_file_of_the_run_folder(tmp_path: Path) -> None:
    base = make_result()
    accounts = tuple(replace(a, name=LONE) for a in inventory().accounts)
    result = replace(base, inventory=replace(base.inventory, accounts=accounts),
                     findings=(finding(OK_ID, "trust_principal_extra", name=LONE, detail=f"trusts {LONE}"),))
    run_dir = write_run(result, tmp_path / "out")
    findings = json.loads((run_dir / "findings.json").read_text(encoding="utf-8"))
    assert findings[0]["account_name"] == LONE and findings[0]["detail"] == f"trusts {LONE}"  # exact, as JSON escapes
    inventory_json = json.loads((run_dir / "inventory.json").read_text(encoding="utf-8"))
    assert {a["name"] for a in inventory_json["inventory"]["accounts"]} == {LONE}
    with (run_dir / "findings.csv").open(newline="", encoding="utf-8") as fh:
        [row] = list(csv.DictReader(fh))
    assert row["account_name"] == r"prod\ud800team\udfff"  # shown, not dropped
    texts = [c.value for c in all_cells(open_book(run_dir / "audit.xlsx")) if isinstance(c.value, str)]
    assert "prod\ufffdteam\ufffd" in texts
