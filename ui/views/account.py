"""The signed-in user's own account: who they are, their session, and changing their password."""

from __future__ import annotations

import streamlit as st

from incubator import services
from incubator.access import Actor
from incubator.stages import DomainError
from incubator.store import StoreError
from ui.app_context import (
    PageContext,
    flash,
    flash_refusal,
    get_database,
    session_token,
    signed_in,
)
from ui.i18n import role_label, t
from ui.markup import escape_markdown
from ui.views.common import page_header

PASSWORD_FIELDS = ("account_current_pw", "account_new_pw", "account_new_pw2")


def render(ctx: PageContext) -> None:
    lang = ctx.lang
    page_header(t("account.title", lang), ctx, icon=":material/account_circle:", caption=" ")
    profile(ctx, lang)
    password_form(ctx, lang)


def profile(ctx: PageContext, lang: str) -> None:
    actor = ctx.actor
    user = services.get_user(ctx.db, actor.name)
    left, middle, right = st.columns(3)
    left.metric(t("users.name", lang), escape_markdown(actor.name))
    middle.metric(t("col.role", lang), role_label(actor.role.value, lang))
    right.metric(
        t("col.site", lang),
        escape_markdown(actor.site) if actor.site else t("users.all_sites", lang),
    )
    when = user.last_sign_in_at.strftime("%Y-%m-%d %H:%M UTC") if user.last_sign_in_at else "—"
    st.caption(t("account.last_sign_in", lang, when=when))


def password_form(ctx: PageContext, lang: str) -> None:
    with st.form("account_password_form", border=True):
        st.subheader(t("account.change_password", lang))
        st.caption(t("account.password_rules", lang))
        st.text_input(
            t("account.current_password", lang), type="password", key="account_current_pw"
        )
        st.text_input(t("account.new_password", lang), type="password", key="account_new_pw")
        st.text_input(t("account.repeat_password", lang), type="password", key="account_new_pw2")
        st.form_submit_button(
            t("account.change_submit", lang),
            type="primary",
            key="account_pw_submit",
            on_click=change_password,
            args=(ctx.url, ctx.actor, lang),
        )


@signed_in
def change_password(url: str, actor: Actor, lang: str) -> None:
    state = st.session_state
    current = str(state.get("account_current_pw") or "")
    new = str(state.get("account_new_pw") or "")
    repeat = str(state.get("account_new_pw2") or "")
    # A password never stays in the form: emptied, not forgotten (a browser shows a
    # forgotten field's last value again).
    for field in PASSWORD_FIELDS:
        state[field] = ""
    if new != repeat:
        flash("error", t("account.mismatch", lang))
        return
    try:
        ended = services.change_password(
            get_database(url), actor, current, new, keep_token=session_token()
        )
    except (DomainError, StoreError) as exc:
        flash_refusal(exc, lang, "account.refused")
        return
    flash("success", t("account.changed", lang, n=ended))
