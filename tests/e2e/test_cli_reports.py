"""`incubator report torch` (DESIGN §9): the JSON document, the workbook (opened with openpyxl,
its totals equal to the JSON's), and bad input as one-line refusals that write nothing."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from incubator import reports
from tests.e2e.test_cli import cli  # noqa: F401  (fixture)
from tests.e2e.test_cli_sites import refused

Cli = Callable[..., Any]


@pytest.fixture
def demo(cli: Cli) -> Cli:  # noqa: F811
    cli("demo")
    return cli


def test_the_json_lists_every_site_the_total_and_the_checks(demo: Cli) -> None:
    doc = json.loads(demo("report", "torch", "--year", "2025", "--json").stdout)
    assert set(doc) == {"year", "sites", "total", "checks"} and doc["year"] == 2025
    assert [s["site"] for s in doc["sites"]] == ["京山", "沙洋", "钟祥", "高新区"]
    for row in doc["sites"]:
        assert list(row) == ["site", *reports.INDICATORS]
    assert list(doc["total"]) == list(reports.INDICATORS)
    for key in (*reports.COUNTS, *reports.SUMS, "floor_area_m2"):
        assert doc["total"][key] == sum(r[key] for r in doc["sites"]), key
    assert doc["total"]["incubated"] > 0 and doc["total"]["revenue"] > 0
    for check in doc["checks"]:
        assert set(check) == {"check", "key", "name", "site", "field", "message"}
    one = json.loads(demo("report", "torch", "--year", "2025", "--site", "钟祥", "--json").stdout)
    (zx,) = [r for r in doc["sites"] if r["site"] == "钟祥"]
    assert one["sites"] == [zx] and one["total"] == {k: v for k, v in zx.items() if k != "site"}


def test_the_workbook_has_four_sheets_and_its_totals_are_the_jsons(
    demo: Cli, tmp_path: Path
) -> None:
    out = tmp_path / "torch-2025.xlsx"
    doc = json.loads(demo("report", "torch", "--year", "2025", "--json", "--out", str(out)).stdout)
    book = load_workbook(out)
    assert book.sheetnames == list(reports.SHEET_TITLES)
    summary = book[reports.SHEET_TITLES[0]]
    assert summary.freeze_panes == "A2"
    header = [c.value for c in summary[1]]
    assert header[0] == "站点 Site" and "在孵企业数 Incubated companies" in header
    assert "总收入（千元） Revenue (thousand yuan)" in header
    rows = {r[0]: dict(zip(reports.SUMMARY_COLUMNS, r, strict=True))
            for r in summary.iter_rows(min_row=2, values_only=True)}  # fmt: skip
    total = rows[reports.TOTAL_LABEL]
    for key in reports.INDICATORS:
        expected = doc["total"][key]
        if key in reports.WORKBOOK_MONEY and expected is not None:
            assert total[key] * 1000 == pytest.approx(expected), key  # 千元
        else:
            assert total[key] == (pytest.approx(expected) if expected is not None else None), key
    incubated = book[reports.SHEET_TITLES[1]]
    keys = [r[1] for r in incubated.iter_rows(min_row=2, values_only=True)]
    assert len(keys) == doc["total"]["incubated"]
    revenue_col = reports.INCUBATED_COLUMNS.index("revenue")
    revenue = sum(r[revenue_col] or 0 for r in incubated.iter_rows(min_row=2, values_only=True))
    assert revenue * 1000 == pytest.approx(doc["total"]["revenue"])
    since = reports.INCUBATED_COLUMNS.index("since")  # to the minute in UTC, as people read it
    assert [c.value for c in incubated[1]][since] == "入孵时间（UTC） In the incubator since (UTC)"
    assert all(
        re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", r[since])
        for r in incubated.iter_rows(min_row=2, values_only=True)
    )
    graduated = book[reports.SHEET_TITLES[2]]
    assert graduated.max_row - 1 == doc["total"]["graduated"]
    checks = book[reports.SHEET_TITLES[3]]
    assert checks.max_row - 1 == len(doc["checks"])
    for sheet in book.worksheets:
        assert sheet.freeze_panes == "A2"
        assert all(sheet.column_dimensions[c].width >= 8 for c in "ABC")


def test_the_table_shows_each_site_and_the_total(demo: Cli) -> None:
    out = demo("report", "torch", "--year", "2025").stdout
    assert out.startswith("Torch statistics 2025 (at year end)\n")
    for site in ("京山", "沙洋", "钟祥", "高新区", "total"):
        assert site in out
    assert "checks" in out


def test_bad_input_is_refused_in_one_line_and_writes_nothing(demo: Cli, tmp_path: Path) -> None:
    refused(demo("report", "torch", "--year", "1989", ok=False), "year 1989 is out of range")
    refused(demo("report", "torch", "--year", "2999", ok=False), "year 2999 is out of range")
    refused(demo("report", "torch", "--year", "2025", "--site", "宜昌", ok=False),
            "unknown site '宜昌'; known sites: 京山, 沙洋, 钟祥, 高新区")  # fmt: skip
    missing = tmp_path / "nowhere" / "t.xlsx"
    refused(demo("report", "torch", "--year", "2025", "--out", str(missing), ok=False),
            "does not exist")  # fmt: skip
    assert not missing.parent.exists()
    taken = tmp_path / "taken.xlsx"
    taken.write_bytes(b"keep me")
    refused(demo("report", "torch", "--year", "2025", "--out", str(taken), ok=False), "exists")
    assert taken.read_bytes() == b"keep me"
    demo("report", "torch", "--year", "2025", "--out", str(taken), "--force")
    assert load_workbook(taken).sheetnames == list(reports.SHEET_TITLES)
    assert not [p for p in tmp_path.iterdir() if p.suffix == ".part"]  # no temporary file left
