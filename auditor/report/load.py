"""The parsers of a run folder's files (RunFolder.load_result puts them together), without AWS:
the inverse of writer.write_result_files.

Used to re-render a run's workbook (`auditor render`) and to compare a run with the previous one.
Values in the CSV files were neutralised against formula injection on the way out (cells.safe_cell);
that apostrophe is taken off again here so a round trip gives the original text.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from auditor.model import Exclusion, Finding, RegionVerdict, Verdict
from auditor.report.cells import FORMULA_PREFIXES
from auditor.report.serialize import from_jsonable


class RunLoadError(ValueError):
    """A run folder file is missing or not what the writer writes; the message names the file."""


def unneutralise(value: str) -> str:
    if value.startswith("'") and value[1:].startswith(FORMULA_PREFIXES):
        return value[1:]
    return value


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RunLoadError(f"{path}: file not found") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise RunLoadError(f"{path}: cannot read JSON: {exc}") from None


def load_findings(path: Path) -> tuple[Finding, ...]:
    data = _read_json(path)
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


def _regions_list(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return _split(value.replace(",", ";"))
    if isinstance(value, list):
        return tuple(str(x) for x in value)
    if isinstance(value, dict) and isinstance(value.get("include_only"), list):
        return tuple(str(x) for x in value["include_only"])
    return ()


def load_exclusions(path: Path) -> tuple[Exclusion, ...]:
    """exclusions.json (a list of {account_id, exclude, include_only}); () when absent.

    Read leniently (a dict with an `accounts`/`exclusions` list also works): the file is owned by
    the exclusions writer and its shape may grow.
    """
    if not path.exists():
        return ()
    data = _read_json(path)
    if isinstance(data, dict):
        data = data.get("accounts", data.get("exclusions", []))
    if not isinstance(data, list):
        raise RunLoadError(f"{path}: expected a list of per-account exclusions")
    out = []
    for i, item in enumerate(data):
        if not isinstance(item, dict) or not item.get("account_id"):
            raise RunLoadError(f"{path}: entry #{i} has no account_id")
        out.append(
            Exclusion(
                account_id=str(item["account_id"]),
                exclude=_regions_list(item.get("exclude", ())),
                include_only=_regions_list(item.get("include_only", ())),
                not_enabled=_regions_list(item.get("not_enabled", ())),
            )
        )
    return tuple(out)
