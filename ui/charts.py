"""Pure frame and chart builders: aggregated metrics in, pandas frames and Altair charts out.

Nothing here touches Streamlit or the database. Each `*_frame` turns one aggregated metrics
document (see `incubator.metrics`) into a small DataFrame, each `*_chart` turns such a frame
into an Altair chart, titled and labelled in the page's language. A chart never receives one
row per event: every builder refuses frames longer than `MAX_CHART_ROWS`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import altair as alt
import pandas as pd

from incubator.reports import DENSITY, INDICATORS, LABELS, MONEY, SHARES
from incubator.stages import LADDER, NEW, TRANSITIONS, EventKind, ExitReason, Stage
from ui.i18n import TEXT, percent, reason_label, stage_label, t

#: The most rows any chart may be given (Altair's own default limit is the same).
MAX_CHART_ROWS = 5_000

#: One colour per stage, the same on every chart, the ladder diagram and the board: the
#: Okabe–Ito palette, whose colours stay distinct for colour-blind readers (no two greens).
STAGE_COLORS: dict[str, str] = {
    Stage.SEED: "#E69F00",  # orange
    Stage.NURSERY: "#56B4E9",  # sky blue
    Stage.INCUBATOR: "#009E73",  # bluish green
    Stage.ACCELERATOR: "#0072B2",  # blue
    Stage.INDUSTRIAL_PARK: "#CC79A7",  # reddish purple
    Stage.EXITED: "#9E9E9E",  # grey: out of the ladder
}
REASON_COLORS: dict[str, str] = {
    ExitReason.FAILED: "#e57373",
    ExitReason.WITHDREW: "#ffb74d",
    ExitReason.RELOCATED: "#ba68c8",
    ExitReason.ACQUIRED: "#4fc3f7",
    ExitReason.LISTED: "#43a047",
    ExitReason.OTHER: "#90a4ae",
}
#: The funnel colours each stage's bar in the stage's colour and tells the outcomes apart by
#: how solid the colour is: moved on (solid), still in the stage, exited (faint).
OUTCOME_OPACITY: dict[str, float] = {"advanced": 1.0, "current": 0.5, "exited": 0.2}
OUTCOMES: tuple[str, ...] = ("advanced", "current", "exited")
PERIODS: tuple[str, ...] = ("month", "quarter", "year")
#: The throughput charts' default period: a decade of months is a hundred thin, noisy bars.
DEFAULT_PERIOD = "quarter"

_STAGE_ORDER = {s.value: i for i, s in enumerate(LADDER)}
_REASON_ORDER = {r.value: i for i, r in enumerate(ExitReason)}


class TooManyRows(ValueError):
    """A chart was handed more rows than it may draw: aggregate first."""


def check_rows(frame: pd.DataFrame, what: str) -> pd.DataFrame:
    if len(frame) > MAX_CHART_ROWS:
        raise TooManyRows(
            f"{what}: {len(frame)} rows; a chart takes at most {MAX_CHART_ROWS} aggregated rows"
        )
    return frame


def _stage_labels(lang: str) -> list[str]:
    return [s.label(lang) for s in LADDER]


def _stage_scale(lang: str) -> alt.Scale:
    """The stage colour scale every chart shares (domain: the stage names in `lang`)."""
    return alt.Scale(domain=_stage_labels(lang), range=[STAGE_COLORS[s] for s in LADDER])


def text_color(fill: str) -> str:
    """Black or white, whichever reads better on `fill` (`#rrggbb`), by WCAG contrast."""

    def channel(hex_pair: str) -> float:
        c = int(hex_pair, 16) / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(fill[i : i + 2]) for i in (1, 3, 5))
    luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b
    on_black = (luminance + 0.05) / 0.05
    on_white = 1.05 / (luminance + 0.05)
    return "#000000" if on_black >= on_white else "#ffffff"


def _none_if_nan(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return None if number != number else number


# --- funnel --------------------------------------------------------------------------------

FUNNEL_COLUMNS = [
    "stage",
    "order",
    "entered",
    "advanced",
    "exited",
    "current",
    "conversion",
    "drop_off",
]


def funnel_frame(metrics: Mapping[str, Any]) -> pd.DataFrame:
    """One row per ladder stage, in ladder order: counts, conversion and drop-off.

    `conversion` is the metrics' own (advanced ÷ entered; null for the industrial park or an
    empty stage); `drop_off` is exited ÷ entered (null for an empty stage).
    """
    by_stage = {row["stage"]: row for row in metrics.get("stages", [])}
    rows = []
    for stage in LADDER:
        row = by_stage.get(stage.value, {})
        entered = int(row.get("entered") or 0)
        exited = int(row.get("exited") or 0)
        conversion = row.get("conversion")
        rows.append(
            {
                "stage": stage.value,
                "order": _STAGE_ORDER[stage.value],
                "entered": entered,
                "advanced": int(row.get("advanced") or 0),
                "exited": exited,
                "current": int(row.get("current") or 0),
                "conversion": float("nan") if conversion is None else float(conversion),
                "drop_off": exited / entered if entered else float("nan"),
            }
        )
    return pd.DataFrame(rows, columns=FUNNEL_COLUMNS)


#: The funnel's bar thickness and the room per stage (its label sits above the bar).
FUNNEL_BAR = 20
FUNNEL_STEP = 62


def funnel_chart(frame: pd.DataFrame, lang: str = "en") -> alt.LayerChart:
    """Horizontal bars, one per stage in the stage's colour, split into moved on (solid),
    still there and exited (fainter); each bar's figures are written above it.

    The labels start at the plot's left edge and may be no wider than the plot (`limit`),
    so they never run past the right edge whatever the chart's width or the language.
    """
    check_rows(frame, "funnel")
    labels = {s: stage_label(s, lang) for s in frame["stage"]}
    outcome_names = {o: t(f"funnel.outcome.{o}", lang) for o in OUTCOMES}
    long = frame.melt(
        id_vars=["stage", "order", "entered"],
        value_vars=list(OUTCOMES),
        var_name="outcome",
        value_name="n",
    )
    long["stage_label"] = long["stage"].map(labels)
    long["outcome_label"] = long["outcome"].map(outcome_names)
    long["outcome_order"] = long["outcome"].map({o: i for i, o in enumerate(OUTCOMES)})
    long["share"] = [
        n / entered if entered else 0.0
        for n, entered in zip(long["n"], long["entered"], strict=True)
    ]
    stage_axis = alt.Y(
        "stage_label:N",
        sort=[labels[s] for s in frame["stage"]],
        title=None,
        # The stage's name lines up with its bar, which sits below the band's middle.
        axis=alt.Axis(
            labelFontSize=13, labelLimit=200, labelOffset=FUNNEL_BAR / 2 - 2, ticks=False
        ),
    )
    bars = (
        alt.Chart(long)
        .mark_bar(size=FUNNEL_BAR, stroke="white", strokeWidth=1, yOffset=FUNNEL_BAR / 2 - 2)
        .encode(
            y=stage_axis,
            x=alt.X(
                "n:Q",
                stack="zero",
                title=t("common.companies", lang),
                axis=alt.Axis(format=",d", tickMinStep=1),
            ),
            color=alt.Color("stage_label:N", scale=_stage_scale(lang), legend=None),
            opacity=alt.Opacity(
                "outcome_label:N",
                scale=alt.Scale(
                    domain=[outcome_names[o] for o in OUTCOMES],
                    range=[OUTCOME_OPACITY[o] for o in OUTCOMES],
                ),
                legend=alt.Legend(
                    title=None,
                    orient="bottom",
                    symbolType="square",
                    symbolFillColor="#455a64",
                    symbolStrokeColor="#455a64",
                    symbolSize=140,
                ),
            ),
            order=alt.Order("outcome_order:Q"),
            tooltip=[
                alt.Tooltip("stage_label:N", title=t("common.stage", lang)),
                alt.Tooltip("outcome_label:N", title=" "),
                alt.Tooltip("n:Q", title=t("common.companies", lang), format=","),
                alt.Tooltip("share:Q", title="%", format=".0%"),
            ],
        )
    )
    text_frame = frame.assign(
        stage_label=frame["stage"].map(labels),
        text=[_funnel_text(row, lang) for row in frame.to_dict("records")],
    )
    text = (
        alt.Chart(text_frame)
        .mark_text(
            align="left",
            baseline="bottom",
            dy=-4,
            fontSize=12,
            color="#37474f",
            limit=alt.ExprRef("width"),
        )
        .encode(y=stage_axis, x=alt.value(0), text="text:N")
    )
    return (bars + text).properties(
        title=alt.Title(t("funnel.chart_title", lang), anchor="start"),
        height=alt.Step(FUNNEL_STEP),
    )


def _funnel_text(row: Mapping[str, Any], lang: str) -> str:
    conversion = _none_if_nan(row["conversion"])
    drop_off = _none_if_nan(row["drop_off"])
    if row["stage"] == Stage.INDUSTRIAL_PARK:
        return t(
            "funnel.bar_label_top",
            lang,
            entered=f"{row['entered']:,}",
            drop_off=percent(drop_off, lang),
        )
    return t(
        "funnel.bar_label",
        lang,
        entered=f"{row['entered']:,}",
        conversion=percent(conversion, lang),
        drop_off=percent(drop_off, lang),
    )


def funnel_table(frame: pd.DataFrame, lang: str = "en") -> pd.DataFrame:
    """The funnel frame with translated headers, for `st.dataframe`: counts grouped by
    thousands (612,000) and rates in percent, as text."""
    return pd.DataFrame(
        {
            t("common.stage", lang): [stage_label(s, lang) for s in frame["stage"]],
            t("funnel.entered", lang): [f"{int(v):,}" for v in frame["entered"]],
            t("funnel.advanced", lang): [f"{int(v):,}" for v in frame["advanced"]],
            t("funnel.exited", lang): [f"{int(v):,}" for v in frame["exited"]],
            t("funnel.conversion", lang): [percent(_none_if_nan(v)) for v in frame["conversion"]],
            t("funnel.drop_off", lang): [percent(_none_if_nan(v)) for v in frame["drop_off"]],
        }
    )


# --- throughput and exits ------------------------------------------------------------------


def throughput_frame(metrics: Mapping[str, Any]) -> pd.DataFrame:
    """Entries per period and stage: `period`, `stage`, `order`, `entered`, sorted."""
    rows = [
        {
            "period": str(r["period"]),
            "stage": r["stage"],
            "order": _STAGE_ORDER.get(r["stage"], len(_STAGE_ORDER)),
            "entered": int(r["entered"]),
        }
        for r in metrics.get("rows", [])
        if int(r.get("entered") or 0) > 0
    ]
    frame = pd.DataFrame(rows, columns=["period", "stage", "order", "entered"])
    return frame.sort_values(["period", "order"], kind="stable").reset_index(drop=True)


def exits_frame(metrics: Mapping[str, Any]) -> pd.DataFrame:
    """Exits per period and reason: `period`, `reason`, `order`, `n`, sorted."""
    rows = [
        {
            "period": str(r["period"]),
            "reason": r["reason"],
            "order": _REASON_ORDER.get(r["reason"], len(_REASON_ORDER)),
            "n": int(r["n"]),
        }
        for r in metrics.get("exits", [])
        if int(r.get("n") or 0) > 0
    ]
    frame = pd.DataFrame(rows, columns=["period", "reason", "order", "n"])
    return frame.sort_values(["period", "order"], kind="stable").reset_index(drop=True)


#: An axis of whole counts: no 0.2-company ticks on small numbers.
_COUNT_AXIS = alt.Axis(tickMinStep=1, format=",d")


def period_domain(periods: Sequence[str], by: str) -> list[str]:
    """Every period from the first to the last of `periods`, so empty ones keep their place
    on the axis: `2024-01`… (month), `2024-Q1`… (quarter), `2024`… (year)."""
    if not periods:
        return []

    def index(label: str) -> int:
        year = int(label[:4])
        if by == "month":
            return year * 12 + int(label[5:7]) - 1
        if by == "quarter":
            return year * 4 + int(label[6:]) - 1
        return year

    def label(i: int) -> str:
        if by == "month":
            return f"{i // 12:04d}-{i % 12 + 1:02d}"
        if by == "quarter":
            return f"{i // 4:04d}-Q{i % 4 + 1}"
        return f"{i:04d}"

    try:
        first, last = min(map(index, periods)), max(map(index, periods))
    except ValueError:  # labels of another shape: keep them as they are
        return sorted(set(periods))
    return [label(i) for i in range(first, last + 1)]


def _period_axis(by: str, lang: str, periods: Sequence[str]) -> alt.X:
    return alt.X(
        "period:O",
        title=t(f"funnel.by.{by}", lang) if by in PERIODS else t("common.period", lang),
        scale=alt.Scale(domain=period_domain(periods, by)),
        axis=alt.Axis(labelAngle=-45 if by == "month" else 0, labelOverlap="greedy"),
    )


def shared_periods(*frames: pd.DataFrame) -> list[str]:
    """The periods of all `frames` (each with a `period` column), for charts drawn side by
    side on one time axis: entries and exits then start and end on the same period."""
    return sorted({str(p) for frame in frames for p in frame["period"]})


def throughput_chart(
    frame: pd.DataFrame,
    by: str = DEFAULT_PERIOD,
    lang: str = "en",
    periods: Sequence[str] | None = None,
) -> alt.Chart:
    """Stacked bars of entries per period, one colour per stage. The axis spans `periods`
    (default: the frame's own), so it can share its time axis with `exits_chart`."""
    check_rows(frame, "throughput")
    data = frame.assign(stage_label=[stage_label(s, lang) for s in frame["stage"]])
    return (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=_period_axis(by, lang, list(frame["period"]) if periods is None else periods),
            y=alt.Y("entered:Q", stack="zero", title=t("funnel.entered", lang), axis=_COUNT_AXIS),
            color=alt.Color(
                "stage_label:N",
                scale=_stage_scale(lang),
                legend=alt.Legend(title=None, orient="bottom", columns=3, labelLimit=160),
            ),
            order=alt.Order("order:Q"),
            tooltip=[
                alt.Tooltip("period:O", title=t("common.period", lang)),
                alt.Tooltip("stage_label:N", title=t("common.stage", lang)),
                alt.Tooltip("entered:Q", title=t("funnel.entered", lang), format=","),
            ],
        )
        .properties(title=alt.Title(t("funnel.throughput", lang), anchor="start"), height=360)
    )


def exits_chart(
    frame: pd.DataFrame,
    by: str = DEFAULT_PERIOD,
    lang: str = "en",
    periods: Sequence[str] | None = None,
) -> alt.Chart:
    """Stacked bars of exits per period, one colour per reason; the axis spans `periods`
    (default: the frame's own)."""
    check_rows(frame, "exits")
    data = frame.assign(reason_label=[reason_label(r, lang) for r in frame["reason"]])
    reasons = list(ExitReason)
    return (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=_period_axis(by, lang, list(frame["period"]) if periods is None else periods),
            y=alt.Y("n:Q", stack="zero", title=t("funnel.exited", lang), axis=_COUNT_AXIS),
            color=alt.Color(
                "reason_label:N",
                scale=alt.Scale(
                    domain=[r.label(lang) for r in reasons],
                    range=[REASON_COLORS[r] for r in reasons],
                ),
                legend=alt.Legend(title=None, orient="bottom", columns=3, labelLimit=160),
            ),
            order=alt.Order("order:Q"),
            tooltip=[
                alt.Tooltip("period:O", title=t("common.period", lang)),
                alt.Tooltip("reason_label:N", title=t("common.reason", lang)),
                alt.Tooltip("n:Q", title=t("funnel.exited", lang), format=","),
            ],
        )
        .properties(title=alt.Title(t("funnel.exits", lang), anchor="start"), height=360)
    )


# --- the ladder diagram --------------------------------------------------------------------


def _dot_quote(text: str) -> str:
    """A DOT string literal; a line break becomes Graphviz's centred-line escape."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + escaped.replace("\n", "\\n") + '"'


def ladder_dot(
    lang: str = "en",
    counts: Mapping[str, int] | None = None,
    transitions: Sequence[Mapping[str, Any]] = TRANSITIONS,
) -> str:
    """Graphviz DOT text of the ladder, drawn from the machine's transition table.

    The entry point on top, the five stages in a row (with their current counts when
    `counts` is given), the exit below; one edge per transition: admit (dotted grey),
    advance (bold green), exit (dashed red) — `ladder_legend` names the line styles.
    """
    lines = [
        "digraph ladder {",
        "  rankdir=TB; bgcolor=transparent; nodesep=0.3; ranksep=0.45; splines=true;",
        '  node [fontname="Helvetica,Arial,sans-serif", fontsize=12, style="rounded,filled",'
        ' shape=box, color="#455a64", penwidth=1.2, margin="0.18,0.08"];',
        '  edge [fontname="Helvetica,Arial,sans-serif", fontsize=10, color="#607d8b"];',
        f"  {_dot_quote(NEW)} [label={_dot_quote(t('ladder.new', lang))}, shape=box,"
        ' style="rounded,filled", fillcolor="#eceff1", color="#90a4ae", fontcolor="#37474f",'
        " fontsize=10];",
    ]
    for stage in (*LADDER, Stage.EXITED):
        label = stage.label(lang)
        if counts is not None and stage.value in counts:
            label = f"{label}\n{counts[stage.value]:,}"
        fill = STAGE_COLORS[stage]
        lines.append(
            f"  {_dot_quote(stage.value)} [label={_dot_quote(label)},"
            f' fillcolor="{fill}", fontcolor="{text_color(fill)}"];'
        )
    lines.append("  { rank=same; " + "; ".join(_dot_quote(s.value) for s in LADDER) + " }")
    styles = {
        EventKind.ADMIT.value: 'style=dotted, color="#90a4ae", arrowsize=0.6',
        EventKind.ADVANCE.value: 'style=bold, color="#2e7d32", penwidth=2.2',
        EventKind.EXIT.value: 'style=dashed, color="#e57373", arrowsize=0.6',
    }
    for transition in transitions:
        trigger = str(transition["trigger"])
        source, dest = str(transition["source"]), str(transition["dest"])
        tip = _dot_quote(t("ladder." + trigger, lang) if f"ladder.{trigger}" in TEXT else trigger)
        lines.append(
            f"  {_dot_quote(source)} -> {_dot_quote(dest)} [{styles.get(trigger, '')}, tooltip={tip}];"
        )
    lines.append("}")
    return "\n".join(lines)


def ladder_legend(lang: str = "en") -> str:
    """What the diagram's line styles mean, for the caption under it."""
    return " · ".join(
        f"{style} {t('ladder.' + kind.value, lang)}"
        for style, kind in (("⋯", EventKind.ADMIT), ("━", EventKind.ADVANCE), ("╌", EventKind.EXIT))
    )


# --- time in stage -------------------------------------------------------------------------

DWELL_COLUMNS = [
    "stage",
    "order",
    "completed",
    "min_days",
    "q1_days",
    "median_days",
    "q3_days",
    "p90_days",
    "max_days",
    "open",
    "open_median_days",
    "km_median_days",
]


def dwell_frame(quantiles: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """One row per ladder stage from `metrics.dwell_quantiles` (missing values as NaN)."""
    by_stage = {row["stage"]: row for row in quantiles}
    rows = []
    for stage in LADDER:
        row = by_stage.get(stage.value, {})
        out: dict[str, Any] = {"stage": stage.value, "order": _STAGE_ORDER[stage.value]}
        for column in DWELL_COLUMNS[2:]:
            value = row.get(column)
            if column in ("completed", "open"):
                out[column] = int(value or 0)
            else:
                out[column] = float("nan") if value is None else float(value)
        rows.append(out)
    return pd.DataFrame(rows, columns=DWELL_COLUMNS)


def dwell_chart(frame: pd.DataFrame, lang: str = "en") -> alt.LayerChart:
    """A box plot per stage drawn from aggregated quantiles (one row per stage)."""
    check_rows(frame, "dwell")
    data = frame[frame["completed"] > 0].assign(
        stage_label=lambda f: [stage_label(s, lang) for s in f["stage"]]
    )
    order = [s.label(lang) for s in LADDER]
    y = alt.Y("stage_label:N", sort=order, title=None, axis=alt.Axis(labelFontSize=13))
    days = t("common.days_label", lang)
    tooltip = [
        alt.Tooltip("stage_label:N", title=t("common.stage", lang)),
        alt.Tooltip("completed:Q", title=t("dwell.completed", lang), format=","),
        alt.Tooltip("min_days:Q", title=t("dwell.min", lang), format=",.0f"),
        alt.Tooltip("q1_days:Q", title=t("dwell.q1", lang), format=",.0f"),
        alt.Tooltip("median_days:Q", title=t("dwell.median", lang), format=",.0f"),
        alt.Tooltip("q3_days:Q", title=t("dwell.q3", lang), format=",.0f"),
        alt.Tooltip("p90_days:Q", title=t("dwell.p90", lang), format=",.0f"),
        alt.Tooltip("max_days:Q", title=t("dwell.max", lang), format=",.0f"),
        alt.Tooltip("km_median_days:Q", title=t("dwell.km_median", lang), format=",.0f"),
    ]
    base = alt.Chart(data).encode(y=y, tooltip=tooltip)
    whisker = base.mark_rule(color="#546e7a").encode(
        x=alt.X("min_days:Q", title=days), x2="max_days:Q"
    )
    box = base.mark_bar(size=22, cornerRadius=2).encode(
        x="q1_days:Q",
        x2="q3_days:Q",
        color=alt.Color("stage_label:N", scale=_stage_scale(lang), legend=None),
    )
    median = base.mark_tick(color="white", thickness=3, size=22).encode(x="median_days:Q")
    # Stays all of one length (one completed stay, say) make a box and whiskers of no width:
    # a tick in the stage's colour keeps such a stage visible.
    flat = (
        alt.Chart(data[data["q3_days"] - data["q1_days"] <= 0])
        .mark_tick(thickness=6, size=30, opacity=1)
        .encode(
            y=y,
            x="median_days:Q",
            color=alt.Color("stage_label:N", scale=_stage_scale(lang), legend=None),
            tooltip=tooltip,
        )
    )
    km = (
        alt.Chart(data[data["km_median_days"].notna()])
        .mark_point(shape="diamond", filled=True, size=90, color="#212121", stroke="white")
        .encode(y=y, x="km_median_days:Q", tooltip=tooltip)
    )
    return (whisker + box + median + flat + km).properties(
        title=alt.Title(t("dwell.chart_title", lang), anchor="start"), height=340
    )


#: The dwell table's columns of days (shown as whole days with thousands separators).
DWELL_DAY_COLUMNS = ("dwell.median", "dwell.p90", "dwell.km_median", "dwell.open_median")


def dwell_table(frame: pd.DataFrame, lang: str = "en") -> pd.DataFrame:
    """The figures per stage, days rounded to whole days (a stay of months is not read to a
    tenth of a day; one format in every column), missing values empty."""

    def days(values: pd.Series) -> pd.Series:
        return pd.Series([None if v != v else round(float(v)) for v in values], dtype="Int64")

    return pd.DataFrame(
        {
            t("common.stage", lang): [stage_label(s, lang) for s in frame["stage"]],
            t("dwell.completed", lang): frame["completed"],
            t("dwell.median", lang): days(frame["median_days"]),
            t("dwell.p90", lang): days(frame["p90_days"]),
            t("dwell.km_median", lang): days(frame["km_median_days"]),
            t("dwell.open", lang): frame["open"],
            t("dwell.open_median", lang): days(frame["open_median_days"]),
        }
    )


# --- one company's stays -------------------------------------------------------------------


def timeline_frame(
    events: Sequence[Mapping[str, Any]], as_of: datetime | None = None
) -> pd.DataFrame:
    """A company's stays from its events (oldest first): `stage`, `start`, `end`, `open`, `days`.

    Each event that moves the company into a ladder stage starts a stay; the next event ends
    it. The last stay is open until `as_of` (default: now) unless the company has exited.
    """
    end_of_open = as_of or datetime.now(UTC)
    rows: list[dict[str, Any]] = []
    for event in events:
        at = event["effective_at"]
        if rows and rows[-1]["open"]:
            rows[-1].update(end=at, open=False)
        to_stage = event["to_stage"]
        if to_stage and to_stage != Stage.EXITED:
            rows.append({"stage": to_stage, "start": at, "end": None, "open": True})
    for row in rows:
        if row["end"] is None:
            row["end"] = max(end_of_open, row["start"])
        row["days"] = (row["end"] - row["start"]).total_seconds() / 86_400
        row["order"] = _STAGE_ORDER.get(row["stage"], len(_STAGE_ORDER))
    frame = pd.DataFrame(rows, columns=["stage", "order", "start", "end", "open", "days"])
    for column in ("start", "end"):
        frame[column] = pd.to_datetime(frame[column], utc=True)
    return frame


def timeline_chart(frame: pd.DataFrame, lang: str = "en") -> alt.LayerChart:
    """Bars from entry to exit per stay, one row per stage of the ladder, and a tick at each
    entry, so a stay of no length (admitted and moved on the same day) still shows."""
    check_rows(frame, "timeline")
    data = frame.assign(
        stage_label=[stage_label(s, lang) for s in frame["stage"]],
        # Vega-Lite reads naive timestamps as local time: hand it ISO text with the offset.
        start_iso=[ts.isoformat() for ts in frame["start"]],
        end_iso=[ts.isoformat() for ts in frame["end"]],
        days_text=[t("common.days", lang, n=f"{d:,.0f}") for d in frame["days"]],
    ).drop(columns=["start", "end"])
    y = alt.Y(
        "stage_label:N", sort=_stage_labels(lang), title=None, axis=alt.Axis(labelFontSize=13)
    )
    color = alt.Color("stage_label:N", scale=_stage_scale(lang), legend=None)
    tooltip = [
        alt.Tooltip("stage_label:N", title=t("common.stage", lang)),
        alt.Tooltip("start_iso:T", title=t("col.start", lang), format="%Y-%m-%d"),
        alt.Tooltip("end_iso:T", title=t("col.end", lang), format="%Y-%m-%d"),
        alt.Tooltip("days_text:N", title=t("common.days_label", lang)),
    ]
    base = alt.Chart(data).encode(y=y, color=color, tooltip=tooltip)
    bars = base.mark_bar(cornerRadius=3, height=20).encode(
        x=alt.X("start_iso:T", title=None, axis=alt.Axis(format="%Y-%m")),
        x2="end_iso:T",
        opacity=alt.when(alt.datum.open).then(alt.value(0.55)).otherwise(alt.value(1.0)),
    )
    entries = base.mark_tick(thickness=4, size=28, opacity=1).encode(x="start_iso:T")
    return (bars + entries).properties(
        title=alt.Title(t("company.timeline", lang), anchor="start"), height=240
    )


# --- one company's annual figures ----------------------------------------------------------

#: The figures the company page charts over the years, and their colours (Okabe–Ito).
FIGURES_CHARTED: tuple[str, ...] = ("revenue", "rd_spend")
FIGURE_COLORS: dict[str, str] = {"revenue": "#0072B2", "rd_spend": "#E69F00"}


def figures_frame(figures: Sequence[Any]) -> pd.DataFrame:
    """A company's revenue and R&D spend by year (`AnnualFigures`-like: `year`, `get(name)`),
    long: `year`, `measure`, `value`; a year without the figure has no row for it."""
    rows = [
        {"year": int(f.year), "measure": name, "value": int(value)}
        for f in sorted(figures, key=lambda f: f.year)
        for name in FIGURES_CHARTED
        if (value := f.get(name)) is not None
    ]
    return pd.DataFrame(rows, columns=["year", "measure", "value"])


def figures_chart(frame: pd.DataFrame, lang: str = "en") -> alt.Chart:
    """Revenue and R&D spend over the years: a line with a point per year for each, in
    yuan, the figures named in `lang`."""
    check_rows(frame, "figures")
    names = {m: t(f"facts.figure.{m}", lang) for m in FIGURES_CHARTED}
    data = frame.assign(
        measure_label=[names.get(m, m) for m in frame["measure"]],
        year_text=[str(y) for y in frame["year"]],  # not "2,025"
    )
    color = alt.Color(
        "measure_label:N",
        scale=alt.Scale(
            domain=[names[m] for m in FIGURES_CHARTED],
            range=[FIGURE_COLORS[m] for m in FIGURES_CHARTED],
        ),
        legend=alt.Legend(title=None, orient="bottom"),
    )
    tooltip = [
        alt.Tooltip("year_text:N", title=t("facts.col.year", lang)),
        alt.Tooltip("measure_label:N", title=t("facts.chart_measure", lang)),
        alt.Tooltip("value:Q", title=t("facts.col.amount", lang), format=",d"),
    ]
    years = sorted(data["year_text"].unique().tolist())
    return (
        alt.Chart(data)
        .mark_line(point=alt.OverlayMarkDef(size=70, filled=True), strokeWidth=2.5)
        .encode(
            x=alt.X("year_text:O", sort=years, title=None, axis=alt.Axis(labelAngle=0)),
            y=alt.Y("value:Q", title=None, axis=alt.Axis(format=",d", tickCount=5)),
            color=color,
            tooltip=tooltip,
        )
        .properties(title=alt.Title(t("facts.chart_title", lang), anchor="start"), height=260)
    )


# --- reports: the city's KPIs and the Torch statistics (reports-page) ----------------------

#: The KPI charts' colours (Okabe–Ito): a target met, a target not yet met, the target itself.
KPI_COLORS: dict[str, str] = {"met": "#009E73", "short": "#0072B2", "target": "#D55E00"}
#: The money metric of the KPIs (yuan); the trend charts show it in `money_divisor` units.
KPI_MONEY = "tech_contract_value"
#: The bullet chart's bars stop at twice the target; the label says the real share.
KPI_MAX_PROGRESS = 2.0
KPI_BAR = 18
KPI_STEP = 56
KPI_COLUMNS = ["metric", "order", "target", "actual", "progress"]


def metric_label(metric: str, lang: str = "en") -> str:
    """A KPI metric's name in `lang` (an unknown metric as it is)."""
    key = f"reports.metric.{metric}"
    return t(key, lang) if key in TEXT else metric


def money_divisor(lang: str) -> int:
    """Large sums of yuan: millions in English, 亿 (10⁸) in Chinese."""
    return 100_000_000 if lang == "zh" else 1_000_000


def yuan_text(value: float | None, lang: str = "en") -> str:
    """An amount of yuan for a reader: `3,500.0 million yuan` / `35.00 亿元`; `12.5 thousand
    yuan` / `1.2 万元`; `800 yuan` / `800 元`; `—` for none."""
    if value is None or value != value:
        return TEXT["common.none"][0]
    large = money_divisor(lang)
    medium = 10_000 if lang == "zh" else 1_000
    if abs(value) >= large:
        digits = ",.2f" if lang == "zh" else ",.1f"
        return t("reports.yuan_large", lang, value=format(value / large, digits))
    if abs(value) >= medium:
        return t("reports.yuan_medium", lang, value=f"{value / medium:,.1f}")
    return t("reports.yuan_small", lang, value=f"{round(value):,}")


def kpi_value_text(metric: str, value: float | None, lang: str = "en") -> str:
    """A KPI value: money for the contract value, a whole count otherwise."""
    if metric == KPI_MONEY:
        return yuan_text(value, lang)
    if value is None or value != value:
        return TEXT["common.none"][0]
    return f"{round(value):,}"


def kpi_frame(doc: Mapping[str, Any]) -> pd.DataFrame:
    """One row per metric of a `kpi` document, in its order: the target (NaN when none is
    set), the actual value and the share of the target reached (NaN without a positive
    target)."""
    rows = []
    for i, row in enumerate(doc.get("rows", [])):
        target = row.get("target")
        actual = int(row.get("actual") or 0)
        rows.append(
            {
                "metric": str(row["metric"]),
                "order": i,
                "target": float("nan") if target is None else float(target),
                "actual": actual,
                "progress": actual / target if target else float("nan"),
            }
        )
    return pd.DataFrame(rows, columns=KPI_COLUMNS)


def _kpi_text(row: Mapping[str, Any], lang: str) -> str:
    metric = str(row["metric"])
    actual = kpi_value_text(metric, row["actual"], lang)
    target = _none_if_nan(row["target"])
    if target is None:
        return t("reports.kpi_no_target", lang, actual=actual)
    return t(
        "reports.kpi_label",
        lang,
        actual=actual,
        target=kpi_value_text(metric, target, lang),
        progress=percent(_none_if_nan(row["progress"]), lang),
    )


def kpi_chart(frame: pd.DataFrame, lang: str = "en") -> alt.LayerChart:
    """A bullet chart: per metric (named in `lang`), the actual value as a share of the
    target (green when met, blue while short; bars stop at `KPI_MAX_PROGRESS`), a pale bar
    up to the target and a dark tick at it; above each bar the actual value, the target and
    the share, or "no target". All metrics share one scale of shares, whatever their units."""
    check_rows(frame, "kpi")
    labels = [metric_label(m, lang) for m in frame["metric"]]
    progress = [_none_if_nan(p) for p in frame["progress"]]
    data = frame.assign(
        metric_label=labels,
        text=[_kpi_text(row, lang) for row in frame.to_dict("records")],
        has_target=[p is not None for p in progress],
        shown=[min(p, KPI_MAX_PROGRESS) if p is not None else 0.0 for p in progress],
        status=["met" if p is not None and p >= 1 else "short" for p in progress],
        target_text=[
            kpi_value_text(m, v, lang)
            for m, v in zip(frame["metric"], frame["target"], strict=True)
        ],
        actual_text=[
            kpi_value_text(m, v, lang)
            for m, v in zip(frame["metric"], frame["actual"], strict=True)
        ],
        progress_text=[percent(p, lang) for p in progress],
        one=1.0,
    )
    top = max([1.0, *(min(p, KPI_MAX_PROGRESS) for p in progress if p is not None)])
    y = alt.Y(
        "metric_label:N",
        sort=labels,
        title=None,
        axis=alt.Axis(labelFontSize=13, labelLimit=260, labelOffset=KPI_BAR / 2 - 2, ticks=False),
    )
    x_scale = alt.Scale(domain=[0, top], nice=False)
    tooltip = [
        alt.Tooltip("metric_label:N", title=t("reports.kpi_metric", lang)),
        alt.Tooltip("actual_text:N", title=t("reports.kpi_actual", lang)),
        alt.Tooltip("target_text:N", title=t("reports.kpi_target", lang)),
        alt.Tooltip("progress_text:N", title=t("reports.kpi_progress", lang)),
    ]
    targeted = alt.Chart(data).transform_filter(alt.datum.has_target)
    offset = KPI_BAR / 2 - 2
    background = targeted.mark_bar(size=KPI_BAR, color="#eceff1", yOffset=offset).encode(
        y=y, x=alt.X("one:Q", scale=x_scale), tooltip=tooltip
    )
    bars = targeted.mark_bar(size=KPI_BAR, yOffset=offset, clip=True).encode(
        y=y,
        x=alt.X(
            "shown:Q",
            scale=x_scale,
            title=t("reports.kpi_progress", lang),
            axis=alt.Axis(format=".0%", tickCount=5),
        ),
        color=alt.Color(
            "status:N",
            scale=alt.Scale(
                domain=["met", "short"], range=[KPI_COLORS["met"], KPI_COLORS["short"]]
            ),
            legend=None,
        ),
        tooltip=tooltip,
    )
    target = targeted.mark_tick(
        color="#263238", thickness=3, size=KPI_BAR + 8, yOffset=offset
    ).encode(y=y, x=alt.X("one:Q", scale=x_scale), tooltip=tooltip)
    text = (
        alt.Chart(data)
        .mark_text(
            align="left", baseline="bottom", dy=-4, fontSize=12, color="#37474f",
            limit=alt.ExprRef("width"),
        )
        .encode(y=y, x=alt.value(0), text="text:N")
    )  # fmt: skip
    return (background + bars + target + text).properties(
        title=alt.Title(t("reports.kpi_chart_title", lang), anchor="start"),
        height=alt.Step(KPI_STEP),
    )


KPI_TREND_COLUMNS = ["year", "metric", "order", "series", "value"]


def kpi_trend_frame(docs: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """The KPIs of several years, long: `year`, `metric`, `order`, `series` (`actual` or
    `target`), `value` (a year without a target has no target row), oldest year first."""
    rows = []
    for doc in sorted(docs, key=lambda d: int(d["year"])):
        for i, row in enumerate(doc.get("rows", [])):
            base = {"year": int(doc["year"]), "metric": str(row["metric"]), "order": i}
            rows.append({**base, "series": "actual", "value": float(row.get("actual") or 0)})
            if row.get("target") is not None:
                rows.append({**base, "series": "target", "value": float(row["target"])})
    return pd.DataFrame(rows, columns=KPI_TREND_COLUMNS)


def kpi_trend_chart(frame: pd.DataFrame, lang: str = "en", columns: int = 4) -> alt.FacetChart:
    """Small multiples, one per metric (each with its own scale): the actual value per year
    as a line with points, that year's target as a diamond. The contract value is shown in
    millions of yuan (亿元 in Chinese), its panel's title says so."""
    check_rows(frame, "kpi trend")
    divisor = money_divisor(lang)
    unit = t("reports.money_unit", lang)

    def panel(metric: str) -> str:
        name = metric_label(metric, lang)
        return t("reports.metric_in", lang, metric=name, unit=unit) if metric == KPI_MONEY else name

    series = {"actual": t("reports.kpi_actual", lang), "target": t("reports.kpi_target", lang)}
    data = frame.assign(
        metric_label=[panel(m) for m in frame["metric"]],
        series_label=[series.get(s, s) for s in frame["series"]],
        shown=[
            v / divisor if m == KPI_MONEY else v
            for m, v in zip(frame["metric"], frame["value"], strict=True)
        ],
        year_text=[str(y) for y in frame["year"]],
    )
    order = [panel(m) for m in frame.sort_values("order")["metric"].drop_duplicates()]
    years = sorted(data["year_text"].unique().tolist())
    color = alt.Color(
        "series_label:N",
        scale=alt.Scale(
            domain=[series["actual"], series["target"]],
            range=[KPI_COLORS["short"], KPI_COLORS["target"]],
        ),
        legend=alt.Legend(title=None, orient="bottom"),
    )
    x = alt.X("year_text:O", sort=years, title=None, axis=alt.Axis(labelAngle=0))
    y = alt.Y("shown:Q", title=None, axis=alt.Axis(format=",~f", tickCount=4))
    tooltip = [
        alt.Tooltip("year_text:N", title=t("reports.year", lang)),
        alt.Tooltip("series_label:N", title=" "),
        alt.Tooltip("shown:Q", title=t("reports.kpi_metric", lang), format=",.2~f"),
    ]
    base = alt.Chart().encode(x=x, y=y, color=color, tooltip=tooltip)
    actual = base.transform_filter(alt.datum.series == "actual").mark_line(
        point=alt.OverlayMarkDef(size=50, filled=True), strokeWidth=2.5
    )
    target = base.transform_filter(alt.datum.series == "target").mark_point(
        shape="diamond", filled=True, size=90
    )
    return (
        alt.layer(actual, target, data=data)
        .properties(width=165, height=130)
        .facet(
            facet=alt.Facet(
                "metric_label:N", sort=order, title=None, header=alt.Header(labelFontSize=12)
            ),
            columns=columns,
        )
        .resolve_scale(y="independent")
        .properties(title=alt.Title(t("reports.kpi_trend_title", lang), anchor="start"))
    )


def _whole(value: Any) -> str:
    return TEXT["common.none"][0] if value is None else f"{value:,}"


def torch_cell(indicator: str, value: Any, lang: str = "en") -> str:
    """An indicator's value as the Torch table shows it: counts and money (yuan) with
    thousands separators, shares as percentages, the density to one decimal, `—` for none."""
    if value is None:
        return TEXT["common.none"][0]
    if indicator in SHARES:
        return percent(float(value), lang)
    if indicator == DENSITY:
        return f"{float(value):,.1f}"
    return _whole(value)


def torch_header(indicator: str, lang: str = "en") -> str:
    """An indicator's column header from the report's catalogue (Chinese or English); money
    columns say they are in yuan."""
    zh, en = LABELS.get(indicator, (indicator, indicator))
    label = zh if lang == "zh" else en
    return t("reports.money_header", lang, label=label) if indicator in MONEY else label


def torch_table(doc: Mapping[str, Any], lang: str = "en") -> pd.DataFrame:
    """The Torch statistics (`TorchReport.to_json()`): a row per site, then the total; a
    column per indicator, headed in `lang`, the values formatted (`torch_cell`). Companies
    without a site are the row `(no site)`."""
    site_header = torch_header("site", lang)
    rows = [
        (str(row["site"]) if row["site"] else t("reports.no_site", lang), row)
        for row in doc.get("sites", [])
    ]
    rows.append((t("reports.total", lang), doc.get("total", {})))
    table: dict[str, list[str]] = {site_header: [name for name, _ in rows]}
    for indicator in INDICATORS:
        table[torch_header(indicator, lang)] = [
            torch_cell(indicator, row.get(indicator), lang) for _, row in rows
        ]
    return pd.DataFrame(table)
