"""A generic xlsx writer: pandas DataFrames in, styled write-only sheets out (openpyxl).

It knows nothing of the audit: what a sheet holds and how it is coloured is given by the caller.

Layout of every table sheet: row 1 says what the sheet shows, row 2 holds the colour legend, row 3
the header (frozen, with an autofilter), data from row 4. Colours come from conditional formatting
rules, one per value, not from per-cell styles: the Regions matrix of a large organization has
hundreds of thousands of cells.

The workbook is write-only (openpyxl streams each row to a temporary file as it is appended instead of
holding every cell object until save): a sheet's column widths, freeze panes and print setup are set
before its first row, a row's height just before that row, and each cell is styled as it is appended.
A sheet of free layout (the Summary) is laid out on a small in-memory grid first (`Grid`, `Cursor`),
because its blocks fill rows side by side.

Every text value goes through `xl_text`: formula-looking values are neutralised (cells.safe_cell),
characters XML cannot hold are replaced, and over-long text is cut to Excel's cell limit. Rows are
appended with openpyxl directly (pandas' to_excel is several times slower on large frames). A string cell
is never typed as a formula or an error, whatever it holds (`_text_cell`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE
from openpyxl.formatting.rule import CellIsRule
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.styles.cell_style import StyleArray
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from auditor.report.cells import FORMULA_PREFIXES, MAX_CELL_TEXT, capped, safe_cell

HEADER_ROW = 3
FIRST_DATA_ROW = HEADER_ROW + 1
MAX_WIDTH, WRAP_WIDTH, MIN_WIDTH = 45, 60, 10
MAX_LINES, LINE_HEIGHT = 8, 15.0  # wrapped rows grow up to 8 lines of 15 pt; the cell holds the rest
DATE_FORMAT = "yyyy-mm-dd hh:mm:ss"
TEXT_FORMAT = "@"


_WHITE_ON = {"C00000"}  # fills dark enough to need white text

_HEADER_FILL = PatternFill("solid", start_color="1F4E78", end_color="1F4E78")
_HEADER_FONT = Font(bold=True, color="FFFFFF")
NOTE_FONT = Font(italic=True, color="595959")
TITLE_FONT = Font(bold=True, size=14)
_BOLD = Font(bold=True)
_WRAP = Alignment(wrap_text=True, vertical="top")
_TOP = Alignment(vertical="top")


def _fill(hex_colour: str) -> PatternFill:
    # Both colours set: differential formats (conditional formatting) read bgColor, cells fgColor.
    return PatternFill("solid", start_color=hex_colour, end_color=hex_colour)


def _font_for(hex_colour: str) -> Font:
    return Font(color="FFFFFF", bold=True) if hex_colour in _WHITE_ON else Font(color="000000")


_RISKY_START = (*FORMULA_PREFIXES, "#")
# A lone surrogate (JSON's "\\ud800" in AWS or Datadog text) cannot be written as XML: the workbook
# would not be saved at all.
_SURROGATE = re.compile("[\ud800-\udfff]")


def xl_text(value: Any) -> Any:
    """A value safe to put in a cell: never a formula, an error literal, or XML-illegal text."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    if not isinstance(value, str):
        return value
    if value.isprintable() and len(value) <= MAX_CELL_TEXT and not value.startswith(_RISKY_START):
        return value  # the common case, decided without a regex
    value = _SURROGATE.sub("\ufffd", ILLEGAL_CHARACTERS_RE.sub("\ufffd", value))
    value = capped(value)
    if value in ERROR_CODES:
        return "'" + value
    return safe_cell(value)


@dataclass(frozen=True)
class Table:
    sheet: str
    note: str
    frame: pd.DataFrame
    freeze_cols: int = 1  # leading columns kept visible when scrolling right
    text_columns: tuple[str, ...] = ("account_id",)  # kept as text: ids with leading zeros
    wrap: tuple[str, ...] = ()  # long text: wrapped in a wider column
    colours: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # column -> value -> fill
    colour_columns: tuple[str, ...] = ()  # more columns using the first `colours` map (the matrix)
    legend: Mapping[str, str] = field(default_factory=dict)  # label -> fill
    widths: Mapping[str, float] = field(default_factory=dict)


def _width(series: pd.Series, header: str, wrap: bool) -> float:
    longest = len(header)
    if len(series):
        lengths = series.astype("string").str.len()
        longest = max(longest, int(lengths.max(skipna=True) or 0)) if lengths.notna().any() else longest
    return float(min(max(longest + 2, MIN_WIDTH), WRAP_WIDTH if wrap else MAX_WIDTH))


def _text_cell(ws: WriteOnlyWorksheet, value: Any) -> WriteOnlyCell:
    """A cell for `value`; a string stays a string even if it looks like a formula or an error code."""
    cell = WriteOnlyCell(ws, value)
    if isinstance(value, str):
        cell.data_type = "s"
    return cell


def _cell(
    ws: WriteOnlyWorksheet,
    value: Any,
    *,
    font: Font | None = None,
    fill: PatternFill | None = None,
    alignment: Alignment | None = None,
    number_format: str | None = None,
) -> WriteOnlyCell:
    cell = _text_cell(ws, value)
    if font is not None:
        cell.font = font
    if fill is not None:
        cell.fill = fill
    if alignment is not None:
        cell.alignment = alignment
    if number_format is not None:
        cell.number_format = number_format
    return cell


def _plain(ws: WriteOnlyWorksheet, value: Any) -> Any:
    """An unstyled value as appended: a bare value, unless openpyxl would type it as a formula or error."""
    if isinstance(value, str) and (value.startswith("=") or value in ERROR_CODES):
        return _text_cell(ws, value)  # xl_text already rules this out; the guarantee does not depend on it
    return value


def _column_style(ws: WriteOnlyWorksheet, *, text: bool, wrap: bool, top: bool) -> StyleArray | None:
    """The style record of a data column, or None when its cells are unstyled.

    Made once through the public setters and shared by the column's cells: the setters hash a style
    object per call, ~10x slower on 100k cells. Sharing is safe: a written cell is never restyled.
    """
    if not (text or wrap or top):
        return None
    model = _cell(ws, None, alignment=(_WRAP if wrap else _TOP) if (wrap or top) else None)
    if text:
        model.number_format = TEXT_FORMAT
    return model._style


def _data_rows(
    ws: WriteOnlyWorksheet, df: pd.DataFrame, styles: Sequence[StyleArray | None]
) -> Iterator[list[Any]]:
    columns = [[xl_text(v) for v in df[c].tolist()] for c in df.columns]
    for row in zip(*columns, strict=True):
        out = []
        for value, style in zip(row, styles, strict=True):
            if style is None:
                out.append(_plain(ws, value))
            else:
                cell = _text_cell(ws, value)
                cell._style = style
                out.append(cell)
        yield out


def _legend_row(ws: WriteOnlyWorksheet, legend: Mapping[str, str]) -> list[WriteOnlyCell]:
    if not legend:
        return []
    return [
        _cell(ws, "Colours:", font=_BOLD),
        *(_cell(ws, label, fill=_fill(colour), font=_font_for(colour)) for label, colour in legend.items()),
    ]


def _add_colour_rules(ws: WriteOnlyWorksheet, ref: str, colours: Mapping[str, str]) -> None:
    for value, colour in colours.items():
        rule = CellIsRule(
            operator="equal", formula=[f'"{value}"'], fill=_fill(colour), font=_font_for(colour)
        )
        ws.conditional_formatting.add(ref, rule)


def write_table(wb: Workbook, t: Table) -> WriteOnlyWorksheet:
    ws = wb.create_sheet(t.sheet)
    df = t.frame
    columns = list(df.columns)
    last_row = max(HEADER_ROW + len(df), HEADER_ROW)
    # Everything written above the rows in the sheet's XML is set before the first row is appended.
    widths = {}
    for i, col in enumerate(columns, start=1):
        widths[col] = t.widths.get(col, _width(df[col], str(col), col in t.wrap))
        ws.column_dimensions[get_column_letter(i)].width = widths[col]
    ws.freeze_panes = f"{get_column_letter(t.freeze_cols + 1)}{FIRST_DATA_ROW}"
    page_setup(ws)
    ws.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"

    ws.append([_cell(ws, t.note, font=NOTE_FONT)])
    ws.append(_legend_row(ws, t.legend))
    ws.row_dimensions[HEADER_ROW].height = 30
    head = Alignment(wrap_text=True, vertical="center")
    ws.append(
        [_cell(ws, xl_text(str(c)), fill=_HEADER_FILL, font=_HEADER_FONT, alignment=head) for c in columns]
    )
    # Sheets with wrapped (tall) rows are top-aligned throughout, so a row reads as one line.
    styles = [
        _column_style(ws, text=c in t.text_columns, wrap=c in t.wrap, top=bool(t.wrap)) for c in columns
    ]
    heights = _row_heights(df, {c: widths[c] for c in columns if c in t.wrap})
    for offset, row in enumerate(_data_rows(ws, df, styles)):
        height = heights[offset] if heights is not None else None
        if height:
            ws.row_dimensions[FIRST_DATA_ROW + offset].height = height
        ws.append(row)
        if height:
            # The row is already written; dropping its dimension keeps tens of thousands out of memory.
            del ws.row_dimensions[FIRST_DATA_ROW + offset]

    if len(df):
        for i, col in enumerate(columns, start=1):
            letter = get_column_letter(i)
            if col in t.colours:
                _add_colour_rules(ws, f"{letter}{FIRST_DATA_ROW}:{letter}{last_row}", t.colours[col])
    if t.colour_columns and t.colours and len(df):
        first = get_column_letter(columns.index(t.colour_columns[0]) + 1)
        last = get_column_letter(columns.index(t.colour_columns[-1]) + 1)
        _add_colour_rules(ws, f"{first}{FIRST_DATA_ROW}:{last}{last_row}", next(iter(t.colours.values())))
    ws.auto_filter.ref = f"A{HEADER_ROW}:{get_column_letter(max(len(columns), 1))}{last_row}"
    return ws


def _lines(text: pd.Series, width: float) -> np.ndarray:
    """Lines a wrapped text takes in a column `width` characters wide (an estimate)."""
    s = text.astype("string").fillna("")
    # 0.9: proportional fonts (and LibreOffice's substitutes for Calibri) fit fewer characters than
    # the column width counts; a little spare height beats clipped text.
    by_width = np.ceil(s.str.len().to_numpy(dtype=float) / max(width * 0.9 - 1.0, 1.0))
    by_breaks = s.str.count("\n").to_numpy(dtype=float) + 1
    return np.maximum(by_width, by_breaks)


def _row_heights(df: pd.DataFrame, wrap_widths: Mapping[str, float]) -> list[float] | None:
    """Explicit height per data row (0: default) for wrapped text: LibreOffice does not grow rows on open."""
    if not wrap_widths or df.empty:
        return None
    lines = np.ones(len(df))
    for col, width in wrap_widths.items():
        lines = np.maximum(lines, _lines(df[col], width))
    lines = np.clip(lines, 1, MAX_LINES).astype(int)
    return [LINE_HEIGHT * n if n > 1 else 0.0 for n in lines.tolist()]


def page_setup(ws: WriteOnlyWorksheet) -> None:
    """Printing: landscape, as wide as one page, as many pages tall as needed."""
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True


class Grid:
    """The Summary sheet's cells by position, streamed top to bottom by `flush` once the layout is done.

    Column widths and row heights go straight to the sheet: they are honoured when the rows are written.
    """

    def __init__(self, ws: WriteOnlyWorksheet) -> None:
        self.ws = ws
        self.cells: dict[tuple[int, int], WriteOnlyCell] = {}

    def cell(self, row: int, column: int, value: Any = None) -> WriteOnlyCell:
        cell = self.cells[row, column] = _text_cell(self.ws, value)
        return cell

    def flush(self) -> None:
        if not self.cells:
            return
        last_row = max(r for r, _ in self.cells)
        last_col = max(c for _, c in self.cells)
        for r in range(1, last_row + 1):
            self.ws.append([self.cells.get((r, c)) for c in range(1, last_col + 1)])


class Cursor:
    """Writes a block of the Summary sheet top to bottom, from column `col`."""

    def __init__(self, grid: Grid, row: int, col: int = 1) -> None:
        self.canvas, self.ws, self.row, self.col = grid, grid.ws, row, col

    def title(self, text: str) -> None:
        self.canvas.cell(self.row, self.col, text).font = Font(bold=True, size=12)
        self.row += 1

    def gap(self) -> None:
        self.row += 1

    def pair(self, label: str, value: Any, *, fmt: str | None = None, colour: str | None = None) -> None:
        head = self.canvas.cell(self.row, self.col, label)
        head.font, head.alignment = _BOLD, _TOP
        cell = self.canvas.cell(self.row, self.col + 1, xl_text(value))
        cell.alignment = Alignment(horizontal="left", vertical="top", wrap_text=isinstance(value, str))
        width = self.ws.column_dimensions[get_column_letter(self.col + 1)].width
        if isinstance(value, str) and len(value) > width - 1:
            lines = min(MAX_LINES, math.ceil(len(value) / (width - 1)))
            self.ws.row_dimensions[self.row].height = LINE_HEIGHT * lines
        if fmt:
            cell.number_format = fmt
        if colour:
            cell.fill, cell.font = _fill(colour), _font_for(colour)
        self.row += 1

    def grid(self, corner: str, frame: pd.DataFrame, colours: Mapping[str, str]) -> tuple[int, int]:
        """A small table of counts; returns (header row, last row)."""
        top, c0 = self.row, self.col
        for i, name in enumerate([corner, *frame.columns]):
            cell = self.canvas.cell(top, c0 + i, xl_text(str(name)))
            colour = colours.get(str(name))
            cell.fill, cell.font = (
                (_fill(colour), _font_for(colour)) if colour else (_HEADER_FILL, _HEADER_FONT)
            )
        for r, (index, values) in enumerate(frame.iterrows(), start=top + 1):
            label = self.canvas.cell(r, c0, xl_text(str(index)))
            if str(index) in colours:
                label.fill, label.font = _fill(colours[str(index)]), _font_for(colours[str(index)])
            for c, v in enumerate(values.tolist(), start=c0 + 1):
                self.canvas.cell(r, c, int(v))
        self.row = top + len(frame) + 1
        return top, top + len(frame)
