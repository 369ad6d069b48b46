"""Run folders in an output folder: which ones exist, which to keep, and the `latest` pointer.

Only folders whose name is a run stamp (`YYYYmmddTHHMMSSZ` or `...Z-<n>`, as files.make_run_dir
creates them) are ever considered: the output folder may hold logs, lock files or a person's own
files, and retention must never delete those. Symlinks are never followed or deleted.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
from datetime import datetime
from pathlib import Path

from auditor import clock
from auditor.report.files import write_text

log = logging.getLogger("auditor")

RUN_DIR_NAME = re.compile(r"^(\d{8}T\d{6}Z)(?:-(\d{1,4}))?$")
LATEST_LINK = "latest"
LATEST_FILE = "LATEST"


def run_folder_key(name: str) -> tuple[str, int] | None:
    """Sort key of a run folder name (stamp, then the `-n` suffix); None for any other name."""
    m = RUN_DIR_NAME.match(name)
    if not m:
        return None
    return m.group(1), int(m.group(2) or 0)


def list_run_folders(output_dir: Path, *, now: datetime | None = None) -> list[Path]:
    """Run folders directly under output_dir, oldest first (real folders only, not symlinks).

    With `now`, only those stamped at or before it: the runs that already happened.
    """
    try:
        entries = list(output_dir.iterdir())
    except FileNotFoundError:
        return []
    runs = [p for p in entries if run_folder_key(p.name) is not None and p.is_dir() and not p.is_symlink()]
    if now is not None:
        present = clock.stamp(now)
        runs = [p for p in runs if (run_folder_key(p.name) or ("", 0))[0] <= present]
    return sorted(runs, key=lambda p: run_folder_key(p.name) or ("", 0))


def future_run_folders(output_dir: Path, now: datetime) -> list[Path]:
    """Run folders stamped after `now`, oldest first."""
    past = set(list_run_folders(output_dir, now=now))
    return [p for p in list_run_folders(output_dir) if p not in past]


def apply_retention(output_dir: Path, keep: int, newest: Path, *, now: datetime | None = None) -> list[Path]:
    """Delete all but the `keep` newest run folders (never `newest`), then point `latest` at newest.

    Folders stamped after `now` (default: the clock) are left alone and not counted. Returns the
    folders deleted. A folder that cannot be deleted is logged and left in place.
    """
    if keep < 1:
        raise ValueError(f"keep must be at least 1, got {keep}")
    if newest.parent.resolve() != output_dir.resolve() or run_folder_key(newest.name) is None:
        raise ValueError(f"{newest} is not a run folder directly under {output_dir}")
    now = clock.now() if now is None else now
    future = future_run_folders(output_dir, now)
    if future:
        log.warning("retention: %d run folder(s) in %s are dated in the future and are neither counted nor "
                    "deleted (a wrong clock, or not written by the auditor): %s",
                    len(future), output_dir, ", ".join(p.name for p in future))
    runs = list_run_folders(output_dir, now=now)
    kept = {p.name for p in runs[-keep:]} | {newest.name}
    deleted: list[Path] = []
    for run in runs:
        if run.name in kept:
            continue
        try:
            shutil.rmtree(run)
        except OSError as exc:
            log.warning("retention: could not delete old run folder %s: %s", run, exc)
            continue
        deleted.append(run)
    if deleted:
        log.info("retention: deleted %d old run folder(s), kept %d", len(deleted), keep)
    update_latest(output_dir, newest)
    return deleted


def update_latest(output_dir: Path, newest: Path) -> None:
    """`latest` -> newest (a relative symlink, swapped in atomically) and `LATEST` holding its name."""
    link = output_dir / LATEST_LINK
    if link.exists() and not link.is_symlink():
        log.warning("retention: %s exists and is not a symlink; leaving it alone", link)
    else:
        tmp = output_dir / f".{LATEST_LINK}.{os.getpid()}.tmp"
        try:
            if tmp.is_symlink():
                tmp.unlink()
            os.symlink(newest.name, tmp, target_is_directory=True)
            os.replace(tmp, link)
        except (OSError, NotImplementedError) as exc:
            # Platforms or file systems without symlinks: LATEST below still says which run is newest.
            log.info("retention: no `latest` symlink (%s); see %s", exc, LATEST_FILE)
            if tmp.is_symlink():
                tmp.unlink()
    write_text(output_dir / LATEST_FILE, newest.name + "\n")
