"""The site registry (administrators only): every site's kind and level and its latest
year's figures; adding a site, changing its kind and level, recording a year's figures.
The use cases are `services.list_sites`, `add_site`, `set_site` and `set_figures`."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import streamlit as st

from incubator import services
from incubator.access import Actor
from incubator.stages import DomainError
from incubator.store import StoreError
from ui.app_context import PageContext, after_write, flash, flash_refusal, get_database, signed_in
from ui.frames import utc_today
from ui.i18n import t
from ui.views.common import page_header

#: The add form's fields as a success leaves them (set, not dropped: the browser keeps a
#: dropped widget's value).
ADD_DEFAULTS = {
    "sites_add_name": "",
    "sites_add_kind": services.SiteKind.MIXED.value,
    "sites_add_level": services.SiteLevel.NONE.value,
}
#: The figure inputs and the `set_figures` field each one fills.
FIGURE_INPUTS = {
    "sites_fig_floor": "floor_area_m2",
    "sites_fig_staff": "staff",
    "sites_fig_mentors": "mentors",
    "sites_fig_fund": "incubation_fund",
}
#: The earliest year figures may be recorded for (`incubator.values.check_report_year`).
EARLIEST_YEAR = 1990
#: Which site (and its kind and level) the change form was last filled from.
LOADED_KEY = "_sites_loaded"
NONE = "—"


def render(ctx: PageContext) -> None:
    lang = ctx.lang
    page_header(
        t("sites.title", lang), ctx, icon=":material/domain:", caption=t("sites.caption", lang)
    )
    if not ctx.actor.is_admin:
        st.warning(t("sites.admins_only", lang))
        return
    sites = services.list_sites(ctx.db)
    sites_table(sites, lang)
    manage_site(ctx, sites, lang)
    add_site_form(ctx.url, ctx.actor, lang)


def kind_label(kind: str, lang: str) -> str:
    return t(f"sites.kind.{kind}", lang)


def level_label(level: str, lang: str) -> str:
    return t(f"sites.level.{level}", lang)


def _number(value: int | None) -> str:
    """A figure with thousands separators (`1,200,000`), or `—` when not given."""
    return NONE if value is None else f"{value:,}"


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M") if moment is not None else NONE


def last_change(site: services.SiteView) -> tuple[str, datetime]:
    """Who changed the site or any of its figures last, and when."""
    changes = [(site.changed_at, site.changed_by)] + [
        (f.changed_at, f.changed_by or NONE) for f in site.figures if f.changed_at is not None
    ]
    when, who = max(changes, key=lambda c: c[0])
    return who, when


def sites_table(sites: list[services.SiteView], lang: str) -> None:
    if not sites:
        st.info(t("sites.empty", lang))
        return
    latest = [s.figures[-1] if s.figures else None for s in sites]
    changes = [last_change(s) for s in sites]
    st.dataframe(
        pd.DataFrame(
            {
                t("sites.name", lang): [s.name for s in sites],
                t("sites.kind", lang): [kind_label(s.kind.value, lang) for s in sites],
                t("sites.level", lang): [level_label(s.level.value, lang) for s in sites],
                t("sites.year", lang): [str(f.year) if f else NONE for f in latest],
                t("sites.floor_area", lang): [
                    _number(f.floor_area_m2 if f else None) for f in latest
                ],
                t("sites.staff", lang): [_number(f.staff if f else None) for f in latest],
                t("sites.mentors", lang): [_number(f.mentors if f else None) for f in latest],
                t("sites.fund", lang): [_number(f.incubation_fund if f else None) for f in latest],
                t("sites.changed_by", lang): [who for who, _ in changes],
                t("sites.changed_at", lang): [_when(when) for _, when in changes],
            }
        ),
        hide_index=True,
        key="sites_table",
    )
    st.caption(t("sites.table_help", lang))


def manage_site(ctx: PageContext, sites: list[services.SiteView], lang: str) -> None:
    """Pick a site, then change its kind and level or record a year's figures."""
    if not sites:
        return
    by_name = {s.name: s for s in sites}
    st.subheader(t("sites.manage", lang))
    name = st.selectbox(t("sites.pick", lang), options=list(by_name), key="sites_pick")
    if name is None:
        return
    site = by_name[name]
    state = st.session_state
    if state.get(LOADED_KEY) != (site.name, site.kind.value, site.level.value):
        state["sites_set_kind"] = site.kind.value
        state["sites_set_level"] = site.level.value
        state[LOADED_KEY] = (site.name, site.kind.value, site.level.value)
    left, right = st.columns(2)
    with left, st.form("sites_set_form", border=True):
        st.markdown(f"**{t('sites.kind_level', lang)}**")
        st.selectbox(
            t("sites.kind", lang),
            options=[k.value for k in services.SiteKind],
            format_func=lambda k: kind_label(k, lang),
            key="sites_set_kind",
        )
        st.selectbox(
            t("sites.level", lang),
            options=[v.value for v in services.SiteLevel],
            format_func=lambda v: level_label(v, lang),
            key="sites_set_level",
        )
        st.form_submit_button(
            t("sites.save", lang),
            key="sites_set_submit",
            on_click=set_kind_and_level,
            args=(ctx.url, ctx.actor, site.name, lang),
        )
    this_year = utc_today().year
    with right, st.form("sites_figures_form", border=True):
        st.markdown(f"**{t('sites.figures', lang)}**")
        st.number_input(
            t("sites.year", lang),
            min_value=EARLIEST_YEAR,
            max_value=this_year + 1,
            value=this_year - 1,
            step=1,
            key="sites_fig_year",
        )
        for key, label in [
            ("sites_fig_floor", "sites.floor_area"),
            ("sites_fig_staff", "sites.staff"),
            ("sites_fig_mentors", "sites.mentors"),
            ("sites_fig_fund", "sites.fund"),
        ]:
            st.number_input(t(label, lang), value=None, step=1, key=key)
        st.caption(t("sites.figures_help", lang))
        st.form_submit_button(
            t("sites.figures_submit", lang),
            key="sites_fig_submit",
            on_click=record_figures,
            args=(ctx.url, ctx.actor, site.name, lang),
        )


@signed_in
def set_kind_and_level(url: str, actor: Actor, name: str, lang: str) -> None:
    state = st.session_state
    try:
        services.set_site(
            get_database(url),
            name,
            kind=str(state.get("sites_set_kind") or ""),
            level=str(state.get("sites_set_level") or ""),
            actor=actor,
        )
    except (DomainError, StoreError) as exc:
        flash_refusal(exc, lang, "sites.set_refused")
        state.pop(LOADED_KEY, None)  # show the stored values again
        return
    flash("success", t("sites.saved", lang, name=name))
    after_write()


@signed_in
def record_figures(url: str, actor: Actor, name: str, lang: str) -> None:
    state = st.session_state
    year = int(state.get("sites_fig_year") or 0)
    given = {field: state.get(key) for key, field in FIGURE_INPUTS.items()}

    def whole(field: str) -> int | None:
        value = given[field]
        return None if value is None else int(value)

    try:
        services.set_figures(
            get_database(url),
            name,
            year=year,
            actor=actor,
            floor_area_m2=whole("floor_area_m2"),
            staff=whole("staff"),
            mentors=whole("mentors"),
            incubation_fund=whole("incubation_fund"),
        )
    except (DomainError, StoreError) as exc:
        flash_refusal(exc, lang, "sites.figures_refused")
        return
    flash("success", t("sites.figures_saved", lang, name=name, year=year))
    after_write()
    for key in FIGURE_INPUTS:  # set, not dropped: the browser keeps a dropped widget's value
        state[key] = None


def add_site_form(url: str, actor: Actor, lang: str) -> None:
    for key, value in ADD_DEFAULTS.items():  # a new site starts as mixed, not accredited
        st.session_state.setdefault(key, value)
    with (
        st.expander(f":material/add: {t('sites.add', lang)}"),
        st.form("sites_add_form", border=False),
    ):
        left, middle, right = st.columns(3)
        left.text_input(t("sites.name", lang), key="sites_add_name")
        middle.selectbox(
            t("sites.kind", lang),
            options=[k.value for k in services.SiteKind],
            format_func=lambda k: kind_label(k, lang),
            key="sites_add_kind",
        )
        right.selectbox(
            t("sites.level", lang),
            options=[v.value for v in services.SiteLevel],
            format_func=lambda v: level_label(v, lang),
            key="sites_add_level",
        )
        st.form_submit_button(
            t("sites.add_submit", lang),
            type="primary",
            key="sites_add_submit",
            on_click=add_site,
            args=(url, actor, lang),
        )


@signed_in
def add_site(url: str, actor: Actor, lang: str) -> None:
    state = st.session_state
    name = str(state.get("sites_add_name") or "")
    try:
        services.add_site(
            get_database(url),
            name,
            kind=str(state.get("sites_add_kind") or services.SiteKind.MIXED.value),
            level=str(state.get("sites_add_level") or services.SiteLevel.NONE.value),
            actor=actor,
        )
    except (DomainError, StoreError) as exc:
        flash_refusal(exc, lang, "sites.add_refused")
        return
    flash("success", t("sites.added", lang, name=name.strip()))
    after_write()
    state.update(ADD_DEFAULTS)
