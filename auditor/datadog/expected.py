"""Expected values (what Datadog holds per account) from a CSV file.

Header `account_id,role_name,external_id`, optionally `partition` and `access_key_id`, in any order.
A row with `access_key_id` is an account Datadog reaches with an IAM user's access keys: its role_name
and external_id must then be empty (Datadog's auth_config is one or the other). Values are kept
exactly as written, spaces included: a stray space in the role name or external id Datadog was
given is one of the faults the role checks look for. Account ids are read as text so leading
zeros survive. An empty cell means "not known" (None), never "empty string".
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

from auditor.model import ExpectedValues

REQUIRED_COLUMNS = ("account_id", "role_name", "external_id")
OPTIONAL_COLUMNS = ("partition", "access_key_id")
PARTITIONS = ("aws", "aws-us-gov", "aws-cn")
_ACCOUNT_ID = re.compile(r"^\d{12}$")


class ExpectedValuesError(ValueError):
    """A bad expected-values file; the message names the file, line and column."""


def load_expected_csv(path: str | Path) -> dict[str, ExpectedValues]:
    """Account id -> ExpectedValues from the CSV at `path`."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")  # utf-8-sig: Excel writes a byte order mark
    except OSError as exc:
        raise ExpectedValuesError(f"{p}: cannot read expected values file: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise ExpectedValuesError(f"{p}: not UTF-8 text (byte {exc.start}); save it as UTF-8 CSV") from None
    return parse_expected_csv(text, source=str(p))


def parse_expected_csv(text: str, *, source: str) -> dict[str, ExpectedValues]:
    reader = csv.reader(text.splitlines(keepends=True), strict=True)
    try:
        header = next(reader, None)
        if header is None:
            raise ExpectedValuesError(f"{source}: the file is empty; expected the header {','.join(REQUIRED_COLUMNS)}")
        columns = _columns(header, source)
        out: dict[str, ExpectedValues] = {}
        first_line: dict[str, int] = {}
        for row in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in row):
                continue  # blank line
            if len(row) != len(header):
                raise ExpectedValuesError(f"{source}: line {line}: {len(row)} fields, but the header has {len(header)}")
            values = {name: row[i] for name, i in columns.items()}
            ev = _row(values, columns, source, line)
            if ev.account_id in out:
                raise ExpectedValuesError(
                    f"{source}: line {line}, column 1 (account_id): account {ev.account_id} is already on line "
                    f"{first_line[ev.account_id]}"
                )
            out[ev.account_id] = ev
            first_line[ev.account_id] = line
        return out
    except csv.Error as exc:
        raise ExpectedValuesError(f"{source}: line {reader.line_num}: not valid CSV: {exc}") from None


def _columns(header: list[str], source: str) -> dict[str, int]:
    names = [h.strip().lower() for h in header]
    allowed = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
    for i, name in enumerate(names):
        if name not in allowed:
            raise ExpectedValuesError(
                f"{source}: line 1, column {i + 1}: unknown column {header[i]!r}; "
                f"expected {', '.join(REQUIRED_COLUMNS)} (and optionally {', '.join(OPTIONAL_COLUMNS)})"
            )
        if names.index(name) != i:
            raise ExpectedValuesError(f"{source}: line 1, column {i + 1}: column {name!r} appears twice")
    missing = [c for c in REQUIRED_COLUMNS if c not in names]
    if missing:
        raise ExpectedValuesError(
            f"{source}: line 1: missing column(s) {', '.join(missing)}; the header must be "
            f"{','.join(REQUIRED_COLUMNS)}[,partition][,access_key_id]"
        )
    return {name: i for i, name in enumerate(names)}


def _row(values: dict[str, str], columns: dict[str, int], source: str, line: int) -> ExpectedValues:
    def where(name: str) -> str:
        return f"{source}: line {line}, column {columns[name] + 1} ({name})"

    account_id = values["account_id"]
    if not _ACCOUNT_ID.match(account_id):
        hint = ""
        if account_id.strip() != account_id and _ACCOUNT_ID.match(account_id.strip()):
            hint = " (remove the spaces around it)"
        elif account_id.isdigit() and len(account_id) < 12:
            hint = " (leading zeros lost? a spreadsheet may have stored it as a number)"
        raise ExpectedValuesError(f"{where('account_id')}: {account_id!r} is not a 12-digit AWS account id{hint}")
    partition = values.get("partition") or None
    if partition is not None and partition not in PARTITIONS:
        raise ExpectedValuesError(f"{where('partition')}: {partition!r} is not one of {', '.join(PARTITIONS)}")
    access_key_id = values.get("access_key_id") or None
    if access_key_id and (values["role_name"] or values["external_id"]):
        raise ExpectedValuesError(
            f"{where('access_key_id')}: an account Datadog reaches with access keys has no role: leave role_name "
            "and external_id empty (Datadog holds one or the other)"
        )
    return ExpectedValues(
        account_id=account_id,
        role_name=values["role_name"] or None,
        external_id=values["external_id"] or None,
        partition=partition,
        source=f"{source}:{line}",
        access_key_id=access_key_id,
    )
