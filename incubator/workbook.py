"""Workbooks (.xlsx) for spreadsheet users, safe to open (DESIGN §10 "Spreadsheet safety").

The one rule lives here: every text value becomes a cell typed as text (an inline string),
so `=HYPERLINK(…)`, `+cmd|' /C calc'!A0`, `-1+1` or `@SUM(1+1)` in a name, a note or an
actor shows as typed and never runs as a formula. Numbers stay numbers; dates and times
are written as ISO 8601 text (exact, with their offset, and sorting in time order for a
column in UTC). A sheet holds at most 1,048,576 rows (Excel's limit, the header included):
longer data continues on further sheets ("events", "events 2", …), each with the header.

Written with openpyxl in write-only mode, so a large log streams through a temporary file
instead of memory. The header row is bold and frozen, with a filter, and the columns are
sized to the header and the first rows.

    with open("report.xlsx", "wb") as out:
        write_rows(out, [Sheet("events", ["key", "note"], [("JM-1", "=1+1")])])
"""

from __future__ import annotations

import io
import math
import numbers
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from itertools import chain, islice
from typing import IO, Any
from zipfile import ZIP_DEFLATED, ZipFile

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.writer.excel import ExcelWriter

#: Rows a sheet holds, header included (Excel 2007 and later).
MAX_ROWS = 1_048_576
#: Characters a cell holds; longer text is cut and ends with TRUNCATED.
MAX_CELL = 32_767
TRUNCATED = " …[truncated]"
#: Characters XML 1.0 (and so a worksheet) cannot hold; each shows as U+FFFD.
_UNWRITABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
#: Rows read ahead to size the columns, and the width limits (in characters).
SAMPLE_ROWS = 200
MIN_WIDTH, MAX_WIDTH = 8, 60
#: Integers beyond this lose digits in a spreadsheet's floating-point cells; they go as text.
EXACT_INT = 2**53
_SHEET_TITLE_BAD = re.compile(r"[\[\]:*?/\\]")

#: Called as progress(phase, done, total).
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class Sheet:
    """One table: a title (the tab's name), the header row, and the data rows (streamed)."""

    title: str
    columns: Sequence[str]
    rows: Iterable[Sequence[Any]]


def text(value: str) -> str:
    """The text a cell can hold: unwritable control characters as U+FFFD, cut to MAX_CELL."""
    value = _UNWRITABLE.sub("\ufffd", value)
    if len(value) > MAX_CELL:
        value = value[: MAX_CELL - len(TRUNCATED)] + TRUNCATED
    return value


def cell(sheet: WriteOnlyWorksheet, value: Any) -> WriteOnlyCell | None:
    """A cell for `value`: text always typed as text (never a formula), numbers as numbers."""
    if value is None:
        return None
    if isinstance(value, bool):
        return WriteOnlyCell(sheet, value)
    if isinstance(value, numbers.Integral) and abs(int(value)) < EXACT_INT:
        return WriteOnlyCell(sheet, int(value))
    if isinstance(value, float | Decimal) and math.isfinite(value):
        return WriteOnlyCell(sheet, value)
    if isinstance(value, datetime | date | time):
        value = value.isoformat()
    made = WriteOnlyCell(sheet, text(str(value)))
    made.data_type = "s"  # openpyxl infers "=…" a formula, "#N/A" an error; "s": <is><t>
    return made


def width(value: Any) -> int:
    """Display width of a value's longest line (East Asian wide characters count 2)."""
    if value is None:
        return 0
    lines = str(value).splitlines() or [""]
    return max(
        sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in line) for line in lines
    )


def sheet_title(title: str, taken: set[str]) -> str:
    """A tab name Excel accepts (31 characters, none of []:*?/\\), unique in the workbook."""
    base = _SHEET_TITLE_BAD.sub("_", title).strip("'")[:31] or "sheet"
    name, n = base, 1
    while name.lower() in taken:
        n += 1
        suffix = f" {n}"
        name = base[: 31 - len(suffix)] + suffix
    taken.add(name.lower())
    return name


def write_rows(
    out: IO[bytes],
    sheets: Iterable[Sheet],
    *,
    progress: Progress | None = None,
    max_rows: int = MAX_ROWS,
) -> int:
    """Write `sheets` to `out` as an .xlsx workbook; return the number of data rows.

    A sheet with more than `max_rows - 1` data rows continues on a new sheet named after
    it ("events 2"), with the same header. `progress` hears ("saving", 0, 1) and
    ("saving", 1, 1) around the final packing of the file, which takes a while for a large
    workbook; the caller reports the rows as it produces them.
    """
    if max_rows < 2:
        raise ValueError("a sheet needs room for its header and one row")
    book = Workbook(write_only=True)
    taken: set[str] = set()
    written = 0
    try:
        for sheet in sheets:
            rows = iter(sheet.rows)
            sample = list(islice(rows, SAMPLE_ROWS))
            widths = [
                min(MAX_WIDTH, max(MIN_WIDTH, width(name), *(width(r[i]) for r in sample)) + 2)
                for i, name in enumerate(sheet.columns)
            ]
            pending = _Peeked(chain(sample, rows))
            while True:
                tab = book.create_sheet(sheet_title(sheet.title, taken))
                written += _fill(tab, sheet.columns, widths, pending, max_rows - 1)
                if not pending.more():
                    break
        if not book.worksheets:
            book.create_sheet("sheet")
        if progress:
            progress("saving", 0, 1)
        with ZipFile(out, "w", ZIP_DEFLATED, allowZip64=True) as archive:
            ExcelWriter(book, archive).save()  # Workbook.save, with the archive closed on errors
    except BaseException:
        _discard(book)
        raise
    if progress:
        progress("saving", 1, 1)
    return written


def _discard(book: Workbook) -> None:
    """After a failure, finish each sheet's stream and delete its temporary file now: left
    to the garbage collector, openpyxl would write into closed files (and keep the files
    until the process exits)."""
    for tab in book.worksheets:
        writer = getattr(tab, "_writer", None)
        with suppress(Exception):
            tab.close()
        if writer is not None:
            with suppress(Exception):
                writer.cleanup()


def workbook_bytes(sheets: Iterable[Sheet], *, max_rows: int = MAX_ROWS) -> bytes:
    """The workbook as bytes, for a download button."""
    buffer = io.BytesIO()
    write_rows(buffer, sheets, max_rows=max_rows)
    return buffer.getvalue()


def _fill(
    tab: WriteOnlyWorksheet,
    columns: Sequence[str],
    widths: Sequence[int],
    rows: Iterator[Sequence[Any]],
    limit: int,
) -> int:
    """Header (bold, frozen, with a filter) and up to `limit` rows; return the rows written."""
    for i, w in enumerate(widths, start=1):
        tab.column_dimensions[get_column_letter(i)].width = w
    tab.freeze_panes = "A2"
    bold = Font(bold=True)
    header = []
    for name in columns:
        made = cell(tab, name)
        if made is not None:
            made.font = bold
        header.append(made)
    tab.append(header)
    n = 0
    for row in islice(rows, limit):
        tab.append([cell(tab, value) for value in row])
        n += 1
    if columns:
        tab.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{n + 1}"
    return n


class _Peeked(Iterator[Sequence[Any]]):
    """An iterator that can tell whether another item follows, without losing it."""

    def __init__(self, items: Iterator[Sequence[Any]]) -> None:
        self._items = items
        self._ahead: list[Sequence[Any]] = []

    def more(self) -> bool:
        if not self._ahead:
            self._ahead.extend(islice(self._items, 1))
        return bool(self._ahead)

    def __next__(self) -> Sequence[Any]:
        if self._ahead:
            return self._ahead.pop()
        return next(self._items)
