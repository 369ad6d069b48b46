"""Modules stay small enough to read in one sitting (developers' guide: under 400 lines)."""

from pathlib import Path

AUDITOR = Path(__file__).resolve().parents[2] / "auditor"
MAX_LINES = 400


def test_no_module_of_the_package_is_over_400_lines() -> None:
    long = {str(p.relative_to(AUDITOR)): n for p in sorted(AUDITOR.rglob("*.py"))
            if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert long == {}
