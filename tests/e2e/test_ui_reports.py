"""The reports page through AppTest: the city's KPIs, the Torch statistics and their
workbook, and the logic checks, for every role and in both languages, compared with what the
services (and so the command line) report."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

import pandas as pd
import pytest
import streamlit as st
from openpyxl import load_workbook
from streamlit.dataframe_util import convert_arrow_bytes_to_pandas_df
from streamlit.testing.v1 import AppTest

from incubator import reports, services
from incubator.store import Database
from tests.e2e.test_ui import OWNER, app_db, open_page, shown, sign_in  # noqa: F401
from tests.e2e.test_ui_downloads import XLSX, downloads, served  # noqa: F401
from ui import charts
from ui.views import reports as view

YEAR = 2024


@pytest.fixture
def report_db(app_db: Database) -> Iterator[Database]:  # noqa: F811
    """test_ui.py's pipeline (JM-0002 graduated in 2024 without a gate: the gates are off)
    with two companies in the incubator at the end of 2024, one with figures for 2024 and one
    without, and a target for 2024."""
    services.admit(
        app_db, "JM-0005", name="钟祥数据科技有限公司", stage="incubator", actor=OWNER,
        at=datetime(2024, 2, 1, tzinfo=UTC), site="钟祥", sector="biomedicine",
    )  # fmt: skip
    services.admit(
        app_db, "JM-0006", name="京山智能装备有限公司", stage="incubator", actor=OWNER,
        at=datetime(2024, 3, 1, tzinfo=UTC), site="京山", sector="biomedicine",
    )  # fmt: skip
    services.record_figures(
        app_db, "JM-0005", year=YEAR, actor=OWNER,
        values={"revenue": 2_500_000, "rd_spend": 300_000, "employees": 12, "ip_valid": 2,
                "tech_contracts": 3, "tech_contract_value": 1_200_000},
    )  # fmt: skip
    services.set_target(app_db, "graduated", 4, year=YEAR, actor=OWNER)
    services.set_target(app_db, "achievements", 2, year=YEAR, actor=OWNER)
    st.cache_data.clear()
    yield app_db


def reports_page(user: str, **query: str) -> AppTest:
    at = open_page(sign_in(user, **query), "reports")
    assert not at.error, [shown(str(e.value)) for e in at.error]
    return at


def pick_year(at: AppTest, year: int = YEAR) -> AppTest:
    at.selectbox(key="report_year").set_value(year).run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def torch_table(at: AppTest) -> pd.DataFrame:
    (table,) = [d for d in at.dataframe if d.key == "torch_table"] or [at.dataframe[0]]
    return table.value


def charts_on(at: AppTest) -> list[dict[str, Any]]:
    return [json.loads(c.proto.spec) for c in at.get("vega_lite_chart")]


def chart_data(at: AppTest) -> list[pd.DataFrame]:
    """Each chart's data (Streamlit sends it beside the spec, as Arrow), one frame a chart."""
    found = []
    for chart in at.get("vega_lite_chart"):
        parts = [chart.proto.data.data] if chart.proto.data.data else []
        parts += [d.data.data for d in chart.proto.datasets]
        found.append(pd.concat([convert_arrow_bytes_to_pandas_df(p) for p in parts]))
    return found


def expected_table(db: Database, site: str | None, lang: str = "en") -> pd.DataFrame:
    return charts.torch_table(services.torch_report(db, YEAR, site=site).to_json(), lang)


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("user", ["admin", "wang", "viewer"])
def test_every_role_reads_the_reports_page_in_both_languages(
    report_db: Database, user: str, lang: str
) -> None:
    at = reports_page(user, lang=lang)
    title = shown(str(at.title[0].value))
    assert title.endswith("Reports" if lang == "en" else "统计报表")
    # The last completed year by default, every site, and every site's figures (a manager
    # of 钟祥 too, as on the command line).
    assert at.selectbox(key="report_year").value == datetime.now(UTC).year - 1
    assert at.selectbox(key="report_site").value is None
    pick_year(at)
    table = torch_table(at)
    pd.testing.assert_frame_equal(table, expected_table(report_db, None, lang))
    assert table.iloc[:, 0].tolist()[-1] == ("Total" if lang == "en" else "合计")
    assert {"京山", "钟祥"} <= set(table.iloc[:, 0])
    # The KPI bullet chart and the trend, with the metrics named in the reader's language.
    bullet, trend = chart_data(at)
    assert charts.metric_label("graduated", lang) in set(bullet["metric_label"])
    assert charts.metric_label("high_tech", lang) in set(trend["metric_label"])
    assert {"layer"} <= set(charts_on(at)[0]) and {"facet"} <= set(charts_on(at)[1])


def test_the_year_and_site_pickers_change_the_figures_as_the_report_does(
    report_db: Database,
) -> None:
    at = reports_page("viewer")
    pick_year(at)
    full = services.torch_report(report_db, YEAR)
    table = torch_table(at)
    total = table.iloc[-1]
    assert total["Incubated companies"] == f"{full.total['incubated']:,}" == "2"
    assert total["Graduated in the year"] == "1"
    assert total["Revenue (yuan)"] == "2,500,000"
    assert total["Share holding IP"] == "50%"
    assert "2024" in [shown(str(s.value)) for s in at.subheader][1]

    at.selectbox(key="report_site").set_value("京山").run()
    assert not at.exception
    table = torch_table(at)
    assert table.iloc[:, 0].tolist() == ["京山", "Total"]
    pd.testing.assert_frame_equal(table, expected_table(report_db, "京山"))
    assert table.iloc[-1]["Incubated companies"] == "1"
    assert table.iloc[-1]["Revenue (yuan)"] == "0"

    # Another year: 2023 had no company in the incubator at its end.
    pick_year(at, 2023)
    table = torch_table(at)
    assert table.iloc[-1]["Incubated companies"] == "0"
    assert table.iloc[-1]["Share holding IP"] == "—"


def test_the_pickers_are_kept_in_the_address(report_db: Database) -> None:
    at = reports_page("viewer", report_year="2024", report_site="钟祥")
    assert at.selectbox(key="report_year").value == YEAR
    assert at.selectbox(key="report_site").value == "钟祥"
    pd.testing.assert_frame_equal(torch_table(at), expected_table(report_db, "钟祥"))


def test_the_workbook_download_is_the_command_lines_workbook(
    report_db: Database,
    downloads: dict[str, dict[str, Any]],  # noqa: F811
) -> None:
    at = pick_year(reports_page("wang"))
    file_name, mime, data = served(at, "torch_download", downloads)
    assert (file_name, mime) == (f"torch-{YEAR}.xlsx", XLSX)
    doc = services.torch_report(report_db, YEAR).to_json()
    book = load_workbook(io.BytesIO(data))
    assert book.sheetnames == list(reports.SHEET_TITLES)
    summary = list(book[reports.SHEET_TITLES[0]].iter_rows(values_only=True))
    header, *rows = summary
    assert header[0] == "站点 Site"
    total = dict(zip(reports.SUMMARY_COLUMNS, rows[-1], strict=True))
    assert total["site"] == reports.TOTAL_LABEL
    for indicator in reports.INDICATORS:
        expected = doc["total"][indicator]
        if expected is not None and indicator in reports.WORKBOOK_MONEY:
            expected /= 1000  # 千元
        assert total[indicator] == pytest.approx(expected), indicator
    assert total["revenue"] == 2_500  # thousand yuan
    # The same workbook the command line writes for that report.
    out = io.BytesIO()
    reports.write_torch_workbook(services.torch_report(report_db, YEAR), out)
    cli = load_workbook(out)
    for title in reports.SHEET_TITLES:
        assert list(book[title].iter_rows(values_only=True)) == list(
            cli[title].iter_rows(values_only=True)
        ), title

    at.selectbox(key="report_site").set_value("钟祥").run()
    file_name, _, _ = served(at, "torch_download", downloads)
    assert file_name == f"torch-{YEAR}-钟祥.xlsx"


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_each_check_names_the_company_and_field_and_links_to_its_page(
    report_db: Database, lang: str
) -> None:
    at = pick_year(reports_page("wang", lang=lang))
    checks = services.torch_report(report_db, YEAR).checks
    assert {(c.check, c.key) for c in checks} >= {
        ("missing_figures", "JM-0006"),
        ("graduated_without_gate", "JM-0002"),
    }
    links = {
        link.proto.query_string: shown(link.proto.label)
        for link in at.get("page_link")
        if link.proto.page == "company"
    }
    assert set(links) == {f"company={c.key}" for c in checks}
    missing = links["company=JM-0006"]
    assert "京山智能装备有限公司" in missing and "JM-0006" in missing
    if lang == "zh":
        assert "年度数据" in missing and "缺少 2024 年度数据" in missing
        assert "毕业门槛" in links["company=JM-0002"]
    else:
        assert "Annual figures" in missing and "no annual figures for 2024" in missing
        assert "Graduation gate" in links["company=JM-0002"]
    # The keys of the companies without figures, ready to copy.
    (keys,) = [c for c in at.code if "JM-0006" in str(c.value)]
    assert str(keys.value).splitlines() == ["JM-0006"]


def test_a_check_link_opens_the_company(report_db: Database) -> None:
    """What the link does in a browser: the company page with the link's query."""
    at = pick_year(reports_page("viewer"))
    (link,) = [k for k in at.get("page_link") if "JM-0006" in k.proto.query_string]
    at.query_params.update(parse_qsl(link.proto.query_string))
    at.switch_page(f"app_pages/{link.proto.page}.py").run()
    assert [shown(str(h.value)) for h in at.header] == ["京山智能装备有限公司"]


def test_the_kpis_against_their_targets(report_db: Database) -> None:
    at = pick_year(reports_page("viewer"))
    doc = services.kpi(report_db, YEAR)
    rows = {r["metric"]: r for r in doc["rows"]}
    assert rows["graduated"] == {"metric": "graduated", "target": 4, "actual": 1}
    assert rows["achievements"]["actual"] == 3
    bullet, trend = chart_data(at)
    labels = dict(zip(bullet["metric"], bullet["text"], strict=True))
    assert labels["graduated"] == "1 of 4 (25%)"
    assert labels["achievements"] == "3 of 2 (150%)"
    assert labels["high_tech"] == "0 · no target"
    # The trend: the picked year and the four before it, the targets where set.
    assert sorted(set(trend["year_text"])) == [str(y) for y in range(YEAR - 4, YEAR + 1)]
    targets = trend[trend["series"] == "target"]
    rows = zip(targets["metric"], targets["year_text"], targets["shown"], strict=True)
    assert sorted(rows) == [
        ("achievements", "2024", 2),
        ("graduated", "2024", 4),
    ]


def test_a_year_without_targets_says_so(report_db: Database) -> None:
    at = reports_page("viewer")
    pick_year(at, 2023)
    assert any("No targets are set for 2023" in shown(str(i.value)) for i in at.info)
    assert not at.get("page_link") or all(
        link.proto.page != "company" for link in at.get("page_link")
    )
    assert any("No findings for 2023" in shown(str(s.value)) for s in at.success)


def test_workbook_names_keep_only_a_sites_letters() -> None:
    report = services.TorchReport(2025, "钟祥/../x", [], {}, [], [], [])
    assert view.workbook_name(report) == "torch-2025-钟祥x.xlsx"


@pytest.mark.parametrize(
    "query", [{"report_year": "1800"}, {"report_year": "x"}, {"report_site": "nowhere"}]
)
def test_a_bad_year_or_site_in_the_address_falls_back_to_the_defaults(
    report_db: Database, query: dict[str, str]
) -> None:
    at = reports_page("viewer", **query)
    assert at.selectbox(key="report_year").value == datetime.now(UTC).year - 1
    assert at.selectbox(key="report_site").value is None
    assert torch_table(at).iloc[-1, 0] == "Total"
