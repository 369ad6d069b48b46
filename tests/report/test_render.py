from __future__ import annotations

import argparse
import json
import os
import stat
from dataclasses import replace
from pathlib import Path

import pytest

from auditor.cli import main
from auditor.commands import render
from auditor.exit_codes import ExitCode
from auditor.model import ExpectedValues
from auditor.report.history import apply_history
from auditor.report.load import RunLoadError, load_exclusions, read_exclusions
from auditor.report.run_folder import RunFolder
from auditor.report.writer import write_run

from .factory import OK_ID, finding, make_result, with_findings
from .helpers import open_book, sheet_values


def _run(tmp_path: Path) -> Path:
    out = tmp_path / "reports"
    write_run(with_findings(make_result(), finding(OK_ID, "role_missing")), out)
    return write_run(apply_history(make_result(started_at="2025-03-02T02:00:00Z"), out), out)


def _handle(run_dir: Path) -> int:
    parser = argparse.ArgumentParser()
    render.register(parser.add_subparsers())
    args = parser.parse_args(["render", "--run", str(run_dir)])
    return args.handler(args)


def test_render_reproduces_the_workbook_from_the_run_files(tmp_path: Path) -> None:
    run_dir = _run(tmp_path)
    original = sheet_values(open_book(run_dir / "audit.xlsx"))
    (run_dir / "audit.xlsx").unlink()
    assert _handle(run_dir) == 0
    rendered = sheet_values(open_book(run_dir / "audit.xlsx"))
    assert rendered == original
    assert stat.S_IMODE(os.stat(run_dir / "audit.xlsx").st_mode) == 0o600


def test_load_result_round_trips_what_the_writer_wrote(tmp_path: Path) -> None:
    result = make_result()
    run_dir = write_run(result, tmp_path)
    loaded = RunFolder(run_dir).load_result()
    assert loaded.findings == result.findings
    assert loaded.regions == result.regions  # "+unknown key" un-neutralised on the way back
    assert sorted(loaded.exclusions, key=str) == sorted(result.exclusions, key=str)  # file is sorted by id
    assert loaded.skipped == result.skipped
    assert loaded.run == result.run and loaded.inventory == result.inventory
    assert loaded.snapshots[0].role is not None
    assert "****" in loaded.snapshots[0].role.trust_policy  # the saved inventory is masked


def test_inventory_json_keeps_datadog_s_other_configs_and_an_older_file_without_them_loads(tmp_path: Path) -> None:
    result = replace(make_result(), expected=(
        ExpectedValues(OK_ID, "DatadogIntegrationRole", datadog_config_id="cfg-a", other_config_ids=("cfg-b",)),))
    run_dir = write_run(result, tmp_path)
    assert RunFolder(run_dir).load_result().expected[0].other_config_ids == ("cfg-b",)
    inventory = json.loads((run_dir / "inventory.json").read_text())
    del inventory["expected"][0]["other_config_ids"]  # as a run from before the field wrote it
    (run_dir / "inventory.json").write_text(json.dumps(inventory))
    assert RunFolder(run_dir).load_result().expected[0].other_config_ids == ()


def test_render_names_the_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run_dir = _run(tmp_path)
    (run_dir / "findings.json").unlink()
    assert _handle(run_dir) == 2
    assert f"{run_dir / 'findings.json'}: file not found" in capsys.readouterr().err
    assert _handle(tmp_path / "nope") == 2
    assert "not a run folder" in capsys.readouterr().err


def test_render_reports_a_corrupt_file_without_a_traceback(tmp_path: Path, capsys) -> None:
    run_dir = _run(tmp_path)
    (run_dir / "regions.csv").write_text("account_id,region,verdict\n012345678901,us-east-1,maybe\n")
    assert _handle(run_dir) == 2
    assert "line 2: unknown verdict 'maybe'" in capsys.readouterr().err


def test_exclusions_are_read_leniently_and_absent_ones_are_empty(tmp_path: Path) -> None:
    assert load_exclusions(tmp_path / "missing.json") == ()
    path = tmp_path / "exclusions.json"
    path.write_text(
        json.dumps({"accounts": [{"account_id": OK_ID, "exclude": "a;b", "include_only": ["c"]}]})
    )
    (e,) = load_exclusions(path)
    assert (e.account_id, e.exclude, e.include_only) == (OK_ID, ("a", "b"), ("c",))
    path.write_text(json.dumps([{"exclude": []}]))
    with pytest.raises(RunLoadError, match="entry 0: \"account_id\" = None is not a 12-digit account id"):
        load_exclusions(path)


@pytest.mark.parametrize("text, message", [
    ("not json", "not valid JSON"),
    ('{"other": []}', "expected a list of accounts, found NoneType"),
    ('["x"]', "entry 0: expected an object, found str"),
    ('[{"account_id": 12345678901}]', "entry 0: \"account_id\" = 12345678901 is not a 12-digit account id"),
    (f'[{{"account_id": "{OK_ID}", "include_only": [1]}}]', "entry 0: \"include_only\" must be a list of region names"),
    (f'[{{"account_id": "{OK_ID}", "exclude": {{"a": 1}}}}]', "entry 0: \"exclude\" must be a list of region names"),
])
def test_one_reader_refuses_an_exclusions_file_unlike_the_writers_naming_file_and_entry(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "exclusions.json"
    path.write_text(text)
    with pytest.raises(RunLoadError) as refused:
        read_exclusions(path)
    assert str(refused.value).startswith(f"{path}: ") and message in str(refused.value)


def test_the_reader_gives_back_what_the_writer_wrote(tmp_path: Path) -> None:
    run_dir = _run(tmp_path)
    entries = read_exclusions(RunFolder(run_dir).exclusions_json)
    written = json.loads(RunFolder(run_dir).exclusions_json.read_text())
    assert [(e.account_id, e.account_name, list(e.exclusion.include_only)) for e in entries] == [
        (w["account_id"], w.get("account_name", ""), w["include_only"]) for w in written]


def test_render_keeps_the_run_over_run_comparison(tmp_path: Path) -> None:
    run_dir = _run(tmp_path)
    loaded = RunFolder(run_dir).load_result()
    assert loaded.run.compared_with and any(f.change == "resolved" for f in loaded.findings)
    assert replace(loaded, findings=()).run.compared_with == loaded.run.compared_with


@pytest.mark.parametrize("text", ["[]", "[" * 100_000 + "]" * 100_000, '{"format_version": 1, "inventory": []}'],
                         ids=["list", "nested-too-deep", "inventory-a-list"])
@pytest.mark.parametrize("command", ["render", "explain"])
def test_render_and_explain_name_a_corrupt_inventory_instead_of_an_internal_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, command: str
) -> None:
    run_dir = _run(tmp_path)
    (run_dir / "inventory.json").write_text(text)
    where = ["--account", OK_ID, "--region", "eu-west-1"] if command == "explain" else []
    argv = [command, "--run", str(run_dir), *where]
    assert main(argv) == ExitCode.USAGE
    err = capsys.readouterr().err
    assert str(run_dir / "inventory.json") in err and "Traceback" not in err  # exit 2 with the file named, not 3
