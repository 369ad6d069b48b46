"""Region exclusion lists, in the shapes the team pastes into Datadog or Terraform.

One row per audited account (an account with nothing to exclude has an empty `exclude`,
so a reader can tell "audited, all fine" from "not audited": the latter has no row).

- `exclusions.json`: `[{"account_id", "account_name", "exclude": [...], "include_only": [...],
  "not_enabled": [...]}]`, sorted by account id; `include_only` is the audited regions minus
  `exclude` and minus `not_enabled` (audited opt-in regions the account has not enabled: nothing
  to collect there, nothing denied), in audit order.
- `exclusions.csv`: the same, lists `;`-separated.
- `exclusions.tf.json`: a Terraform JSON file declaring two locals, maps from AWS account id to
  a region list::

      {"locals": {"datadog_include_only_regions": {"111122223333": ["us-east-1", ...]},
                  "datadog_excluded_regions":     {"111122223333": ["eu-west-3"]}}}

  Copy it into a Terraform module (it is valid `*.tf.json` config) and write
  `aws_regions { include_only = local.datadog_include_only_regions["111122223333"] }`, or read
  it from anywhere with `jsondecode(file("exclusions.tf.json")).locals.datadog_include_only_regions`.
- `datadog_patches.json`: `{aws_account_id: body}` for accounts with something to exclude, where
  body is the request body of Datadog's `PATCH /api/v2/integration/aws/accounts/{id}`
  (`{id}` is Datadog's id of the account config, from `GET /api/v2/integration/aws/accounts`):
  `{"data": {"type": "account", "attributes": {"aws_account_id": ..., "aws_regions":
  {"include_only": [...]}}}}`. An empty include_only means every audited region is denied.

Every file is written to a temporary name in the run folder and renamed into place.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from auditor.model import Account, Exclusion
from auditor.report.files import write_json, write_text

CSV_COLUMNS = ("account_id", "account_name", "excluded_count", "exclude", "include_only")


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
    return {
        "locals": {
            "datadog_include_only_regions": {r["account_id"]: r["include_only"] for r in rows},
            "datadog_excluded_regions": {r["account_id"]: r["exclude"] for r in rows},
        }
    }


def datadog_patch_bodies(rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    return {
        r["account_id"]: {
            "data": {
                "type": "account",
                "attributes": {
                    "aws_account_id": r["account_id"],
                    "aws_regions": {"include_only": r["include_only"]},
                },
            }
        }
        for r in rows
        if r["exclude"]
    }


def exclusions_csv(rows: Sequence[Mapping[str, Any]]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    for r in rows:
        w.writerow([r["account_id"], r["account_name"], len(r["exclude"]), ";".join(r["exclude"]),
                    ";".join(r["include_only"])])
    return buf.getvalue()


def write_exclusions(
    run_dir: Path,
    result_exclusions: Iterable[Exclusion],
    audited_regions: Sequence[str],
    accounts_by_id: Mapping[str, Account],
) -> list[Path]:
    """Write the four exclusion files into `run_dir`; returns their paths.

    `audited_regions` fills `include_only` for an exclusion that left it empty although nothing
    was excluded (a hand-made or older Exclusion), so every list stays usable as is.
    """
    fixed = []
    for e in result_exclusions:
        if not e.include_only and not e.exclude and not e.not_enabled:
            e = Exclusion(e.account_id, (), tuple(audited_regions))
        fixed.append(e)
    rows = exclusion_rows(fixed, accounts_by_id)
    return [
        write_json(run_dir / "exclusions.json", rows),
        write_text(run_dir / "exclusions.csv", exclusions_csv(rows)),
        write_json(run_dir / "exclusions.tf.json", terraform_locals(rows)),
        write_json(run_dir / "datadog_patches.json", datadog_patch_bodies(rows)),
    ]
