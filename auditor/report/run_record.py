"""Add one fact to a finished run's run.json, everything else kept as it was.

run.json is replaced whole (write_json: temp file, fsync, rename), so a reader sees the file before
or after, never a mix, and a folder whose run.json says `complete: true` still holds every file.
Used for what happens after the folder is written: whether the results reached Datadog.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from auditor.report.files import write_json
from auditor.report.load import RunLoadError

RUN_JSON = "run.json"


def update_run_json(run_dir: Path, key: str, value: Any) -> Path:
    """run.json with `key` set to `value`; RunLoadError when run.json is missing or not a JSON object."""
    path = run_dir / RUN_JSON
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RunLoadError(f"{path}: file not found") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise RunLoadError(f"{path}: cannot read JSON: {exc}") from None
    if not isinstance(data, dict):
        raise RunLoadError(f"{path}: expected a JSON object, found {type(data).__name__}")
    data[key] = value
    return write_json(path, data)
