"""The house's layers, read from the code's own imports (every import, at the top, inside a function
or under TYPE_CHECKING): each module imports only its own layer and the ones below it, and no chain
of imports comes back to where it started. README's "How it works" draws the same layers."""

from __future__ import annotations

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import pytest

import auditor

PACKAGE = Path(auditor.__file__).parent

# Lowest first: a module may import its own layer and the layers before it, never one after it.
LAYERS: tuple[tuple[str, ...], ...] = (
    # the domain, fixed facts and small helpers with no knowledge of the run
    ("auditor.model", "auditor.facts", "auditor.secrets", "auditor.terminal", "auditor.stop", "auditor.safefs",
     "auditor.heap", "auditor.clock", "auditor.exit_codes"),
    ("auditor.config", "auditor.config_bounds"),
    ("auditor.policy",),  # pure: parsing and evaluating IAM policies
    ("auditor.checks",),  # pure: the catalogue and every check
    ("auditor.aws", "auditor.datadog", "auditor.lock", "auditor.logsetup"),  # I/O
    ("auditor.fanout", "auditor.analysis", "auditor.pipeline"),  # the run
    ("auditor.report",),  # the run folder
    ("auditor.demo", "auditor.commands", "auditor.cli"),  # what a user calls
)
PURE = ("auditor.policy", "auditor.checks")
IO_LIBRARIES = ("boto3", "botocore", "datadog_api_client", "urllib3", "requests", "socket", "concurrent_log_handler")


def _name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _imports(name: str, path: Path) -> set[str]:
    """Every module `name` imports (a package's submodule when the name is one)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")[: len(package.split(".")) - node.level + 1] if node.level else []
            module = ".".join([*base, node.module] if node.module else base) if node.level else node.module or ""
            for a in node.names:
                found.add(f"{module}.{a.name}" if f"{module}.{a.name}" in MODULES else module)
    return found


IMPORTS = {name: _imports(name, path) for name, path in MODULES.items()}


def _layer(module: str) -> int:
    if module == "auditor":  # the package itself (its version): below everything
        return 0
    for rank, prefixes in enumerate(LAYERS):
        if any(module == p or module.startswith(p + ".") for p in prefixes):
            return rank
    raise AssertionError(f"{module} is in no layer: add it to LAYERS (and to README's drawing)")


@pytest.mark.parametrize("module", sorted(MODULES))
def test_a_module_imports_only_its_own_layer_and_the_ones_below(module: str) -> None:
    up = sorted(m for m in IMPORTS[module] if m in MODULES and _layer(m) > _layer(module))
    assert up == [], f"{module} (layer {_layer(module)}) imports a higher layer: {up}"


@pytest.mark.parametrize("module", sorted(m for m in MODULES if m.startswith(PURE)))
def test_policy_and_checks_do_no_io(module: str) -> None:
    assert sorted(m for m in IMPORTS[module] if m.split(".")[0] in IO_LIBRARIES) == []


def test_no_chain_of_imports_comes_back_to_where_it_started() -> None:
    # A submodule's import also runs its packages' __init__: count those edges too.
    graph = {m: {i for i in IMPORTS[m] if i in MODULES} for m in MODULES}
    for m in MODULES:
        parent = m.rpartition(".")[0]
        if parent in MODULES and parent != m:
            graph[m].add(parent)
    try:
        TopologicalSorter(graph).prepare()
    except CycleError as exc:
        pytest.fail(f"import cycle: {' -> '.join(exc.args[1])}")


def test_the_cycle_check_would_see_a_cycle() -> None:
    with pytest.raises(CycleError):
        TopologicalSorter({"a": {"b"}, "b": {"a"}}).prepare()


def test_readmes_drawing_names_every_layers_modules_in_the_same_order() -> None:
    readme = (PACKAGE.parent / "README.md").read_text(encoding="utf-8")
    drawing = readme[readme.index("The code is in layers"):readme.index("`config.py`, `model.py` (frozen")]
    def drawn(p: str) -> str:  # a package as `name/`, a module as `name.py`
        path = p.removeprefix("auditor.").replace(".", "/")
        return f" {path}/" if (PACKAGE / path).is_dir() else f" {path}.py"

    shown = {p: drawing.find(drawn(p)) for layer in LAYERS for p in layer}
    assert {p for p, at in shown.items() if at < 0} == set()
    # Drawn top (highest layer) to bottom: a lower layer's first name stands after a higher layer's.
    firsts = [min(shown[p] for p in layer) for layer in LAYERS]
    assert firsts == sorted(firsts, reverse=True)
