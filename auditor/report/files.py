"""Run folders and atomic, private file writes.

Every file is written to a temporary name in the same folder and renamed into place, so a
reader (or an interrupted run) never sees half a file. Files are created 0600 and folders
0700: reports hold account names, role ARNs and policy text that other users of the host
need not read.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import tempfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from auditor import clock
from auditor.safefs import FILE_MODE

DIR_MODE = 0o700


def make_run_dir(output_dir: Path, when: datetime | None = None) -> Path:
    """A new `<output_dir>/<UTC timestamp>/`, never an existing one."""
    output_dir.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    stamp = clock.stamp(when or clock.now())
    for n in range(1000):
        candidate = output_dir / (stamp if n == 0 else f"{stamp}-{n}")
        try:
            candidate.mkdir(mode=DIR_MODE)
            return candidate
        except FileExistsError:
            continue
    raise RuntimeError(f"cannot create a new run folder under {output_dir}")


TEMP_SUFFIX = ".tmp"


def _temp_prefix(path: Path) -> str:
    return f".{path.name}."


def temp_files(path: Path) -> list[Path]:
    """The temporary files `write_atomic` leaves for `path` when its writer is killed."""
    prefix = _temp_prefix(path)
    return [p for p in path.parent.iterdir() if p.name.startswith(prefix) and p.name.endswith(TEMP_SUFFIX)]


def write_atomic(path: Path, writer: Callable[[IO[bytes]], object]) -> Path:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=_temp_prefix(path), suffix=TEMP_SUFFIX)
    try:
        os.fchmod(fd, FILE_MODE)
        with os.fdopen(fd, "wb") as fh:
            writer(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return path


def write_text(path: Path, text: str) -> Path:
    return write_atomic(path, lambda fh: fh.write(text.encode("utf-8")))


def write_json(path: Path, data: Any) -> Path:
    def dump(fh: IO[bytes]) -> None:
        # Streamed (json.dump writes piece by piece): no whole-document string in memory.
        # A lone surrogate (AWS or Datadog text holding JSON's "\\ud800") cannot be UTF-8: written
        # as a backslash escape it is JSON's own escape for it, so the value reads back exactly.
        text = io.TextIOWrapper(fh, encoding="utf-8", errors="backslashreplace", newline="\n")
        json.dump(data, text, indent=2, sort_keys=False, ensure_ascii=False, default=str)
        text.write("\n")
        text.flush()
        text.detach()

    return write_atomic(path, dump)
