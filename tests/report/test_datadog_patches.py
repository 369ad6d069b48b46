"""datadog_patches.json and the Terraform map: requests Datadog takes as they are, and the one rule
for an account with no region left (shared with sync-regions and the finding)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from datadog_api_client.model_utils import data_to_dict
from datadog_api_client.v2.model.aws_account_type import AWSAccountType
from datadog_api_client.v2.model.aws_account_update_request import AWSAccountUpdateRequest
from datadog_api_client.v2.model.aws_account_update_request_attributes import AWSAccountUpdateRequestAttributes
from datadog_api_client.v2.model.aws_account_update_request_data import AWSAccountUpdateRequestData
from datadog_api_client.v2.model.aws_regions_include_only import AWSRegionsIncludeOnly

from auditor.checks.include_only import NO_REGION_LEFT, REASON, include_only_to_propose
from auditor.model import Account, Exclusion, ExpectedValues
from auditor.report.exclusions import patch_body, write_exclusions

AUDITED = ("us-east-1", "eu-west-1", "ap-south-1", "sa-east-1")
ALL_ON, NARROW, ALREADY, ALL_DENIED, NOT_IN_DD, CLEAN = (
    "111111111111", "222222222222", "333333333333", "444444444444", "555555555555", "666666666666")


def _excl(account_id: str, *denied: str) -> Exclusion:
    return Exclusion(account_id, denied, tuple(r for r in AUDITED if r not in denied))


def _ev(account_id: str, config_id: str, only: tuple[str, ...] | None = None, source: str = "datadog_api"):
    return ExpectedValues(account_id, "DatadogIntegrationRole", "x", "aws", regions_include_all=only is None,
                          regions_include_only=only or (), source=source, datadog_config_id=config_id)


EXCLUSIONS = [
    _excl(ALL_ON, "sa-east-1", "ap-south-1"),
    _excl(NARROW, "ap-south-1"),
    _excl(ALREADY, "ap-south-1"),
    _excl(ALL_DENIED, *AUDITED),
    _excl(NOT_IN_DD, "ap-south-1"),
    _excl(CLEAN),
]
ACCOUNTS = {a: Account(a, f"acct-{a[0]}", "", "ACTIVE", "r", "/", ()) for a in
            (ALL_ON, NARROW, ALREADY, ALL_DENIED, NOT_IN_DD, CLEAN)}
API = [
    _ev(ALL_ON, "cfg-all"),
    _ev(NARROW, "cfg-narrow", ("us-east-1", "ap-south-1", "eu-west-1")),
    _ev(ALREADY, "cfg-already", ("us-east-1",)),  # Datadog already leaves ap-south-1 out
    _ev(ALL_DENIED, "cfg-denied"),
    _ev(CLEAN, "cfg-clean"),
]


def _write(tmp_path: Path, expected=API) -> tuple[dict, dict]:
    write_exclusions(tmp_path, EXCLUSIONS, AUDITED, ACCOUNTS, expected)
    return (json.loads((tmp_path / "datadog_patches.json").read_text()),
            json.loads((tmp_path / "exclusions.tf.json").read_text())["locals"])


def test_api_source_patches_carry_config_id_method_path_and_sorted_body(tmp_path: Path) -> None:
    patches, _ = _write(tmp_path)
    assert set(patches) == {ALL_ON, NARROW, ALL_DENIED, NOT_IN_DD}  # not ALREADY, not CLEAN
    entry = patches[ALL_ON]
    assert entry["status"] == "ready" and entry["datadog_config_id"] == "cfg-all"
    assert (entry["method"], entry["path"]) == ("PATCH", "/api/v2/integration/aws/accounts/cfg-all")
    assert entry["body"] == {"data": {"type": "account", "attributes": {
        "aws_account_id": ALL_ON, "aws_regions": {"include_only": ["eu-west-1", "us-east-1"]}}}}
    assert entry["current"] == {"include_all": True} and entry["exclude"] == ["ap-south-1", "sa-east-1"]
    # From an include_only list: Datadog's list minus the denied region, never widened to sa-east-1.
    assert patches[NARROW]["body"]["data"]["attributes"]["aws_regions"] == {"include_only": ["eu-west-1", "us-east-1"]}


def test_an_account_datadog_does_not_monitor_gets_no_invented_path(tmp_path: Path) -> None:
    entry = _write(tmp_path)[0][NOT_IN_DD]
    assert entry["status"] == "config_id_unknown" and entry["path"] is None and entry["datadog_config_id"] is None
    assert "Datadog does not monitor this account" in entry["note"]


def test_an_account_datadog_holds_in_two_configs_is_never_ready_and_names_both(tmp_path: Path) -> None:
    """Which config Datadog uses is not the run's to guess: no path, the body kept, keep one first."""
    api = [replace(ev, other_config_ids=("cfg-all-2",)) if ev.account_id == ALL_ON else ev for ev in API]
    patches, tf = _write(tmp_path, api)
    entry = patches[ALL_ON]
    assert entry["status"] == "duplicate_config" and entry["method"] is None and entry["path"] is None
    assert entry["datadog_config_id"] == "cfg-all"
    assert entry["body"]["data"]["attributes"]["aws_regions"] == {"include_only": ["eu-west-1", "us-east-1"]}
    assert "cfg-all, cfg-all-2" in entry["note"] and "keep one" in entry["note"]
    assert patches[NARROW]["status"] == "ready"  # the other accounts are untouched
    assert tf["datadog_include_only_regions"][ALL_ON] == ["us-east-1", "eu-west-1"]  # keyed by AWS account id


def test_csv_source_patches_keep_the_body_and_say_the_config_id_is_unknown(tmp_path: Path) -> None:
    csv = [ExpectedValues(a, "DatadogIntegrationRole", "x", source="ids.csv:2") for a in ACCOUNTS]
    patches, _ = _write(tmp_path, csv)
    assert set(patches) == {ALL_ON, NARROW, ALREADY, ALL_DENIED, NOT_IN_DD}  # Datadog's regions unknown
    entry = patches[NARROW]
    assert entry["status"] == "config_id_unknown" and entry["path"] is None and entry["current"] is None
    assert "CSV file, which holds no Datadog config id" in entry["note"]
    assert f"GET /api/v2/integration/aws/accounts?aws_account_id={NARROW}" in entry["note"]
    regions = entry["body"]["data"]["attributes"]["aws_regions"]
    assert regions == {"include_only": ["eu-west-1", "sa-east-1", "us-east-1"]}


def test_an_account_with_every_region_denied_gets_no_empty_include_only_anywhere(tmp_path: Path) -> None:
    for expected in (API, ()):
        patches, tf = _write(tmp_path, expected)
        entry = patches[ALL_DENIED]
        assert entry["status"] == NO_REGION_LEFT and entry["note"] == REASON
        assert entry["body"] is None and entry["method"] is None and entry["path"] is None
        assert ALL_DENIED not in tf["datadog_include_only_regions"]
        assert tf["datadog_accounts_without_regions"] == [ALL_DENIED]
        assert tf["datadog_excluded_regions"][ALL_DENIED] == list(AUDITED)
        for e in patches.values():
            assert e["body"] is None or e["body"]["data"]["attributes"]["aws_regions"]["include_only"]
    exclusions = json.loads((tmp_path / "exclusions.json").read_text())
    assert {e["account_id"]: e["include_only"] for e in exclusions}[ALL_DENIED] == []  # the fact stays


def test_the_rule_sorts_and_refuses_an_empty_list() -> None:
    assert include_only_to_propose(["us-east-1", "eu-west-1", "us-east-1"]) == ("eu-west-1", "us-east-1")
    assert include_only_to_propose([]) is None


def test_patch_body_is_exactly_what_the_official_client_sends() -> None:
    regions = ["eu-west-1", "us-east-1"]
    request = AWSAccountUpdateRequest(data=AWSAccountUpdateRequestData(
        type=AWSAccountType.ACCOUNT,
        attributes=AWSAccountUpdateRequestAttributes(
            aws_account_id=ALL_ON, aws_regions=AWSRegionsIncludeOnly(include_only=regions)),
    ))
    # data_to_dict is what ApiClient.call_api applies to a body before json.dumps.
    assert json.loads(json.dumps(data_to_dict(request))) == patch_body(ALL_ON, regions)
