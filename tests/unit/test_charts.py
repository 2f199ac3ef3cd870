"""The chart builders: frames with the right rows and values, specs with the right encodings.

No Streamlit and no database: the builders take aggregated metrics documents (the shape
`incubator.metrics` returns) and give pandas frames and Altair charts.
"""

from __future__ import annotations

import colorsys
import itertools
import math
from datetime import UTC, datetime, timedelta
from typing import Any

import altair as alt
import pandas as pd
import pytest

from incubator import metrics
from incubator.evidence import AnnualFigures
from incubator.stages import LADDER, TRANSITIONS, ExitReason, Stage
from ui import charts
from ui.charts import MAX_CHART_ROWS, TooManyRows

FUNNEL = {
    "as_of": "2026-11-01T00:00:00+00:00",
    "stages": [
        {"stage": "seed", "entered": 200, "advanced": 70, "exited": 110, "current": 20,
         "conversion": 0.35},
        {"stage": "nursery", "entered": 100, "advanced": 50, "exited": 40, "current": 10,
         "conversion": 0.5},
        {"stage": "incubator", "entered": 80, "advanced": 20, "exited": 30, "current": 30,
         "conversion": 0.25},
        {"stage": "accelerator", "entered": 0, "advanced": 0, "exited": 0, "current": 0,
         "conversion": None},
        {"stage": "industrial_park", "entered": 10, "advanced": 0, "exited": 1, "current": 9,
         "conversion": None},
    ],
}  # fmt: skip

THROUGHPUT = {
    "by": "quarter",
    "rows": [
        {"period": "2024-Q2", "stage": "nursery", "entered": 3},
        {"period": "2024-Q1", "stage": "nursery", "entered": 2},
        {"period": "2024-Q1", "stage": "seed", "entered": 5},
        {"period": "2024-Q2", "stage": "accelerator", "entered": 0},
    ],
    "exits": [
        {"period": "2024-Q2", "reason": "listed", "n": 1},
        {"period": "2024-Q2", "reason": "failed", "n": 4},
    ],
}

QUANTILES = [
    {"stage": "seed", "completed": 4, "min_days": 10.0, "q1_days": 20.0, "median_days": 30.0,
     "q3_days": 40.0, "p90_days": 55.0, "max_days": 60.0, "open": 2,
     "open_median_days": 12.5, "km_median_days": 31.0},
    {"stage": "nursery", "completed": 0, "min_days": None, "q1_days": None,
     "median_days": None, "q3_days": None, "p90_days": None, "max_days": None, "open": 3,
     "open_median_days": 100.0, "km_median_days": None},
]  # fmt: skip


def spec(chart: alt.TopLevelMixin) -> dict[str, Any]:
    return chart.to_dict()


def layers(chart: alt.TopLevelMixin) -> list[dict[str, Any]]:
    doc = spec(chart)
    return doc.get("layer", [doc])


def data_rows(chart: alt.TopLevelMixin) -> int:
    """The largest number of rows any dataset of the chart's spec carries."""
    return max((len(v) for v in spec(chart).get("datasets", {}).values()), default=0)


# --- funnel --------------------------------------------------------------------------------


def test_funnel_frame_has_one_row_per_stage_in_ladder_order() -> None:
    frame = charts.funnel_frame(FUNNEL)
    assert list(frame["stage"]) == [s.value for s in LADDER]
    seed = frame.iloc[0]
    assert (seed.entered, seed.advanced, seed.exited, seed.current) == (200, 70, 110, 20)
    assert seed.conversion == pytest.approx(0.35)
    assert seed.drop_off == pytest.approx(110 / 200)


def test_funnel_frame_leaves_conversion_and_drop_off_undefined_for_empty_stages() -> None:
    frame = charts.funnel_frame(FUNNEL).set_index("stage")
    assert math.isnan(frame.loc["accelerator", "conversion"])
    assert math.isnan(frame.loc["accelerator", "drop_off"])
    assert math.isnan(frame.loc["industrial_park", "conversion"])
    assert frame.loc["industrial_park", "drop_off"] == pytest.approx(0.1)


def test_funnel_frame_fills_missing_stages_with_zeros() -> None:
    frame = charts.funnel_frame({"stages": [FUNNEL["stages"][0]]})
    assert len(frame) == len(LADDER)
    assert frame["entered"].tolist() == [200, 0, 0, 0, 0]


def test_funnel_chart_stacks_outcomes_per_stage() -> None:
    bars, text = layers(charts.funnel_chart(charts.funnel_frame(FUNNEL), "en"))
    encoding = bars["encoding"]
    assert bars["mark"]["type"] == "bar"
    assert encoding["x"]["field"] == "n" and encoding["x"]["stack"] == "zero"
    assert encoding["y"]["field"] == "stage_label"
    assert encoding["y"]["sort"] == [s.label_en for s in LADDER]
    # Each stage in its own colour; the outcomes told apart by how solid it is.
    assert encoding["color"]["field"] == "stage_label"
    assert encoding["opacity"]["scale"]["domain"] == ["Moved on", "Still in stage", "Exited"]
    assert encoding["opacity"]["scale"]["range"] == [1.0, 0.5, 0.2]
    assert text["mark"]["type"] == "text" and text["encoding"]["text"]["field"] == "text"


def test_funnel_labels_start_at_the_left_edge_and_never_run_past_the_plot() -> None:
    # The labels used to sit right of each bar, in a domain stretched by 1.65: at 1,400 px the
    # longest ("195 entered · 34% on · 59% out", "进入 195 · 晋级 34% · 流失 59%") was cut.
    for lang in ("en", "zh"):
        bars, text = layers(charts.funnel_chart(charts.funnel_frame(FUNNEL), lang))
        assert text["encoding"]["x"] == {"value": 0}  # pixel 0 of the plot, whatever the data
        assert text["mark"]["align"] == "left"
        assert text["mark"]["limit"] == {"expr": "width"}  # at most as wide as the plot
        assert text["mark"]["baseline"] == "bottom" and text["mark"]["dy"] < 0  # above the bar
        assert "domain" not in bars["encoding"]["x"].get("scale", {})  # bars use the full width


def test_funnel_chart_labels_show_conversion_and_drop_off() -> None:
    chart = charts.funnel_chart(charts.funnel_frame(FUNNEL), "en")
    texts = [
        row["text"] for rows in spec(chart)["datasets"].values() for row in rows if "text" in row
    ]
    assert "200 entered · 35% on · 55% out" in texts
    assert "10 entered · 10% out" in texts  # the top of the ladder has no conversion
    assert "0 entered · — on · — out" in texts


def test_funnel_chart_follows_the_language() -> None:
    doc = spec(charts.funnel_chart(charts.funnel_frame(FUNNEL), "zh"))
    assert doc["title"]["text"] == "漏斗：各阶段入驻企业的去向"
    assert doc["layer"][0]["encoding"]["y"]["sort"] == [s.label_zh for s in LADDER]
    assert doc["layer"][0]["encoding"]["opacity"]["scale"]["domain"] == [
        "已晋级",
        "仍在本阶段",
        "已退出",
    ]


def test_funnel_table_translates_headers_and_formats_rates() -> None:
    table = charts.funnel_table(charts.funnel_frame(FUNNEL), "zh")
    assert list(table.columns)[:2] == ["阶段", "进入"]
    assert table.iloc[0]["转化率"] == "35%"
    assert table.iloc[3]["转化率"] == "—"


def test_funnel_table_groups_counts_by_thousands() -> None:
    big = {"stages": [{"stage": "seed", "entered": 1234567, "advanced": 612000, "exited": 999,
                       "current": 0, "conversion": 0.5}]}  # fmt: skip
    table = charts.funnel_table(charts.funnel_frame(big), "en")
    assert table.iloc[0][1:4].tolist() == ["1,234,567", "612,000", "999"]


# --- throughput and exits ------------------------------------------------------------------


def test_throughput_frame_is_sorted_by_period_then_ladder_and_drops_zeros() -> None:
    frame = charts.throughput_frame(THROUGHPUT)
    assert frame[["period", "stage", "entered"]].values.tolist() == [
        ["2024-Q1", "seed", 5],
        ["2024-Q1", "nursery", 2],
        ["2024-Q2", "nursery", 3],
    ]


def test_exits_frame_is_sorted_by_period_then_reason_order() -> None:
    frame = charts.exits_frame(THROUGHPUT)
    assert frame[["reason", "n"]].values.tolist() == [["failed", 4], ["listed", 1]]


def test_throughput_chart_stacks_entries_per_period_coloured_by_stage() -> None:
    (layer,) = layers(charts.throughput_chart(charts.throughput_frame(THROUGHPUT), "quarter"))
    encoding = layer["encoding"]
    assert encoding["x"]["field"] == "period" and encoding["x"]["type"] == "ordinal"
    assert encoding["x"]["title"] == "Quarter"
    assert encoding["y"]["field"] == "entered"
    assert encoding["color"]["field"] == "stage_label"
    assert encoding["color"]["scale"]["domain"] == [s.label_en for s in LADDER]
    assert (
        spec(charts.throughput_chart(charts.throughput_frame(THROUGHPUT), "month", "zh"))["title"][
            "text"
        ]
        == "各阶段进入量趋势"
    )


def test_exits_chart_colours_by_reason_in_both_languages() -> None:
    chart = charts.exits_chart(charts.exits_frame(THROUGHPUT), "year", "zh")
    (layer,) = layers(chart)
    assert layer["encoding"]["color"]["scale"]["domain"] == [r.label("zh") for r in ExitReason]
    assert layer["encoding"]["x"]["title"] == "年"
    assert spec(chart)["title"]["text"] == "按原因统计的退出"


@pytest.mark.parametrize(
    ("periods", "by", "domain"),
    [
        (["2024-11", "2025-02"], "month", ["2024-11", "2024-12", "2025-01", "2025-02"]),
        (["2024-Q4", "2024-Q2"], "quarter", ["2024-Q2", "2024-Q3", "2024-Q4"]),
        (["2019", "2021"], "year", ["2019", "2020", "2021"]),
        ([], "month", []),
    ],
)
def test_the_period_axis_keeps_empty_periods_in_place(
    periods: list[str], by: str, domain: list[str]
) -> None:
    assert charts.period_domain(periods, by) == domain


def test_the_throughput_axis_domain_spans_the_gap() -> None:
    (layer,) = layers(charts.throughput_chart(charts.throughput_frame(THROUGHPUT), "quarter"))
    assert layer["encoding"]["x"]["scale"]["domain"] == ["2024-Q1", "2024-Q2"]


def test_entries_and_exits_share_one_time_axis() -> None:
    # Entries from 2024-Q1, exits only from 2024-Q3: drawn side by side, the two charts
    # started on different periods. Both now span the periods of either.
    doc = {
        "rows": [
            {"period": "2024-Q1", "stage": "seed", "entered": 4},
            {"period": "2024-Q4", "stage": "seed", "entered": 1},
        ],
        "exits": [
            {"period": "2024-Q3", "reason": "failed", "n": 2},
            {"period": "2025-Q1", "reason": "failed", "n": 1},
        ],
    }
    entries, exits = charts.throughput_frame(doc), charts.exits_frame(doc)
    periods = charts.shared_periods(entries, exits)
    (left,) = layers(charts.throughput_chart(entries, "quarter", periods=periods))
    (right,) = layers(charts.exits_chart(exits, "quarter", periods=periods))
    domain = ["2024-Q1", "2024-Q2", "2024-Q3", "2024-Q4", "2025-Q1"]
    assert left["encoding"]["x"]["scale"]["domain"] == domain
    assert right["encoding"]["x"]["scale"]["domain"] == domain


def test_throughput_defaults_to_quarters() -> None:
    assert charts.DEFAULT_PERIOD == "quarter"
    (layer,) = layers(charts.throughput_chart(charts.throughput_frame(THROUGHPUT)))
    assert layer["encoding"]["x"]["title"] == "Quarter"


def test_empty_throughput_gives_empty_frames() -> None:
    assert charts.throughput_frame({"rows": [], "exits": []}).empty
    assert charts.exits_frame({"rows": [], "exits": []}).empty


def test_periods_match_the_metrics_module() -> None:
    assert charts.PERIODS == metrics.PERIODS


# --- the ladder diagram --------------------------------------------------------------------


def test_ladder_dot_draws_every_transition_of_the_machine() -> None:
    dot = charts.ladder_dot("en")
    assert dot.startswith("digraph ladder {") and dot.rstrip().endswith("}")
    for transition in TRANSITIONS:
        assert f'"{transition["source"]}" -> "{transition["dest"]}"' in dot
    assert dot.count("->") == len(TRANSITIONS)


def test_ladder_dot_shows_counts_and_chinese_labels() -> None:
    dot = charts.ladder_dot("zh", {"seed": 1234, "exited": 7})
    assert 'label="种子\\n1,234"' in dot
    assert 'label="退出\\n7"' in dot
    assert 'label="孵化器"' in dot  # no count given: the name alone
    assert 'tooltip="晋级"' in dot
    assert charts.ladder_legend("zh") == "⋯ 入驻 · ━ 晋级 · ╌ 退出"


# --- time in stage -------------------------------------------------------------------------


def test_dwell_frame_has_every_stage_and_nan_for_missing_figures() -> None:
    frame = charts.dwell_frame(QUANTILES).set_index("stage")
    assert list(frame.index) == [s.value for s in LADDER]
    assert frame.loc["seed", "median_days"] == 30.0
    assert frame.loc["nursery", "open"] == 3 and math.isnan(frame.loc["nursery", "q1_days"])
    assert frame.loc["industrial_park", "completed"] == 0


def test_dwell_chart_is_a_box_plot_drawn_from_quantiles() -> None:
    chart = charts.dwell_chart(charts.dwell_frame(QUANTILES), "en")
    whisker, box, median, flat, km = layers(chart)
    assert whisker["mark"]["type"] == "rule"
    assert (whisker["encoding"]["x"]["field"], whisker["encoding"]["x2"]["field"]) == (
        "min_days",
        "max_days",
    )
    assert (box["encoding"]["x"]["field"], box["encoding"]["x2"]["field"]) == (
        "q1_days",
        "q3_days",
    )
    assert median["mark"]["type"] == "tick" and median["encoding"]["x"]["field"] == "median_days"
    assert km["mark"]["shape"] == "diamond" and km["encoding"]["x"]["field"] == "km_median_days"
    assert flat["mark"]["type"] == "tick" and flat["encoding"]["x"]["field"] == "median_days"
    assert data_rows(chart) == 1  # one row per stage with completed stays, never one per spell


def test_a_stage_whose_stays_all_last_as_long_keeps_a_visible_mark() -> None:
    # One completed stay of 390 days: box and whiskers have no width, the white median tick
    # sits on nothing. A tick in the stage's colour marks it.
    one = [
        {"stage": "industrial_park", "completed": 1, "min_days": 390.2, "q1_days": 390.2,
         "median_days": 390.2, "q3_days": 390.2, "p90_days": 390.2, "max_days": 390.2,
         "open": 10, "open_median_days": 824.4, "km_median_days": None},
        *QUANTILES,
    ]  # fmt: skip
    chart = charts.dwell_chart(charts.dwell_frame(one), "en")
    flat = layers(chart)[3]
    rows = spec(chart)["datasets"][flat["data"]["name"]]
    assert [r["stage"] for r in rows] == ["industrial_park"]  # seed's box has a width
    assert flat["encoding"]["color"]["scale"]["range"] == [charts.STAGE_COLORS[s] for s in LADDER]


def test_dwell_table_rounds_days_and_translates() -> None:
    table = charts.dwell_table(charts.dwell_frame(QUANTILES), "zh")
    assert table.iloc[0]["中位数（天）"] == 30
    assert all(str(table[c].dtype) == "Int64" for c in table.columns if "天" in c)  # whole days
    assert table.iloc[1]["进行中停留"] == 3


# --- one company's stays -------------------------------------------------------------------

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def test_timeline_frame_turns_events_into_stays() -> None:
    events = [
        {"effective_at": T0, "to_stage": "seed"},
        {"effective_at": T0 + timedelta(days=30), "to_stage": "nursery"},
        {"effective_at": T0 + timedelta(days=90), "to_stage": "exited"},
    ]
    frame = charts.timeline_frame(events, as_of=T0 + timedelta(days=400))
    assert frame["stage"].tolist() == ["seed", "nursery"]
    assert frame["days"].tolist() == [30.0, 60.0]
    assert not frame["open"].any()


def test_timeline_frame_keeps_the_last_stay_open_until_as_of() -> None:
    events = [{"effective_at": T0, "to_stage": "incubator"}]
    frame = charts.timeline_frame(events, as_of=T0 + timedelta(days=10))
    assert frame["open"].tolist() == [True]
    assert frame["days"].tolist() == [10.0]
    assert frame["end"].iloc[0] == pd.Timestamp(T0 + timedelta(days=10))


def test_timeline_chart_draws_bars_from_entry_to_exit() -> None:
    events = [
        {"effective_at": T0, "to_stage": "seed"},
        {"effective_at": T0 + timedelta(days=30), "to_stage": "nursery"},
    ]
    chart = charts.timeline_chart(charts.timeline_frame(events, T0 + timedelta(days=60)), "zh")
    bars, entries = layers(chart)
    assert bars["mark"]["type"] == "bar"
    assert bars["encoding"]["x"]["field"] == "start_iso"
    assert bars["encoding"]["x2"]["field"] == "end_iso"
    assert bars["encoding"]["y"]["sort"] == [s.label_zh for s in LADDER]
    assert entries["mark"]["type"] == "tick" and entries["encoding"]["x"]["field"] == "start_iso"
    assert spec(chart)["title"]["text"] == "各阶段停留时间线"
    rows = next(iter(spec(chart)["datasets"].values()))
    assert rows[0]["start_iso"] == "2024-01-01T00:00:00+00:00"  # an explicit UTC offset


def test_a_stay_of_no_length_is_drawn_as_a_mark_on_the_timeline() -> None:
    # Admitted into the seed stage and moved to the nursery the same instant: a bar from T0
    # to T0 has no width, so the seed row looked empty.
    events = [
        {"effective_at": T0, "to_stage": "seed"},
        {"effective_at": T0, "to_stage": "nursery"},
    ]
    frame = charts.timeline_frame(events, T0 + timedelta(days=60))
    assert frame["days"].tolist() == [0.0, 60.0]
    chart = charts.timeline_chart(frame, "en")
    _, entries = layers(chart)
    assert entries["mark"]["type"] == "tick"
    assert entries["mark"]["thickness"] > 0 and entries["mark"]["size"] > 0
    rows = next(iter(spec(chart)["datasets"].values()))  # the ticks draw every stay's row
    assert [(r["stage_label"], r["days"]) for r in rows] == [("Seed", 0.0), ("Nursery", 60.0)]
    assert entries["encoding"]["color"]["field"] == "stage_label"


# --- one colour per stage ------------------------------------------------------------------

#: The Okabe–Ito palette (Okabe & Ito, "Color Universal Design", 2008), safe for colour-blind
#: readers.
OKABE_ITO = {"#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7"}


def stage_scales(lang: str) -> dict[str, dict[str, Any]]:
    """The stage colour scale of every chart that colours by stage."""
    quarter = {"rows": [{"period": "2024-Q1", "stage": s.value, "entered": 1} for s in LADDER]}
    events = [{"effective_at": T0, "to_stage": "seed"}]
    timeline = charts.timeline_chart(charts.timeline_frame(events, T0 + timedelta(days=9)), lang)
    return {
        "funnel": layers(charts.funnel_chart(charts.funnel_frame(FUNNEL), lang))[0],
        "throughput": layers(charts.throughput_chart(charts.throughput_frame(quarter), lang=lang))[
            0
        ],
        "dwell": layers(charts.dwell_chart(charts.dwell_frame(QUANTILES), lang))[1],
        "timeline": layers(timeline)[0],
    }


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_chart_colours_the_stages_with_the_same_scale(lang: str) -> None:
    expected = {
        "field": "stage_label",
        "domain": [s.label(lang) for s in LADDER],
        "range": [charts.STAGE_COLORS[s] for s in LADDER],
    }
    for name, layer in stage_scales(lang).items():
        color = layer["encoding"]["color"]
        assert {
            "field": color["field"],
            "domain": color["scale"]["domain"],
            "range": color["scale"]["range"],
        } == expected, name


def test_the_ladder_diagram_fills_each_stage_with_its_chart_colour() -> None:
    dot = charts.ladder_dot("en")
    for stage in (*LADDER, Stage.EXITED):
        colour = charts.STAGE_COLORS[stage]
        assert f'"{stage.value}" [label="{stage.label_en}", fillcolor="{colour}"' in dot
        assert f'fontcolor="{charts.text_color(colour)}"' in dot


def test_the_stage_colours_are_colour_blind_safe_and_far_apart() -> None:
    ladder = [charts.STAGE_COLORS[s] for s in LADDER]
    assert set(ladder) <= OKABE_ITO
    # No two stages share a hue unless their lightness differs clearly (the old palette had
    # three greens: #a5d6a7, #66bb6a, #26a69a).
    for a, b in itertools.combinations(ladder, 2):
        (ha, la, _), (hb, lb, _) = (
            colorsys.rgb_to_hls(*(int(c[i : i + 2], 16) / 255 for i in (1, 3, 5))) for c in (a, b)
        )
        hue_gap = min(abs(ha - hb), 1 - abs(ha - hb)) * 360
        assert hue_gap >= 30 or abs(la - lb) >= 0.2, (a, b)


def test_stage_names_on_a_stage_colour_are_black_or_white_whichever_reads_better() -> None:
    assert charts.text_color("#0072B2") == "#ffffff"  # blue
    assert charts.text_color("#E69F00") == "#000000"  # orange
    assert charts.text_color("#009E73") == "#000000"  # bluish green


# --- size limits ---------------------------------------------------------------------------


def test_a_chart_refuses_more_than_the_row_limit() -> None:
    rows = [
        {"period": f"{1000 + i // 12:04d}-{i % 12 + 1:02d}", "stage": "seed", "entered": 1}
        for i in range(MAX_CHART_ROWS + 1)
    ]
    frame = charts.throughput_frame({"rows": rows, "exits": []})
    with pytest.raises(TooManyRows, match="at most 5000"):
        charts.throughput_chart(frame)


def test_a_realistic_monthly_history_stays_far_below_the_limit() -> None:
    # Eight years of months, five stages, six reasons: what the funnel page draws at most.
    months = [f"{y}-{m:02d}" for y in range(2019, 2027) for m in range(1, 13)]
    doc = {
        "rows": [{"period": p, "stage": s.value, "entered": 3} for p in months for s in LADDER],
        "exits": [{"period": p, "reason": r.value, "n": 1} for p in months for r in ExitReason],
    }
    for chart in (
        charts.throughput_chart(charts.throughput_frame(doc)),
        charts.exits_chart(charts.exits_frame(doc)),
        charts.funnel_chart(charts.funnel_frame(FUNNEL)),
        charts.dwell_chart(charts.dwell_frame(QUANTILES)),
    ):
        assert data_rows(chart) <= MAX_CHART_ROWS


# --- one company's annual figures ----------------------------------------------------------


def test_figures_frame_has_a_row_per_year_and_charted_figure_given() -> None:
    figures = [
        AnnualFigures(2025, {"revenue": 12_000_000, "employees": 48}),
        AnnualFigures(2023, {"revenue": 8_000_000, "rd_spend": 500_000}),
        AnnualFigures(2024, {"employees": 40}),  # nothing charted that year
    ]
    frame = charts.figures_frame(figures)
    assert frame.values.tolist() == [
        [2023, "revenue", 8_000_000],
        [2023, "rd_spend", 500_000],
        [2025, "revenue", 12_000_000],
    ]
    assert charts.figures_frame([]).empty


@pytest.mark.parametrize(
    ("lang", "title", "names"),
    [
        ("en", "Revenue and R&D spend (yuan)", ["Revenue", "R&D spend"]),
        ("zh", "营业收入与研发投入（元）", ["营业收入", "研发投入"]),
    ],
)
def test_figures_chart_draws_revenue_and_rd_spend_over_the_years(
    lang: str, title: str, names: list[str]
) -> None:
    frame = charts.figures_frame(
        [AnnualFigures(2024, {"revenue": 9, "rd_spend": 1}), AnnualFigures(2025, {"revenue": 12})]
    )
    chart = charts.figures_chart(frame, lang)
    (line,) = layers(chart)
    assert line["mark"]["type"] == "line" and line["mark"]["point"]
    assert line["encoding"]["x"]["field"] == "year_text"  # 2025, not 2,025
    assert line["encoding"]["y"]["field"] == "value"
    assert line["encoding"]["color"]["scale"]["domain"] == names
    assert spec(chart)["title"]["text"] == title
    rows = next(iter(spec(chart)["datasets"].values()))
    assert [(r["year_text"], r["measure_label"], r["value"]) for r in rows] == [
        ("2024", names[0], 9),
        ("2024", names[1], 1),
        ("2025", names[0], 12),
    ]


def test_the_figures_chart_refuses_more_than_the_row_limit() -> None:
    frame = pd.DataFrame({"year": range(MAX_CHART_ROWS + 1), "measure": "revenue", "value": 1})
    with pytest.raises(TooManyRows):
        charts.figures_chart(frame)
