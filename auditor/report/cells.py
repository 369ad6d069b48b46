"""Cell safety for spreadsheets and CSVs: the one cell rule, and the one way a CSV is written.

Account names, OU and policy names, role names and tags are attacker-controlled: a value starting
with `=`, `+`, `-`, `@`, a tab, a carriage return or a line feed would be read as a formula by Excel
or LibreOffice (CSV injection, OWASP). Such values get a leading apostrophe, the conventional
neutraliser. The workbook applies `safe_cell` to every text cell (xlsx.xl_text); every CSV is
written by `write_csv` below, which applies it to every cell and quotes any value holding a CR or
LF, so a value can never end its row and start a new one. No other module writes CSV (a test holds
this), so a new tabular output cannot skip the rule.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import IO, Any

import pandas as pd

from auditor.report.files import write_atomic

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\n")
# Excel holds at most 32,767 characters in a cell, and Python's csv module reads at most 131,072 by
# default: a longer value (a trust policy naming thousands of principals) is cut with a mark. The
# JSON files keep every value whole.
MAX_CELL_TEXT = 32_000
TRUNCATED = " …[truncated]"


def capped(value: str) -> str:
    return value[:MAX_CELL_TEXT] + TRUNCATED if len(value) > MAX_CELL_TEXT else value


def safe_cell(value: Any) -> Any:
    """The one cell rule: text capped at MAX_CELL_TEXT, and never read as a formula."""
    if not isinstance(value, str):
        return value
    value = capped(value)
    return "'" + value if value.startswith(FORMULA_PREFIXES) else value


def csv_frame(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> pd.DataFrame:
    """A table given as plain rows, in the shape `write_csv` takes (text kept as text)."""
    return pd.DataFrame(list(rows), columns=list(columns), dtype=object)


def write_csv(path: Path, frame: pd.DataFrame) -> Path:
    """`frame` as an RFC 4180 CSV at `path` (atomically), every header and cell through `safe_cell`."""
    safe = frame.map(safe_cell) if not frame.empty else frame
    safe = safe.rename(columns=safe_cell)

    def dump(fh: IO[bytes]) -> None:
        # Streamed to the file in pandas' chunks: regions.csv at 10,000 accounts is ~200 MB, and
        # a whole-file string plus its encoded copy would double the run's peak memory.
        # A lone surrogate (JSON's "\\ud800" in AWS or Datadog text) cannot be UTF-8: shown escaped.
        text = io.TextIOWrapper(fh, encoding="utf-8", errors="backslashreplace", newline="")
        # CRLF line ends: the csv module quotes any field holding a character of the line
        # terminator, so a bare CR or LF in a value stays inside its quoted cell (with "\n" alone a
        # bare CR went out unquoted and split the row for readers that take CR as a line end).
        safe.to_csv(text, index=False, lineterminator="\r\n")
        text.flush()
        text.detach()  # leave the binary file open for write_atomic's fsync

    return write_atomic(path, dump)
