"""One table of exit codes: the enum every command returns, and the README's table of it."""

import re
from pathlib import Path

from auditor import cli
from auditor.exit_codes import ExitCode

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def test_readme_exit_code_table_lists_exactly_the_enum_values() -> None:
    section = README.split("## Exit codes", 1)[1].split("\n## ", 1)[0]
    listed = [int(code) for code in re.findall(r"^\| (\d) \|", section, flags=re.M)]
    assert listed == [int(code) for code in ExitCode]


def test_no_command_module_defines_its_own_exit_numbers() -> None:
    commands = Path(cli.__file__).parent / "commands"
    for module in commands.glob("*.py"):
        assert not re.search(r"^EXIT_\w+\s*[,=]", module.read_text(), flags=re.M), module.name


def test_usage_error_exits_with_the_usage_code(capsys) -> None:
    assert cli.main(["explain"]) == ExitCode.USAGE
