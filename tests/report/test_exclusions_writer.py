"""The exclusion files: shapes the team pastes into Datadog and Terraform, written atomically."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import pytest

from auditor.model import Exclusion
from auditor.report.columns import EXCLUSION_CSV_COLUMNS
from auditor.report.exclusions import write_exclusions
from tests.policy.builders import account

REGIONS = ("us-east-1", "eu-west-1", "us-west-2")
DENIED = Exclusion("222222222222", ("eu-west-1",), ("us-east-1", "us-west-2"))
CLEAN = Exclusion("111111111111", (), REGIONS)
ACCOUNTS = {"111111111111": account("111111111111", name="clean"), "222222222222": account("222222222222", name="eu")}


def write(tmp_path: Path, items=(DENIED, CLEAN)) -> Path:
    write_exclusions(tmp_path, list(items), REGIONS, ACCOUNTS)
    return tmp_path


def test_exclusions_json_lists_every_audited_account_sorted(tmp_path: Path) -> None:
    rows = json.loads((write(tmp_path) / "exclusions.json").read_text())
    assert rows == [
        {"account_id": "111111111111", "account_name": "clean", "exclude": [], "include_only": list(REGIONS),
         "not_enabled": []},
        {"account_id": "222222222222", "account_name": "eu", "exclude": ["eu-west-1"],
         "include_only": ["us-east-1", "us-west-2"], "not_enabled": []},
    ]


def test_an_account_with_every_audited_region_not_enabled_keeps_an_empty_include_only(tmp_path: Path) -> None:
    from auditor.model import Exclusion
    from auditor.report.exclusions import write_exclusions

    write_exclusions(tmp_path, [Exclusion("333333333333", (), (), ("ap-east-1",))], ("ap-east-1",), {})
    (row,) = json.loads((tmp_path / "exclusions.json").read_text())
    assert row["include_only"] == [] and row["not_enabled"] == ["ap-east-1"]


def test_exclusions_csv_has_semicolon_lists(tmp_path: Path) -> None:
    with (write(tmp_path) / "exclusions.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert rows[1] == {"account_id": "222222222222", "account_name": "eu", "excluded_count": "1",
                       "exclude": "eu-west-1", "include_only": "us-east-1;us-west-2"}
    assert rows[0]["exclude"] == "" and rows[0]["excluded_count"] == "0"


def test_terraform_file_is_a_locals_map_by_account(tmp_path: Path) -> None:
    data = json.loads((write(tmp_path) / "exclusions.tf.json").read_text())
    assert data["locals"]["datadog_accounts_without_regions"] == []
    assert data["locals"]["datadog_include_only_regions"] == {
        "111111111111": list(REGIONS), "222222222222": ["us-east-1", "us-west-2"]}
    assert data["locals"]["datadog_excluded_regions"]["222222222222"] == ["eu-west-1"]


def test_datadog_patches_only_for_accounts_with_something_to_exclude(tmp_path: Path) -> None:
    patches = json.loads((write(tmp_path) / "datadog_patches.json").read_text())
    assert list(patches) == ["222222222222"]
    assert patches["222222222222"]["body"] == {"data": {"type": "account", "attributes": {
        "aws_account_id": "222222222222", "aws_regions": {"include_only": ["us-east-1", "us-west-2"]}}}}
    assert patches["222222222222"]["status"] == "config_id_unknown"  # no Datadog source: no path invented
    assert patches["222222222222"]["path"] is None


def test_no_exclusions_writes_empty_but_valid_files(tmp_path: Path) -> None:
    write(tmp_path, items=())
    assert json.loads((tmp_path / "exclusions.json").read_text()) == []
    assert json.loads((tmp_path / "datadog_patches.json").read_text()) == {}
    assert (tmp_path / "exclusions.csv").read_text().splitlines() == [",".join(EXCLUSION_CSV_COLUMNS)]


def test_files_are_replaced_atomically_and_no_temp_file_is_left(tmp_path: Path, monkeypatch) -> None:
    write(tmp_path)
    before = (tmp_path / "exclusions.json").read_text()
    real_replace = os.replace

    def failing_replace(src, dst):
        if str(dst).endswith("exclusions.json"):
            raise OSError("disk full")
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OSError):
        write_exclusions(tmp_path, [CLEAN], REGIONS, ACCOUNTS)
    assert (tmp_path / "exclusions.json").read_text() == before  # the old file is intact
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["exclusions.json", "exclusions.csv", "exclusions.tf.json", "datadog_patches.json"])
