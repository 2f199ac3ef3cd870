"""The reports page's builders: the KPI frames and charts, money for a reader, the Torch
table. No Streamlit and no database: they take the documents `kpi` and `TorchReport.to_json`
return."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
import pytest

from incubator import reports
from ui import charts
from ui.charts import MAX_CHART_ROWS, TooManyRows

KPI = {
    "year": 2025,
    "rows": [
        {"metric": "high_tech", "target": 360, "actual": 90},
        {"metric": "tech_sme", "target": 450, "actual": 1_350},
        {"metric": "hidden_champion", "target": None, "actual": 4},
        {"metric": "tech_contract_value", "target": 3_500_000_000, "actual": 17_155_000},
        {"metric": "graduated", "target": 0, "actual": 2},
    ],
}


def kpi_of(year: int, graduated: int, target: int | None) -> dict[str, Any]:
    return {
        "year": year,
        "rows": [
            {"metric": "graduated", "target": target, "actual": graduated},
            {"metric": "tech_contract_value", "target": None, "actual": 250_000_000},
        ],
    }


def spec(chart: Any) -> dict[str, Any]:
    return chart.to_dict()


def dataset(chart: Any) -> list[dict[str, Any]]:
    (rows,) = spec(chart)["datasets"].values()
    return rows


# --- KPIs ----------------------------------------------------------------------------------


def test_the_kpi_frame_keeps_the_order_and_the_share_of_each_target() -> None:
    frame = charts.kpi_frame(KPI)
    assert frame["metric"].tolist() == [r["metric"] for r in KPI["rows"]]
    assert frame["order"].tolist() == [0, 1, 2, 3, 4]
    assert frame["progress"].iloc[0] == 0.25
    assert frame["progress"].iloc[1] == 3.0
    assert math.isnan(frame["target"].iloc[2]) and math.isnan(frame["progress"].iloc[2])
    assert math.isnan(frame["progress"].iloc[4])  # a target of 0: no share


def test_money_reads_in_millions_or_yi_and_counts_with_separators() -> None:
    assert charts.yuan_text(3_500_000_000, "en") == "3,500.0 million yuan"
    assert charts.yuan_text(3_500_000_000, "zh") == "35.00 亿元"
    assert charts.yuan_text(17_155_000, "zh") == "1,715.5 万元"
    assert charts.yuan_text(12_500, "en") == "12.5 thousand yuan"
    assert charts.yuan_text(800, "zh") == "800 元"
    assert charts.yuan_text(None) == "—"
    assert charts.kpi_value_text("high_tech", 1234) == "1,234"
    assert charts.kpi_value_text("tech_contract_value", 2_000_000) == "2.0 million yuan"


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_metric_has_a_name_in_both_languages(lang: str) -> None:
    names = [charts.metric_label(m, lang) for m in reports.METRICS]
    assert len(set(names)) == len(reports.METRICS)
    assert all(n not in reports.METRICS for n in names)
    if lang == "zh":
        assert charts.metric_label("high_tech", "zh") == "高新技术企业"
    assert charts.metric_label("unknown_metric", lang) == "unknown_metric"


def test_the_bullet_chart_shows_actual_against_target_with_a_label_per_metric() -> None:
    chart = charts.kpi_chart(charts.kpi_frame(KPI), "en")
    rows = {r["metric"]: r for r in dataset(chart)}
    assert rows["high_tech"]["text"] == "90 of 360 (25%)"
    assert rows["high_tech"]["status"] == "short" and rows["high_tech"]["shown"] == 0.25
    # Three times the target: the bar stops at twice it, the label says 300%, it is met.
    assert rows["tech_sme"]["text"] == "1,350 of 450 (300%)"
    assert rows["tech_sme"]["shown"] == charts.KPI_MAX_PROGRESS
    assert rows["tech_sme"]["status"] == "met"
    assert rows["hidden_champion"]["text"] == "4 · no target"
    assert rows["hidden_champion"]["has_target"] is False
    assert rows["tech_contract_value"]["text"] == (
        "17.2 million yuan of 3,500.0 million yuan (0.5%)"
    )
    doc = spec(chart)
    bars = doc["layer"][1]
    assert bars["encoding"]["x"]["axis"]["format"] == ".0%"
    assert bars["encoding"]["color"]["scale"]["range"] == [
        charts.KPI_COLORS["met"],
        charts.KPI_COLORS["short"],
    ]
    assert bars["encoding"]["x"]["scale"]["domain"] == [0, charts.KPI_MAX_PROGRESS]
    target_tick = doc["layer"][2]
    assert target_tick["mark"]["type"] == "tick" and target_tick["encoding"]["x"]["field"] == "one"
    assert doc["title"]["text"] == "Actual against target"


def test_the_bullet_chart_in_chinese() -> None:
    chart = charts.kpi_chart(charts.kpi_frame(KPI), "zh")
    rows = {r["metric"]: r for r in dataset(chart)}
    assert rows["high_tech"]["metric_label"] == "高新技术企业"
    assert rows["high_tech"]["text"] == "90 / 目标 360（25%）"
    assert rows["hidden_champion"]["text"] == "4 · 未设目标"
    assert rows["tech_contract_value"]["text"] == "1,715.5 万元 / 目标 35.00 亿元（0.5%）"
    assert spec(chart)["title"]["text"] == "实际值与目标对比"


def test_without_any_target_the_scale_runs_to_the_target_line() -> None:
    frame = charts.kpi_frame({"year": 2020, "rows": [{"metric": "graduated", "target": None,
                                                      "actual": 3}]})  # fmt: skip
    doc = spec(charts.kpi_chart(frame))
    assert doc["layer"][1]["encoding"]["x"]["scale"]["domain"] == [0, 1.0]


def test_the_kpi_trend_frame_is_long_with_targets_only_where_set() -> None:
    frame = charts.kpi_trend_frame([kpi_of(2025, 3, 4), kpi_of(2024, 1, None)])
    assert frame["year"].tolist() == [2024, 2024, 2025, 2025, 2025]  # oldest first
    assert frame[frame["series"] == "target"][["year", "metric", "value"]].values.tolist() == [
        [2025, "graduated", 4.0]
    ]
    actual = frame[(frame["series"] == "actual") & (frame["metric"] == "graduated")]
    assert actual["value"].tolist() == [1.0, 3.0]


@pytest.mark.parametrize(("lang", "shown", "panel"), [
    ("en", 250.0, "Technology contract value (million yuan)"),
    ("zh", 2.5, "技术合同成交额（亿元）"),
])  # fmt: skip
def test_the_trend_is_small_multiples_with_money_in_large_units(
    lang: str, shown: float, panel: str
) -> None:
    chart = charts.kpi_trend_chart(charts.kpi_trend_frame([kpi_of(2024, 1, 2)]), lang)
    doc = spec(chart)
    assert doc["facet"]["field"] == "metric_label"
    assert doc["resolve"]["scale"]["y"] == "independent"
    assert doc["facet"]["sort"] == [charts.metric_label("graduated", lang), panel]
    line, target = doc["spec"]["layer"]
    assert line["mark"]["type"] == "line" and target["mark"]["shape"] == "diamond"
    assert line["encoding"]["color"]["scale"]["range"] == [
        charts.KPI_COLORS["short"],
        charts.KPI_COLORS["target"],
    ]
    money = [r for r in dataset(chart) if r["metric"] == "tech_contract_value"]
    assert [r["shown"] for r in money] == [shown] and money[0]["metric_label"] == panel


def test_the_kpi_charts_refuse_unaggregated_frames() -> None:
    big = pd.DataFrame(
        {"metric": ["graduated"] * (MAX_CHART_ROWS + 1), "order": 0, "target": 1.0,
         "actual": 1, "progress": 1.0}
    )  # fmt: skip
    with pytest.raises(TooManyRows):
        charts.kpi_chart(big)
    long = pd.DataFrame(
        {"year": 2024, "metric": ["graduated"] * (MAX_CHART_ROWS + 1), "order": 0,
         "series": "actual", "value": 1.0}
    )  # fmt: skip
    with pytest.raises(TooManyRows):
        charts.kpi_trend_chart(long)


# --- the Torch table -------------------------------------------------------------------------


def indicators(**values: Any) -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(reports.INDICATORS, 0)
    for name in (*reports.SHARES, *reports.SITE_FIGURES, reports.DENSITY):
        row[name] = None
    row.update(values)
    return row


TORCH = {
    "year": 2025,
    "sites": [
        {"site": "钟祥", **indicators(incubated=4, high_tech=1, revenue=12_345_678,
                                     share_high_tech=0.25, floor_area_m2=8_000,
                                     incubated_per_1000_m2=0.5)},
        {"site": "", **indicators(incubated=1)},
    ],
    "total": indicators(incubated=5, high_tech=1, revenue=12_345_678, share_high_tech=0.2,
                        floor_area_m2=8_000, incubated_per_1000_m2=0.625),
    "checks": [],
}  # fmt: skip


def test_the_torch_table_has_a_row_per_site_and_the_total_formatted() -> None:
    table = charts.torch_table(TORCH, "en")
    assert list(table.columns)[:3] == ["Site", "Incubated companies", "New in the year"]
    assert len(table.columns) == 1 + len(reports.INDICATORS)
    assert table["Site"].tolist() == ["钟祥", "(no site)", "Total"]
    assert table["Revenue (yuan)"].tolist() == ["12,345,678", "0", "12,345,678"]
    assert table["Share high-tech"].tolist() == ["25%", "—", "20%"]
    assert table["Floor area (m²)"].tolist() == ["8,000", "—", "8,000"]
    assert table["Incubated per 1,000 m²"].tolist() == ["0.5", "—", "0.6"]
    assert table["Incubation fund (yuan)"].tolist() == ["—", "—", "—"]


def test_the_torch_table_in_chinese_takes_the_catalogues_labels() -> None:
    table = charts.torch_table(TORCH, "zh")
    assert list(table.columns)[:2] == ["站点", "在孵企业数"]
    assert "总收入（元）" in table.columns and "高新技术企业占比" in table.columns
    assert table["站点"].tolist() == ["钟祥", "（未指定站点）", "合计"]
    for indicator in reports.INDICATORS:
        assert charts.torch_header(indicator, "zh").startswith(reports.LABELS[indicator][0])


def test_torch_cells() -> None:
    assert charts.torch_cell("incubated", 1234) == "1,234"
    assert charts.torch_cell("share_financed", 0.05) == "5.0%"
    assert charts.torch_cell("share_financed", None) == "—"
    assert charts.torch_cell(reports.DENSITY, 1.25) == "1.2"
    assert charts.torch_cell("incubation_fund", 4_000_000) == "4,000,000"
