"""User accounts (administrators only): who may sign in, with which role and site; resetting
passwords, disabling and enabling accounts, lifting sign-in locks."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import pandas as pd
import streamlit as st

from incubator import services
from incubator.access import USER_ROLES, Actor, Role
from incubator.stages import DomainError
from incubator.store import StoreError
from ui import loaders
from ui.app_context import (
    PageContext,
    flash,
    flash_refusal,
    get_database,
    session_token,
    signed_in,
)
from ui.i18n import role_label, t
from ui.views.common import page_header

USER_FIELDS = ("user_name", "user_site", "user_company", "user_password")
#: Which user the role and site pickers were last filled from.
LOADED_KEY = "_users_loaded"


def render(ctx: PageContext) -> None:
    lang = ctx.lang
    page_header(t("users.title", lang), ctx, icon=":material/group:", caption=" ")
    if not ctx.actor.is_admin:
        st.warning(t("users.admins_only", lang))
        return
    users = services.list_users(ctx.db)
    users_table(users, lang)
    manage_user(ctx, users, lang)
    add_user_form(ctx.url, ctx.actor, lang)


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M") if moment is not None else "—"


def status_label(user: services.UserView, lang: str) -> str:
    if user.status == "locked" and user.locked_until is not None:
        return t("users.status.locked_until", lang, until=_when(user.locked_until))
    return t(f"users.status.{user.status}", lang)


def users_table(users: list[services.UserView], lang: str) -> None:
    st.dataframe(
        pd.DataFrame(
            {
                t("users.name", lang): [u.name for u in users],
                t("col.role", lang): [role_label(u.role, lang) for u in users],
                t("col.site", lang): [
                    "—" if u.company else u.site or t("users.all_sites", lang) for u in users
                ],
                t("users.company", lang): [u.company or "—" for u in users],
                t("users.status", lang): [status_label(u, lang) for u in users],
                t("users.last_sign_in", lang): [_when(u.last_sign_in_at) for u in users],
                t("col.created", lang): [_when(u.created_at) for u in users],
            }
        ),
        hide_index=True,
        key="users_table",
    )


def manage_user(ctx: PageContext, users: list[services.UserView], lang: str) -> None:
    """Pick a user, then change their role or site, reset their password, disable or
    enable them, or lift a sign-in lock."""
    if not users:
        return
    by_name = {u.name: u for u in users}
    st.subheader(t("users.manage", lang))
    name = st.selectbox(
        t("users.pick", lang),
        options=list(by_name),
        format_func=lambda n: (
            f"{n} · {role_label(by_name[n].role, lang)} · {status_label(by_name[n], lang)}"
        ),
        key="users_pick",
    )
    if name is None:
        return
    user = by_name[name]
    sites = [s for s in loaders.filter_options(ctx.url)["sites"] if s]
    if user.site and user.site not in sites:
        sites.append(user.site)
    state = st.session_state
    if state.get(LOADED_KEY) != (user.name, user.role, user.site, user.company):
        state["users_set_role"] = user.role
        state["users_set_site"] = user.site or ""
        state["users_set_company"] = user.company or ""
        state[LOADED_KEY] = (user.name, user.role, user.site, user.company)
    left, right = st.columns(2)
    with left, st.form("users_set_form", border=True):
        st.markdown(f"**{t('users.role_site', lang)}**")
        st.selectbox(
            t("users.role", lang),
            options=[r.value for r in USER_ROLES],
            format_func=lambda r: role_label(r, lang),
            key="users_set_role",
        )
        st.selectbox(
            t("col.site", lang),
            options=["", *sites],
            format_func=lambda s: s or t("users.all_sites", lang),
            key="users_set_site",
        )
        st.text_input(
            t("users.company", lang),
            key="users_set_company",
            placeholder=t("users.company_placeholder", lang),
        )
        st.form_submit_button(
            t("users.save", lang),
            key="users_set_submit",
            on_click=set_role_and_site,
            args=(ctx.url, ctx.actor, user.name, lang),
        )
    with right, st.form("users_reset_form", border=True):
        st.markdown(f"**{t('users.reset', lang)}**")
        st.text_input(t("users.new_password", lang), type="password", key="users_reset_pw")
        st.form_submit_button(
            t("users.reset_submit", lang),
            key="users_reset_submit",
            on_click=reset_password,
            args=(ctx.url, ctx.actor, user.name, lang),
        )
    buttons = st.columns(3)
    if user.disabled_at is None:
        buttons[0].button(
            t("users.disable", lang),
            key="users_disable",
            icon=":material/block:",
            on_click=act,
            args=(ctx.url, ctx.actor, services.disable_user, user.name, "users.disabled", lang),
        )
    else:
        buttons[0].button(
            t("users.enable", lang),
            key="users_enable",
            icon=":material/check_circle:",
            on_click=act,
            args=(ctx.url, ctx.actor, services.enable_user, user.name, "users.enabled", lang),
        )
    if user.locked_until is not None:
        buttons[1].button(
            t("users.unlock", lang),
            key="users_unlock",
            icon=":material/lock_open:",
            on_click=act,
            args=(ctx.url, ctx.actor, services.unlock_user, user.name, "users.unlocked", lang),
        )


def _refused(exc: DomainError | StoreError, lang: str) -> None:
    flash_refusal(exc, lang, "users.action_refused")


@signed_in
def set_role_and_site(url: str, actor: Actor, name: str, lang: str) -> None:
    state = st.session_state
    try:
        services.set_user(
            get_database(url),
            name,
            role=str(state.get("users_set_role") or ""),
            site=str(state.get("users_set_site") or ""),
            # The company field counts for a company user only (another role is unbound).
            company=str(state.get("users_set_company") or "")
            if state.get("users_set_role") == Role.COMPANY.value
            else "",
            actor=actor,
        )
    except (DomainError, StoreError) as exc:
        _refused(exc, lang)
        state.pop(LOADED_KEY, None)  # show the stored values again
        return
    flash("success", t("users.saved", lang, name=name))


@signed_in
def reset_password(url: str, actor: Actor, name: str, lang: str) -> None:
    password = str(st.session_state.get("users_reset_pw") or "")
    st.session_state["users_reset_pw"] = ""  # emptied, not forgotten: a browser keeps it
    keep = session_token() if name == actor.name else None
    try:
        ended = services.reset_password(
            get_database(url), name, password, actor=actor, keep_token=keep
        )
    except (DomainError, StoreError) as exc:
        _refused(exc, lang)
        return
    flash("success", t("users.password_reset", lang, name=name, n=ended))


@signed_in
def act(
    url: str, actor: Actor, action: Callable[..., Any], name: str, done: str, lang: str
) -> None:
    try:
        action(get_database(url), name, actor=actor)
    except (DomainError, StoreError) as exc:
        _refused(exc, lang)
        return
    flash("success", t(done, lang, name=name))


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
        right.text_input(
            t("users.site", lang), key="user_site", placeholder=t("users.site_placeholder", lang)
        )
        left.text_input(t("users.password", lang), type="password", key="user_password")
        middle.text_input(
            t("users.company", lang),
            key="user_company",
            placeholder=t("users.company_placeholder", lang),
        )
        st.form_submit_button(
            t("users.submit", lang),
            type="primary",
            key="user_submit",
            on_click=add_user,
            args=(url, actor, lang),
        )


@signed_in
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
            company=str(state.get("user_company") or "") or None,
            actor=actor,
        )
    except (DomainError, StoreError) as exc:
        flash_refusal(exc, lang, "users.refused")
        return
    flash("success", t("users.added", lang, name=name.strip()))
    for field in USER_FIELDS:  # emptied, not forgotten: a browser would show them again
        state[field] = ""
