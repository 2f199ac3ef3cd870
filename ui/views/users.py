"""User accounts (administrators only): who may sign in, with which role and site."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from incubator import services
from incubator.access import USER_ROLES, Actor
from incubator.stages import DomainError
from ui.app_context import PageContext, flash, get_database
from ui.i18n import role_label, t
from ui.views.common import page_header

USER_FIELDS = ("user_name", "user_site", "user_password")


def render(ctx: PageContext) -> None:
    lang = ctx.lang
    page_header(t("users.title", lang), ctx, icon=":material/group:", caption=" ")
    if not ctx.actor.is_admin:
        st.warning(t("common.read_only", lang))
        return
    users_table(ctx, lang)
    add_user_form(ctx.url, ctx.actor, lang)


def users_table(ctx: PageContext, lang: str) -> None:
    users = services.list_users(ctx.db)
    st.dataframe(
        pd.DataFrame(
            {
                t("users.name", lang): [u.name for u in users],
                t("col.role", lang): [role_label(u.role, lang) for u in users],
                t("col.site", lang): [u.site or "—" for u in users],
                t("col.created", lang): [u.created_at.strftime("%Y-%m-%d %H:%M") for u in users],
            }
        ),
        hide_index=True,
        key="users_table",
    )


def add_user_form(url: str, actor: Actor, lang: str) -> None:
    with st.expander(f":material/add: {t('users.add', lang)}"), st.form("user_form", border=False):
        left, middle, right = st.columns(3)
        left.text_input(t("users.name", lang), key="user_name")
        middle.selectbox(
            t("users.role", lang),
            options=[r.value for r in USER_ROLES],
            format_func=lambda r: role_label(r, lang),
            key="user_role",
        )
        right.text_input(t("users.site", lang), key="user_site")
        left.text_input(t("users.password", lang), type="password", key="user_password")
        st.form_submit_button(
            t("users.submit", lang),
            type="primary",
            key="user_submit",
            on_click=add_user,
            args=(url, actor, lang),
        )


def add_user(url: str, actor: Actor, lang: str) -> None:
    state = st.session_state
    name = str(state.get("user_name") or "")
    try:
        services.add_user(
            get_database(url),
            name,
            role=str(state.get("user_role") or "viewer"),
            password=str(state.get("user_password") or ""),
            site=str(state.get("user_site") or "") or None,
            actor=actor,
        )
    except DomainError as exc:
        flash("error", t("users.refused", lang, detail=str(exc)))
        return
    flash("success", t("users.added", lang, name=name.strip()))
    for field in USER_FIELDS:
        state.pop(field, None)
