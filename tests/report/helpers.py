"""Reading written workbooks back in the report tests."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
from openpyxl.cell.cell import Cell
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from auditor.report.xlsx import FIRST_DATA_ROW, HEADER_ROW


def open_book(path: Path) -> Workbook:
    return openpyxl.load_workbook(path)


def reopen(wb: Workbook) -> Workbook:
    """A built (write-only) workbook saved and read back: its cells as a person opening the file sees them."""
    buf = io.BytesIO()
    wb.save(buf)
    buf.seek(0)
    return openpyxl.load_workbook(buf)


def all_cells(wb: Workbook) -> Iterator[Cell]:
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            yield from row


def header(ws: Worksheet) -> list[str]:
    return [c.value for c in ws[HEADER_ROW] if c.value is not None]


def records(ws: Worksheet) -> list[dict[str, Any]]:
    names = header(ws)
    out = []
    for row in ws.iter_rows(min_row=FIRST_DATA_ROW, max_col=len(names), values_only=True):
        if any(v is not None for v in row):
            out.append(dict(zip(names, row, strict=True)))
    return out


def summary_value(ws: Worksheet, label: str) -> Any:
    for row in ws.iter_rows(max_col=2):
        if row[0].value == label:
            return row[1].value
    raise KeyError(label)


def sheet_values(wb: Workbook) -> dict[str, list[tuple[Any, ...]]]:
    return {ws.title: list(ws.iter_rows(values_only=True)) for ws in wb.worksheets}
