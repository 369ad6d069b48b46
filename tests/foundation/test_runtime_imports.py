"""The installed package never imports a test-only package: `pip install .` (or `.[demo]`) runs
every command. Every import is read, also those inside functions."""

import ast
import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
AUDITOR = ROOT / "auditor"
# What each distribution of the [test] extra is imported as (moto[server] adds flask and werkzeug).
TEST_ONLY_IMPORTS = {
    "datadog-org-auditor": set(),  # the [demo] extra, listed again
    "moto": {"flask", "flask_cors", "werkzeug"},
    "pytest": {"pytest", "_pytest"},
    "pytest-xdist": {"xdist"},
    "hypothesis": {"hypothesis"},
    "pytest-httpserver": {"pytest_httpserver"},
    "pyyaml": {"yaml"},
    "ruff": {"ruff"},
    "mypy": {"mypy"},
}
# The [demo] extra is imported only by the demo's own code.
DEMO_ONLY = {"moto"}
DEMO_CODE = {AUDITOR / "demo", AUDITOR / "commands" / "demo.py"}


def _extra(name: str) -> list[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return [re.split(r"[\[<>=~! ;]", req, maxsplit=1)[0].lower() for req in project["optional-dependencies"][name]]


def _imports() -> list[tuple[Path, int, str]]:
    found = []
    for path in sorted(AUDITOR.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                found += [(path, node.lineno, alias.name.split(".")[0]) for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.append((path, node.lineno, node.module.split(".")[0]))
    return found


def test_every_test_dependency_is_classified() -> None:
    assert set(_extra("test")) <= set(TEST_ONLY_IMPORTS) | {"types-pyyaml", "pandas-stubs"}


def test_auditor_imports_no_test_only_package() -> None:
    test_only = set().union(*TEST_ONLY_IMPORTS.values()) | {"tests"}
    bad = [f"{p.relative_to(ROOT)}:{line} imports {mod}" for p, line, mod in _imports() if mod in test_only]
    assert bad == []


def test_only_the_demo_imports_the_demo_extra() -> None:
    def in_demo(path: Path) -> bool:
        return any(path == d or d in path.parents for d in DEMO_CODE)

    bad = [f"{p.relative_to(ROOT)}:{line} imports {mod}" for p, line, mod in _imports()
           if mod in DEMO_ONLY and not in_demo(p)]
    assert bad == []
