from __future__ import annotations

import os
from pathlib import Path

import pytest

from auditor.report.retention import apply_retention, list_run_folders, update_latest

RUNS = [
    "20250301T020000Z",
    "20250302T020000Z",
    "20250302T020000Z-1",
    "20250302T020000Z-10",
    "20250303T020000Z",
    "20250304T020000Z",
]


def _make(out: Path, names: list[str]) -> list[Path]:
    paths = []
    for name in names:
        (out / name).mkdir(parents=True)
        (out / name / "run.json").write_text("{}")
        paths.append(out / name)
    return paths


def test_run_folders_sort_by_stamp_then_suffix_number(tmp_path: Path) -> None:
    _make(tmp_path, list(reversed(RUNS)))
    assert [p.name for p in list_run_folders(tmp_path)] == [
        "20250301T020000Z",
        "20250302T020000Z",
        "20250302T020000Z-1",
        "20250302T020000Z-10",
        "20250303T020000Z",
        "20250304T020000Z",
    ]


def test_retention_keeps_the_newest_n_and_never_touches_anything_else(tmp_path: Path) -> None:
    runs = _make(tmp_path, RUNS)
    foreign = tmp_path / "my-notes"
    foreign.mkdir()
    (foreign / "keep.txt").write_text("mine")
    (tmp_path / "auditor.log").write_text("log")
    (tmp_path / "20250101T000000Z.bak").mkdir()  # looks similar, is not a run folder name
    (tmp_path / "20250101T000000Z").write_text("a file with a run-like name")
    outside = tmp_path.parent / f"{tmp_path.name}-outside"
    outside.mkdir()
    (outside / "precious").write_text("x")
    os.symlink(outside, tmp_path / "20240101T000000Z")  # a run-like symlink: never followed

    deleted = apply_retention(tmp_path, 2, runs[-1])

    assert sorted(deleted) == sorted(runs[:-2])
    assert [p.name for p in list_run_folders(tmp_path)] == RUNS[-2:]
    assert (foreign / "keep.txt").read_text() == "mine"
    assert (tmp_path / "auditor.log").exists() and (tmp_path / "20250101T000000Z.bak").is_dir()
    assert (tmp_path / "20250101T000000Z").is_file()
    assert (outside / "precious").exists() and (tmp_path / "20240101T000000Z").is_symlink()


def test_the_newest_run_is_kept_even_when_older_names_sort_after_it(tmp_path: Path) -> None:
    runs = _make(tmp_path, RUNS)
    newest = runs[0]  # e.g. the clock went back
    deleted = apply_retention(tmp_path, 1, newest)
    assert newest.is_dir() and runs[-1].is_dir()
    assert len(deleted) == len(RUNS) - 2


def test_latest_points_at_the_newest_run_and_is_replaced(tmp_path: Path) -> None:
    runs = _make(tmp_path, RUNS[:2])
    apply_retention(tmp_path, 5, runs[0])
    apply_retention(tmp_path, 5, runs[1])
    link = tmp_path / "latest"
    assert link.is_symlink() and os.readlink(link) == runs[1].name  # relative: survives moving the folder
    assert (link / "run.json").exists()
    assert (tmp_path / "LATEST").read_text() == runs[1].name + "\n"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary link left


def test_a_real_folder_named_latest_is_left_alone(tmp_path: Path) -> None:
    runs = _make(tmp_path, RUNS[:1])
    (tmp_path / "latest").mkdir()
    (tmp_path / "latest" / "x").write_text("mine")
    update_latest(tmp_path, runs[0])
    assert (tmp_path / "latest" / "x").read_text() == "mine"
    assert (tmp_path / "LATEST").read_text() == runs[0].name + "\n"


def test_bad_arguments_are_refused(tmp_path: Path) -> None:
    runs = _make(tmp_path / "out", RUNS[:1])
    with pytest.raises(ValueError, match="keep must be at least 1"):
        apply_retention(tmp_path / "out", 0, runs[0])
    other = _make(tmp_path / "elsewhere", RUNS[1:2])[0]
    with pytest.raises(ValueError, match="not a run folder directly under"):
        apply_retention(tmp_path / "out", 3, other)
    with pytest.raises(ValueError, match="not a run folder directly under"):
        apply_retention(tmp_path, 3, tmp_path / "out")
