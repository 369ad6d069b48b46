"""The parsers of a run folder's files (RunFolder.load_result puts them together), without AWS:
the inverse of writer.write_result_files.

Used to re-render a run's workbook (`auditor render`), to compare a run with the previous one,
and by the `datadog` commands (run.json's finish time, exclusions.json's lists): one parser per file.
Values in the CSV files were neutralised against formula injection on the way out (cells.safe_cell);
that apostrophe is taken off again here so a round trip gives the original text.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from auditor.model import Exclusion, Finding, RegionVerdict, Verdict
from auditor.report.cells import FORMULA_PREFIXES
from auditor.report.serialize import from_jsonable


class RunLoadError(ValueError):
    """A run folder file is missing or not what the writer writes; the message names the file."""


class RunFileMissing(RunLoadError):
    """The file is not there at all (the folder may not be a run folder)."""


def unneutralise(value: str) -> str:
    if value.startswith("'") and value[1:].startswith(FORMULA_PREFIXES):
        return value[1:]
    return value


def read_json(path: Path) -> Any:
    """A run folder's JSON file; RunLoadError naming the file when it is missing or unreadable."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RunFileMissing(f"{path}: file not found") from None
    except OSError as exc:
        raise RunLoadError(f"{path}: cannot read: {exc.strerror}") from None
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:  # RecursionError: nested too deep
        raise RunLoadError(f"{path}: not valid JSON: {exc}") from None


def load_findings(path: Path) -> tuple[Finding, ...]:
    data = read_json(path)
    if not isinstance(data, list):
        raise RunLoadError(f"{path}: expected a JSON list of findings, found {type(data).__name__}")
    out = []
    for i, item in enumerate(data):
        try:
            out.append(from_jsonable(Finding, item))
        except (TypeError, ValueError, KeyError, AttributeError) as exc:
            raise RunLoadError(f"{path}: finding #{i} is not valid: {exc}") from None
    return tuple(out)


def _split(value: str) -> tuple[str, ...]:
    return tuple(x for x in value.split(";") if x)


def load_regions_csv(path: Path) -> tuple[RegionVerdict, ...]:
    if not path.exists():
        return ()
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise RunLoadError(f"{path}: cannot read CSV: {exc}") from None
    if df.empty:
        return ()
    missing = {"account_id", "region", "verdict"} - set(df.columns)
    if missing:
        raise RunLoadError(f"{path}: missing column(s) {', '.join(sorted(missing))}")
    for col in ("denied_actions", "deciding_policies", "unknown_keys", "reason"):
        if col not in df.columns:
            df[col] = ""
    df = df.map(unneutralise)
    out = []
    for line, row in enumerate(df.itertuples(index=False), start=2):
        cell = {col: str(v) for col, v in zip(df.columns, row, strict=True)}  # every cell is text (dtype=str)
        try:
            verdict = Verdict(cell["verdict"])
        except ValueError:
            raise RunLoadError(f"{path}: line {line}: unknown verdict {cell['verdict']!r}") from None
        out.append(
            RegionVerdict(
                account_id=cell["account_id"],
                region=cell["region"],
                verdict=verdict,
                denied_actions=_split(cell["denied_actions"]),
                deciding_policies=_split(cell["deciding_policies"]),
                unknown_keys=_split(cell["unknown_keys"]),
                reason=cell["reason"],
            )
        )
    return tuple(out)


@dataclass(frozen=True)
class RunExclusion:
    """One entry of exclusions.json: the account's exclusion and its name as listed then."""

    account_id: str
    account_name: str
    exclusion: Exclusion


def read_exclusions(path: Path) -> tuple[RunExclusion, ...]:
    """exclusions.json, entry by entry: the one reader of the file (`auditor render`, the run-over-run
    comparison, `datadog sync-regions`). RunLoadError names the file and the entry at fault.

    What is sent to Datadog comes from here, so each entry must hold a 12-digit account id and lists
    of region names. Leniently, the list may be wrapped in an object under `accounts` or
    `exclusions`, and a list of regions may be one ";"-separated string.
    """
    data = read_json(path)
    if isinstance(data, dict):
        data = data.get("accounts", data.get("exclusions"))
    if not isinstance(data, list):
        raise RunLoadError(f"{path}: expected a list of accounts, found {type(data).__name__}")
    return tuple(_exclusion_entry(f"{path}: entry {i}", entry) for i, entry in enumerate(data))


def _exclusion_entry(where: str, entry: Any) -> RunExclusion:
    if not isinstance(entry, dict):
        raise RunLoadError(f"{where}: expected an object, found {type(entry).__name__}")
    account_id = entry.get("account_id")
    if not isinstance(account_id, str) or not (len(account_id) == 12 and account_id.isdigit()):
        raise RunLoadError(f"{where}: \"account_id\" = {account_id!r} is not a 12-digit account id")
    lists = {key: _regions_list(where, key, entry.get(key, [])) for key in ("exclude", "include_only", "not_enabled")}
    exclusion = Exclusion(account_id, lists["exclude"], lists["include_only"], lists["not_enabled"])
    return RunExclusion(account_id, str(entry.get("account_name") or ""), exclusion)


def _regions_list(where: str, key: str, value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return _split(value.replace(",", ";"))
    if isinstance(value, list) and all(isinstance(r, str) for r in value):
        return tuple(value)
    raise RunLoadError(f"{where}: \"{key}\" must be a list of region names")


def load_exclusions(path: Path) -> tuple[Exclusion, ...]:
    """exclusions.json's exclusions; () when the file is absent."""
    if not path.exists():
        return ()
    return tuple(e.exclusion for e in read_exclusions(path))
