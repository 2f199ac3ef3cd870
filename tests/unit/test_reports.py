"""The pure half of the Torch statistics (incubator/reports.py): indicators and checks from
plain rows, the stay limits from the stuck-list setting, the workbook's headers."""

from __future__ import annotations

import json

from incubator import reports
from incubator.reports import Basis, Incubated, Limits

END_2024 = reports.micros(reports.year_window(2024)[1])
DAY_US = reports.US_PER_DAY


def company(cid: int, site: str, days: int, sector: str = "organic food") -> Incubated:
    return Incubated(cid, f"K-{cid}", f"公司{cid}", site, sector, None, END_2024 - days * DAY_US)


def basis(**given: object) -> Basis:
    values: dict[str, object] = {
        "year": 2024, "sites": ["钟祥", "京山"], "spell_counts": {}, "incubated": [],
        "qualifications": {}, "financing": {}, "figures": {}, "graduations": [],
        "site_figures": {},
    }  # fmt: skip
    values.update(given)
    return Basis(**values)  # type: ignore[arg-type]


def test_every_listed_site_has_a_row_and_a_company_without_site_adds_one() -> None:
    report = reports.compute(basis(incubated=[company(1, "", 10), company(2, "钟祥", 10)],
                                   figures={1: {"revenue": 5, "employees": 1},
                                            2: {"revenue": 7, "employees": 2}}))  # fmt: skip
    assert [r["site"] for r in report.sites] == ["钟祥", "京山", ""]
    assert report.total["incubated"] == 2 and report.total["revenue"] == 12
    assert report.sites[1]["incubated"] == 0 and report.sites[1]["share_financed"] is None


def test_the_stay_limit_is_the_stuck_lists_incubator_limit_by_sector() -> None:
    limits = Limits.from_setting(json.dumps({"limits": {"incubator": 12},
                                             "sector_limits": {"biomedicine": {"incubator": 24}}}))  # fmt: skip
    assert limits.months == 12 and limits.sector_months == {"biomedicine": 24}
    over = [
        company(1, "钟祥", 400),
        company(2, "钟祥", 400, "biomedicine"),
        company(3, "钟祥", 300),
    ]
    report = reports.compute(basis(incubated=over, limits=limits))
    assert report.total["overstayed"] == 1
    assert [c.key for c in report.checks if c.check == "overstayed"] == ["K-1"]
    assert Limits.from_setting(None) == Limits() and Limits().limit_us("biomedicine") == round(
        60 * reports.DAYS_PER_MONTH * DAY_US
    )
    assert Limits.from_setting("not json") == Limits()
    assert Limits.from_setting('{"limits": {}}').limit_us("x") is None  # no incubator limit


def test_missing_figures_and_missing_fields_are_checks_naming_the_field() -> None:
    report = reports.compute(basis(incubated=[company(1, "钟祥", 10), company(2, "钟祥", 10)],
                                   figures={2: {"revenue": 5}}))  # fmt: skip
    assert {(c.key, c.check, c.field) for c in report.checks} == {
        ("K-1", "missing_figures", "figures"), ("K-2", "missing_figure", "employees"),
    }  # fmt: skip
    zh = [c.message.render("zh") for c in report.checks]
    assert "K-1：缺少 2024 年度数据（年度数据）" in zh and "K-2：2024 年度数据缺少 从业人员" in zh


def test_workbook_headers_are_chinese_and_english_with_money_in_thousands() -> None:
    assert reports.header("incubated") == "在孵企业数 Incubated companies"
    assert reports.header("revenue") == "总收入（千元） Revenue (thousand yuan)"
    assert set(reports.SUMMARY_COLUMNS) <= set(reports.LABELS)
    assert set(reports.INCUBATED_COLUMNS) <= set(reports.LABELS)
