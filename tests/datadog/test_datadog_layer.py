"""auditor/datadog/ is the I/O layer: it imports only down (config, model, its own modules), never
checks/, policy/, report/ or what sits above them, and its own modules import one another one way."""

from __future__ import annotations

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import auditor.datadog

PACKAGE = Path(auditor.datadog.__file__).parent
ABOVE = ("auditor.checks", "auditor.policy", "auditor.analysis", "auditor.pipeline", "auditor.report",
         "auditor.commands")


def _imports(path: Path) -> set[str]:
    """Every module the file imports, at the top or inside a function."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def _modules() -> dict[str, set[str]]:
    return {f"auditor.datadog.{p.stem}": _imports(p) for p in PACKAGE.glob("*.py") if p.stem != "__init__"}


def test_the_datadog_layer_never_imports_checks_or_anything_above_it() -> None:
    upward = {module: sorted(i for i in imports if i.startswith(ABOVE)) for module, imports in _modules().items()}
    assert {m: found for m, found in upward.items() if found} == {}


def test_the_datadog_modules_import_one_another_without_a_cycle() -> None:
    modules = _modules()
    graph = {m: {i for i in imports if i in modules} for m, imports in modules.items()}
    try:
        tuple(TopologicalSorter(graph).static_order())
    except CycleError as exc:  # pragma: no cover - the failure message is the cycle
        raise AssertionError(f"import cycle in auditor/datadog: {exc.args[1]}") from None
    assert "auditor.datadog.api" in graph["auditor.datadog.source"]  # the one expected direction
