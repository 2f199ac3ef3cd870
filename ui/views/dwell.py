"""Time in stage: a box plot per stage, stay statistics, the stuck list and its limits."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from incubator import services
from incubator.access import Actor
from incubator.stages import FOCUS_SECTORS, LADDER, DomainError
from incubator.store import StoreError
from ui import charts, frames, loaders
from ui.app_context import PageContext, after_write, flash
from ui.frames import LIMITS_SETTING, StageLimits
from ui.i18n import sector_label, stage_label, t
from ui.loaders import ScopeKey
from ui.markup import md, refusal
from ui.views.common import page_header, table_layout

STUCK_SHOWN = 500


def render(ctx: PageContext) -> None:
    lang = ctx.lang
    page_header(t("dwell.title", lang), ctx, icon=":material/timer:")
    frame = charts.dwell_frame(loaders.dwell_quantiles(ctx.url, ctx.scope.key()))
    if int(frame["completed"].sum() + frame["open"].sum()) == 0:
        st.info(t("common.no_data", lang), icon=":material/spa:")
    else:
        dwell_panel(frame, lang)
    st.divider()
    limits = loaders.stage_limits(ctx.url)
    stuck_panel(ctx.url, ctx.scope.key(), limits, lang)
    if ctx.actor.is_admin:
        limits_editor(ctx, limits)


def dwell_panel(frame: pd.DataFrame, lang: str) -> None:
    """The box plot, then the figures per stage (completed and open stays, KM median)."""
    if int(frame["completed"].sum()) == 0:
        st.info(t("common.no_data", lang))
    else:
        st.altair_chart(charts.dwell_chart(frame, lang), key="dwell_chart")
        st.caption(t("dwell.chart_caption", lang))
    st.markdown(f"**{t('dwell.table', lang)}**")
    st.dataframe(
        charts.dwell_table(frame, lang),
        hide_index=True,
        key="dwell_table",
        placeholder="—",
        column_config={  # 1,015 days, as everywhere else in the app
            t(column, lang): st.column_config.NumberColumn(format="localized")
            for column in charts.DWELL_DAY_COLUMNS
        },
    )


def stuck_panel(url: str, key: ScopeKey, limits: StageLimits, lang: str) -> None:
    """Companies over their stage's limit, longest in stage first."""
    st.subheader(t("dwell.stuck", lang))
    st.caption(md("dwell.stuck_caption", lang, limits=limits.describe(lang)))
    rows = loaders.stuck(url, key, limits.to_json(), STUCK_SHOWN)
    if not rows:
        st.success(t("dwell.stuck_none", lang))
        return
    st.markdown(f"**{t('dwell.stuck_count', lang, n=f'{len(rows):,}')}**")
    if len(rows) >= STUCK_SHOWN:
        st.caption(t("dwell.stuck_capped", lang, n=STUCK_SHOWN))
    layout = table_layout(frames.STUCK_LAYOUT, lang)
    for column in ("col.overdue", "col.days", "col.limit"):  # 1,389 days
        layout["column_config"][t(column, lang)] = st.column_config.NumberColumn(format="localized")
    st.dataframe(
        frames.stuck_table(rows, lang),
        hide_index=True,
        key="stuck_table",
        height=440 if len(rows) > 12 else "auto",
        **layout,
    )


def limits_editor(ctx: PageContext, limits: StageLimits) -> None:
    """Admins set the months per stage (and per sector and stage) before a company is stuck."""
    lang = ctx.lang
    with st.expander(f":material/tune: {t('dwell.limits', lang)}"):
        st.caption(t("dwell.limits_help", lang))
        with st.form("limits_form", border=False):
            cells = st.columns(len(LADDER))
            months: dict[str, float | None] = {}
            for cell, stage in zip(cells, LADDER, strict=True):
                months[stage.value] = cell.number_input(
                    t("dwell.limit_for", lang, stage=stage.label(lang)),
                    min_value=1.0,
                    max_value=600.0,
                    step=1.0,
                    value=limits.months_for(stage.value),
                    format="%g",
                    key=f"limit_{stage.value}",
                )
            st.markdown(f"**{t('dwell.sector_rules', lang)}**")
            st.caption(t("dwell.sector_rules_help", lang))
            rows = limits.sector_rows()
            known = loaders.filter_options(ctx.url)["sectors"]
            sectors = sorted(
                {*FOCUS_SECTORS, *(s for s in known if s), *(r["sector"] for r in rows)}
            )
            edited = st.data_editor(
                pd.DataFrame(rows, columns=["sector", "stage", "months"]),
                num_rows="dynamic",
                hide_index=True,
                key="limits_sectors",
                placeholder="—",
                column_config={
                    # Sectors and stages are picked by name (生物医药, 孵化器); stored as values.
                    "sector": st.column_config.SelectboxColumn(
                        t("col.sector", lang),
                        options=sectors,
                        format_func=lambda s: sector_label(s, lang),
                        help=t("dwell.pick_sector", lang),
                        required=True,
                    ),
                    "stage": st.column_config.SelectboxColumn(
                        t("col.stage", lang),
                        options=[s.value for s in LADDER],
                        format_func=lambda s: stage_label(s, lang),
                        help=t("dwell.pick_stage", lang),
                        required=True,
                    ),
                    "months": st.column_config.NumberColumn(
                        t("dwell.months", lang), min_value=1, max_value=600, required=True
                    ),
                },
            )
            submitted = st.form_submit_button(
                t("dwell.save_limits", lang), type="primary", key="limits_save"
            )
        if submitted:
            save_limits(ctx.url, ctx.actor, months, edited.to_dict("records"), lang)


def save_limits(
    url: str,
    actor: Actor,
    months: dict[str, float | None],
    sector_rows: list[dict[str, object]],
    lang: str,
) -> None:
    try:
        new = StageLimits.from_rows(months, sector_rows)
    except ValueError:
        st.error(t("dwell.limits_bad", lang))
        return
    try:
        services.put_setting(loaders.get_database(url), LIMITS_SETTING, new.to_json(), actor=actor)
    except (DomainError, StoreError) as exc:
        st.error(refusal(exc, lang))
        return
    after_write()
    flash("success", t("dwell.limits_saved", lang))
    st.rerun()
