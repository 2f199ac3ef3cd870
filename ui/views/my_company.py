"""A company user's own page (DESIGN §6, issue 9): their company's profile, facts and
timeline — always their company, no picker — and the form for last year's annual figures.

Every read names the signed-in actor, so the service layer refuses another company; the form
records through `services.record_figures` with the company user as the actor, checked as the
command line's `incubator figures` is.
"""

from __future__ import annotations

import streamlit as st

from incubator import services
from incubator.stages import DomainError
from incubator.store import StoreError
from ui import frames
from ui.app_context import PageContext
from ui.i18n import t
from ui.markup import refusal
from ui.views import company as company_view
from ui.views import facts as facts_view
from ui.views.common import page_header


def last_year() -> int:
    """The year a company submits figures for: the last calendar year (UTC)."""
    return frames.utc_today().year - 1


def render(ctx: PageContext) -> None:
    lang, actor = ctx.lang, ctx.actor
    page_header(
        t("nav.my_company", lang),
        ctx,
        icon=":material/storefront:",
        caption=t("mycompany.caption", lang),
    )
    key = actor.company
    if not actor.is_company or not key:
        st.warning(t("mycompany.none", lang), icon=":material/link_off:")
        return
    db = ctx.db
    try:
        view = services.show(db, key, actor=actor)
        events = services.history(db, key, actor=actor)
        facts = services.facts(db, key, actor=actor)
    except (DomainError, StoreError) as exc:
        st.error(refusal(exc, lang), icon=":material/error:")
        return
    company_view.profile_panel(view, lang, moves=False)
    year = last_year()
    st.subheader(
        f":material/edit_note: {t('mycompany.figures_title', lang, year=year)}", divider="gray"
    )
    with st.container(border=True):
        facts_view.fresh_forms_for(view.key)
        facts_view.figures_form(ctx, view.key, facts.facts, year=year)
    st.subheader(f":material/workspace_premium: {t('facts.title', lang)}", divider="gray")
    facts_view.facts_panel(facts.facts, facts.day, lang)
    company_view.timeline_panel(events, lang)
    company_view.history_panel(events, lang)
