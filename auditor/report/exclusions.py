"""Region exclusion lists, in the shapes the team pastes into Datadog or Terraform.

One row per audited account (an account with nothing to exclude has an empty `exclude`,
so a reader can tell "audited, all fine" from "not audited": the latter has no row).

- `exclusions.json`: `[{"account_id", "account_name", "exclude": [...], "include_only": [...],
  "not_enabled": [...]}]`, sorted by account id; `include_only` is the audited regions minus
  `exclude` and minus `not_enabled` (audited opt-in regions the account has not enabled: nothing
  to collect there, nothing denied), in audit order.
- `exclusions.csv`: the same, lists `;`-separated, written through the shared cell rule
  (cells.write_csv: an account name is never a formula).
- `exclusions.tf.json`: a Terraform JSON file declaring three locals, maps from AWS account id to
  a region list, and the accounts with no region left::

      {"locals": {"datadog_include_only_regions": {"111122223333": ["us-east-1", ...]},
                  "datadog_excluded_regions":     {"111122223333": ["eu-west-3"]},
                  "datadog_accounts_without_regions": ["444455556666"]}}

  Copy it into a Terraform module (it is valid `*.tf.json` config) and write
  `aws_regions { include_only = local.datadog_include_only_regions["111122223333"] }`, or read
  it from anywhere with `jsondecode(file("exclusions.tf.json")).locals.datadog_include_only_regions`.
  An account whose every audited region is denied is not in `datadog_include_only_regions` (an
  empty include_only is never proposed: checks/include_only.py), so Terraform stops on it and
  `datadog_accounts_without_regions` says why.
- `datadog_patches.json`: `{aws_account_id: entry}` for every account Datadog should change (see
  `patch_entries`): the request Datadog's API takes (`method`, `path` with Datadog's config id,
  `body`), or why there is none (`status` `config_id_unknown` and `duplicate_config` keep the body,
  `no_region_left` has none).

Every file is written to a temporary name in the run folder and renamed into place.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from auditor.checks.datadog_side import denied_in_datadog, proposed_include_only
from auditor.checks.include_only import NO_REGION_LEFT, REASON, include_only_to_propose
from auditor.model import Account, Exclusion, ExpectedValues
from auditor.report.cells import csv_frame, write_csv
from auditor.report.columns import EXCLUSION_CSV_COLUMNS
from auditor.report.files import write_json
from auditor.report.run_folder import RunFolder


def exclusion_rows(exclusions: Iterable[Exclusion], accounts_by_id: Mapping[str, Account]) -> list[dict[str, Any]]:
    rows = []
    for e in sorted(exclusions, key=lambda e: e.account_id):
        account = accounts_by_id.get(e.account_id)
        rows.append({
            "account_id": e.account_id,
            "account_name": account.name if account else "",
            "exclude": list(e.exclude),
            "include_only": list(e.include_only),
            "not_enabled": list(e.not_enabled),
        })
    return rows


def terraform_locals(rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The run's lists as Terraform locals; an account with no region left is named, never given []."""
    include_only = {}
    without = []
    for r in rows:
        regions = include_only_to_propose(r["include_only"])
        if regions is None:
            without.append(r["account_id"])
        else:
            include_only[r["account_id"]] = r["include_only"]  # audit order, as exclusions.json
    return {
        "locals": {
            "datadog_include_only_regions": include_only,
            "datadog_excluded_regions": {r["account_id"]: r["exclude"] for r in rows},
            "datadog_accounts_without_regions": without,
        }
    }


PATCH_METHOD = "PATCH"
PATCH_PATH = "/api/v2/integration/aws/accounts/{aws_account_config_id}"
DUPLICATE_CONFIG = "duplicate_config"  # Datadog holds the account in several configs: nothing is sent


def patch_body(aws_account_id: str, include_only: Sequence[str]) -> dict[str, Any]:
    """The JSON the official client sends for AWSAccountUpdateRequest with only aws_account_id and
    aws_regions set (updates are partial: nothing else changes). A test holds the equality."""
    return {
        "data": {
            "type": "account",
            "attributes": {"aws_account_id": aws_account_id, "aws_regions": {"include_only": list(include_only)}},
        }
    }


def patch_entries(
    exclusions: Iterable[Exclusion],
    expected: Mapping[str, ExpectedValues],
    accounts_by_id: Mapping[str, Account],
    *,
    datadog_api_source: bool,
) -> dict[str, Any]:
    """`datadog_patches.json`: AWS account id -> the PATCH Datadog would take, sorted by account id.

    Which accounts and which list: `_needs_change` and `_proposed` (what sync-regions sends). Each
    entry says `status`: `ready` (method, path and body as sent), `config_id_unknown` (the body, but
    no path: the CSV source holds no config id, or Datadog does not monitor the account),
    `duplicate_config` (the body, but no method or path: Datadog holds the account in several configs,
    `note` names them; sync-regions refuses it too) or `no_region_left` (no request at all, `note` says why).
    """
    out: dict[str, Any] = {}
    for e in sorted(exclusions, key=lambda e: e.account_id):
        ev = expected.get(e.account_id)
        if not _needs_change(e, ev):
            continue
        regions = _proposed(e, ev)
        account = accounts_by_id.get(e.account_id)
        config_id = ev.datadog_config_id if ev is not None else ""
        entry: dict[str, Any] = {
            "account_name": account.name if account else "",
            "datadog_config_id": config_id or None,
            "exclude": sorted(e.exclude),
            "current": _current(ev),
        }
        if regions is None:
            entry.update(status=NO_REGION_LEFT, method=None, path=None, body=None, note=REASON)
        elif ev is not None and ev.other_config_ids:
            entry.update(status=DUPLICATE_CONFIG, method=None, path=None, body=patch_body(e.account_id, regions),
                         note=_why_duplicate(ev))
        elif config_id:
            entry.update(status="ready", method=PATCH_METHOD,
                         path=PATCH_PATH.format(aws_account_config_id=config_id),
                         body=patch_body(e.account_id, regions), note="")
        else:
            entry.update(status="config_id_unknown", method=PATCH_METHOD, path=None,
                         body=patch_body(e.account_id, regions),
                         note=_why_no_config_id(e.account_id, ev, datadog_api_source))
        out[e.account_id] = entry
    return out


def _needs_change(e: Exclusion, ev: ExpectedValues | None) -> bool:
    """Datadog's setting known (API source): only while it still includes a denied region. Unknown
    (CSV source, or not in Datadog): whenever the run denies a region."""
    if ev is not None and ev.regions_include_all is not None:
        return bool(denied_in_datadog(ev, e))
    return bool(e.exclude)


def _proposed(e: Exclusion, ev: ExpectedValues | None) -> tuple[str, ...] | None:
    """What sync-regions (without --allow-widen) would set: Datadog's current list minus the denied
    regions, never widened; the run's list when Datadog's setting is unknown. None: no region left."""
    if ev is not None and ev.regions_include_all is not None:
        return include_only_to_propose(proposed_include_only(ev, e))
    return include_only_to_propose(set(e.include_only) - set(e.exclude))


def _current(ev: ExpectedValues | None) -> dict[str, Any] | None:
    """Datadog's region setting as read by the run, None when the run did not read it."""
    if ev is None or ev.regions_include_all is None:
        return None
    return {"include_all": True} if ev.regions_include_all else {"include_only": sorted(ev.regions_include_only)}


def _why_duplicate(ev: ExpectedValues) -> str:
    configs = ", ".join((ev.datadog_config_id, *ev.other_config_ids))
    return (f"Datadog holds this account in {1 + len(ev.other_config_ids)} account configs ({configs}): keep one "
            "in Datadog's AWS integration and delete the others first (which one Datadog uses is not known), "
            "then run the audit again")


def _why_no_config_id(account_id: str, ev: ExpectedValues | None, datadog_api_source: bool) -> str:
    lookup = f"GET /api/v2/integration/aws/accounts?aws_account_id={account_id} gives it (the item's id)"
    if ev is None and datadog_api_source:
        return "Datadog does not monitor this account (not in GET /api/v2/integration/aws/accounts): add it first"
    if ev is None:
        return f"the run did not read Datadog, so Datadog's config id is unknown: {lookup}"
    return f"the expected values came from a CSV file, which holds no Datadog config id: {lookup}"


def exclusions_table(rows: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    return csv_frame(EXCLUSION_CSV_COLUMNS, ([r["account_id"], r["account_name"], len(r["exclude"]),
                                              ";".join(r["exclude"]), ";".join(r["include_only"])] for r in rows))


def write_exclusions(
    run_dir: Path,
    result_exclusions: Iterable[Exclusion],
    audited_regions: Sequence[str],
    accounts_by_id: Mapping[str, Account],
    expected: Iterable[ExpectedValues] = (),
) -> list[Path]:
    """Write the four exclusion files into `run_dir`; returns their paths.

    `audited_regions` fills `include_only` for an exclusion that left it empty although nothing
    was excluded (a hand-made or older Exclusion), so every list stays usable as is. `expected` is
    what the run read from Datadog (or the CSV): it gives the patches their config ids.
    """
    fixed = []
    for e in result_exclusions:
        if not e.include_only and not e.exclude and not e.not_enabled:
            e = Exclusion(e.account_id, (), tuple(audited_regions))
        fixed.append(e)
    rows = exclusion_rows(fixed, accounts_by_id)
    expected_by_id: dict[str, ExpectedValues] = {}
    for ev in expected:
        expected_by_id.setdefault(ev.account_id, ev)
    api_source = any(ev.source == "datadog_api" for ev in expected_by_id.values())
    patches = patch_entries(fixed, expected_by_id, accounts_by_id, datadog_api_source=api_source)
    folder = RunFolder(run_dir)
    return [
        write_json(folder.exclusions_json, rows),
        write_csv(folder.exclusions_csv, exclusions_table(rows)),
        write_json(folder.exclusions_tf_json, terraform_locals(rows)),
        write_json(folder.datadog_patches_json, patches),
    ]
