import re
from pathlib import Path

from auditor.checks.catalogue import CATALOGUE, CheckId

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def test_readme_lists_every_check_id_of_the_catalogue():
    listed = set(re.findall(r"^\| `([a-z_]+)` \|", README, flags=re.M))
    assert listed == set(CATALOGUE)


def test_readme_checks_table_follows_the_catalogue_row_by_row():
    """Same ids in the same order, each with its catalogue severity and a text that starts with its title
    (the README may add details in parentheses)."""
    rows = re.findall(r"^\| `([a-z_]+)` \| ([a-z]+) \| (.+) \|$", README, flags=re.M)
    assert [check for check, _, _ in rows] == list(CATALOGUE)
    for check, severity, meaning in rows:
        spec = CATALOGUE[CheckId(check)]
        assert severity == spec.severity.value, check
        assert re.sub(r" \([^()]*\)", "", meaning).startswith(spec.title), check


def test_readme_gives_the_two_commands():
    assert "pip install -e '.[demo]' && auditor demo" in README
    assert "pip install -e '.[test]' && pytest -n auto" in README


def test_ci_runs_the_readme_test_command():
    ci = (Path(__file__).resolve().parents[2] / ".ci" / "run").read_text()
    assert "pip install --quiet -e '.[test]'" in ci
    assert "\npytest -n auto\n" in ci
    assert "\nmypy\n" in ci and "`mypy`" in README
