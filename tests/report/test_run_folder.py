"""The run folder's file names live in one place: report/run_folder.py (RunFolder)."""

from __future__ import annotations

import ast
from pathlib import Path

import auditor
from auditor.report.run_folder import RunFolder
from auditor.report.writer import write_run

from .factory import make_result

# Every file a run folder holds; a file added to the folder is added here and to RunFolder.
RUN_FOLDER_FILES = {
    "run.json",
    "findings.json",
    "findings.csv",
    "regions.csv",
    "inventory.json",
    "exclusions.json",
    "exclusions.csv",
    "exclusions.tf.json",
    "datadog_patches.json",
    "audit.xlsx",
}
SOURCE = Path(auditor.__file__).resolve().parent
OWNER = SOURCE / "report" / "run_folder.py"


def _docstrings(tree: ast.AST) -> set[int]:
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                out.add(id(first.value))
    return out


def file_names_in(path: Path, root: Path = SOURCE.parent) -> list[str]:
    """String literals of `path` (docstrings aside) that name a run-folder file as a path would:
    the bare name or a path ending in it. Prose that mentions a file (help, messages) has spaces."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = _docstrings(tree)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip:
            text = node.value.strip()
            if " " in text:
                continue
            if any(text == name or text.endswith(("/" + name, "\\" + name)) for name in RUN_FOLDER_FILES):
                found.append(f"{path.relative_to(root)}:{node.lineno}: {text!r}")
    return found


def test_no_module_but_the_run_folder_names_a_run_folder_file() -> None:
    offenders = [hit for path in sorted(SOURCE.rglob("*.py")) if path != OWNER for hit in file_names_in(path)]
    assert offenders == []


def test_the_scan_finds_a_file_name_where_one_is_written(tmp_path: Path) -> None:
    # The rule above cannot pass by finding nothing: the same scan sees names used as paths.
    sample = tmp_path / "sample.py"
    sample.write_text('"""A doc naming run.json."""\np = d / "findings.json"\nq = f"{d}/audit.xlsx"\n'
                      'help = "run folder (holding run.json)"\n')
    assert file_names_in(sample, tmp_path) == ["sample.py:2: 'findings.json'", "sample.py:3: '/audit.xlsx'"]


def test_the_run_folder_names_every_file_the_writer_writes(tmp_path: Path) -> None:
    run_dir = write_run(make_result(), tmp_path)
    assert {p.name for p in run_dir.iterdir()} == RUN_FOLDER_FILES == set(RunFolder.FILES)
    folder = RunFolder(run_dir)
    assert folder.is_complete() and folder.load_result().findings == make_result().findings
