"""Cell safety for spreadsheets and CSVs.

Account names, role names and tags are attacker-controlled: a value starting with `=`, `+`,
`-`, `@`, a tab or a carriage return would be read as a formula by Excel or LibreOffice
(CSV injection, OWASP). Such values get a leading apostrophe, the conventional neutraliser.
"""

from __future__ import annotations

from typing import Any

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value
