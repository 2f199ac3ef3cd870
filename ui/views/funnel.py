"""The home page: current pipeline, the funnel, throughput, exits and the ladder diagram."""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Any

import pandas as pd
import streamlit as st

from incubator.stages import LADDER
from ui import charts, loaders
from ui.app_context import PageContext
from ui.i18n import compact_count, stage_label, t
from ui.loaders import ScopeKey
from ui.views.common import page_header


def render(ctx: PageContext) -> None:
    lang, key = ctx.lang, ctx.scope.key()
    page_header(t("funnel.title", lang), ctx, icon=":material/filter_alt:")
    # The funnel and the throughput are independent: both are read at once.
    by = period()
    funnel_doc, throughput_doc = loaders.concurrently(
        partial(loaders.funnel, ctx.url, key), partial(loaders.throughput, ctx.url, key, by)
    )
    frame = charts.funnel_frame(funnel_doc)
    if int(frame["entered"].sum()) == 0:
        st.info(t("common.no_data", lang), icon=":material/spa:")
        ladder_panel(frame, lang)
        return
    current_panel(frame, lang, ctx.scope.as_of_instant())
    funnel_panel(frame, lang)
    st.divider()
    throughput_panel(ctx.url, key, lang, (by, throughput_doc))
    st.divider()
    ladder_panel(frame, lang)


def period() -> str:
    """The throughput's period as the reader last picked it (the default at first): the
    value the period picker will show in this run."""
    if "throughput_by" not in st.session_state:
        st.session_state["throughput_by"] = charts.DEFAULT_PERIOD
    by = st.session_state["throughput_by"]
    return by if by in charts.PERIODS else charts.DEFAULT_PERIOD


def current_panel(frame: pd.DataFrame, lang: str, as_of: datetime | None = None) -> None:
    """One metric per stage: companies in it at the as-of time (now when there is none);
    then the pipeline total and the exits."""
    title = (
        t("funnel.current_at", lang, date=as_of.strftime("%Y-%m-%d"))
        if as_of is not None
        else t("funnel.current", lang)
    )
    st.subheader(title, help=t("funnel.current_help", lang))
    cells = st.columns(len(LADDER) + 2)
    labelled = [
        (stage_label(r["stage"], lang), int(r["current"])) for r in frame.to_dict("records")
    ]
    labelled.append((t("funnel.in_pipeline", lang), int(frame["current"].sum())))
    labelled.append((t("funnel.exited_total", lang), int(frame["exited"].sum())))
    for cell, (label, count) in zip(cells, labelled, strict=False):
        # seven cards in a row: a large count is shortened (612k, 61.2万), exact on hover
        short = compact_count(count, lang)
        cell.metric(label, short, help=None if short == f"{count:,}" else f"{count:,}", border=True)


def funnel_panel(frame: pd.DataFrame, lang: str) -> None:
    """The funnel chart, and its figures as a table beside it."""
    left, right = st.columns(2, gap="large")
    with left:
        st.altair_chart(charts.funnel_chart(frame, lang), key="funnel_chart")
    with right:
        st.markdown(f"**{t('funnel.table', lang)}**")
        table = charts.funnel_table(frame, lang)
        figures = {
            name: st.column_config.TextColumn(alignment="right") for name in table.columns[1:]
        }
        st.dataframe(table, hide_index=True, key="funnel_table", column_config=figures)
        st.caption(t("funnel.explain", lang))


def ladder_panel(frame: pd.DataFrame, lang: str) -> None:
    st.subheader(t("funnel.ladder", lang))
    counts = {str(r["stage"]): int(r["current"]) for r in frame.to_dict("records")}
    counts["exited"] = int(frame["exited"].sum())
    st.graphviz_chart(charts.ladder_dot(lang, counts))
    st.caption(f"{charts.ladder_legend(lang)} — {t('funnel.ladder_caption', lang)}")


def throughput_panel(
    url: str, key: ScopeKey, lang: str, loaded: tuple[str, dict[str, Any]] | None = None
) -> None:
    """Entries per stage and exits per reason per quarter (or month, or year), side by side
    on one time axis. `loaded`: the period and its throughput document, when already read."""
    period()
    by = st.segmented_control(
        t("funnel.by", lang),
        options=list(charts.PERIODS),
        format_func=lambda p: t(f"funnel.by.{p}", lang),
        key="throughput_by",
    )
    by = by if by in charts.PERIODS else charts.DEFAULT_PERIOD
    doc = loaded[1] if loaded is not None and loaded[0] == by else loaders.throughput(url, key, by)
    entries, exits = charts.throughput_frame(doc), charts.exits_frame(doc)
    periods = charts.shared_periods(entries, exits)
    left, right = st.columns(2, gap="large")
    with left:
        if entries.empty:
            st.info(t("common.no_data", lang))
        else:
            st.altair_chart(
                charts.throughput_chart(entries, by, lang, periods), key="throughput_chart"
            )
    with right:
        if exits.empty:
            st.info(t("common.no_data", lang))
        else:
            st.altair_chart(charts.exits_chart(exits, by, lang, periods), key="exits_chart")
