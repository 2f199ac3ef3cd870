"""The gate policy (DESIGN §8): for everyone signed in, which criteria guard entering each
stage, in the reader's language; for administrators, an uploader that replaces it with a
TOML or JSON file (`incubator policy set`), refused with the line that is wrong."""

from __future__ import annotations

import json

import streamlit as st

from incubator import services
from incubator.access import Actor
from incubator.stages import LADDER, DomainError
from incubator.store import StoreError
from ui import gates, loaders
from ui.app_context import (
    PageContext,
    after_write,
    flash,
    flash_refusal,
    get_database,
    signed_in,
)
from ui.i18n import stage_label, t
from ui.markup import escape_markdown, md
from ui.views.common import page_header, upload_instructions

UPLOAD_KEY = "policy_file"


def render(ctx: PageContext) -> None:
    lang = ctx.lang
    page_header(
        t("policy.title", lang), ctx, icon=":material/rule:", caption=t("policy.caption", lang)
    )
    view = loaders.policy(ctx.url)
    policy_panel(view, lang)
    if ctx.actor.is_admin:
        replace_panel(ctx.url, ctx.actor, view, lang)


def policy_panel(view: services.PolicyView, lang: str) -> None:
    """One bordered box per gated stage (ladder order): all or any, and its criteria as the
    policy states them; then the stages without a gate, and who set the policy."""
    order = {stage.value: i for i, stage in enumerate(LADDER)}
    gated = sorted(view.policy.gates, key=lambda g: order.get(g.stage.value, len(order)))
    if not gated:
        st.info(t("policy.none", lang), icon=":material/lock_open:")
    else:
        for cell, gate in zip(st.columns(len(gated)), gated, strict=True):
            with cell.container(border=True):
                st.markdown(f"**{escape_markdown(gates.gate_heading(gate, lang))}**")
                st.markdown(
                    "\n".join(f"- {escape_markdown(c)}" for c in gates.criterion_lines(gate, lang))
                )
        free = [s for s in LADDER if view.policy.gate_into(s.value) is None]
        if free:
            sep = "、" if lang == "zh" else ", "
            st.caption(
                t("policy.ungated", lang, stages=sep.join(stage_label(s, lang) for s in free))
            )
    if view.default:
        st.caption(t("policy.default", lang))
    elif view.changed_by:
        when = view.changed_at.strftime("%Y-%m-%d %H:%M UTC") if view.changed_at else "—"
        st.caption(md("policy.changed", lang, by=view.changed_by, when=when))


def replace_panel(url: str, actor: Actor, view: services.PolicyView, lang: str) -> None:
    """Administrators: download the policy as JSON, upload a TOML or JSON file to replace it."""
    with st.container(border=True):
        st.subheader(f":material/upload_file: {t('policy.replace', lang)}")
        st.caption(t("policy.replace_help", lang))
        st.file_uploader(
            t("policy.replace", lang),
            type=["toml", "json"],
            key=UPLOAD_KEY,
            label_visibility="collapsed",
        )
        upload_instructions(UPLOAD_KEY, lang, "policy.limits")
        left, right = st.columns([1, 3])
        left.button(
            t("policy.upload_button", lang),
            key="policy_upload",
            type="primary",
            icon=":material/upload:",
            on_click=replace_policy,
            args=(url, actor, lang),
        )
        right.download_button(
            t("policy.download", lang),
            data=json.dumps(view.to_json(), ensure_ascii=False, indent=2) + "\n",
            file_name="gate-policy.json",
            mime="application/json",
            key="policy_download",
            icon=":material/download:",
            on_click="ignore",
        )


def policy_format(name: str) -> str | None:
    """ "toml" or "json" by the file's extension; None lets the parser guess."""
    lowered = name.lower()
    if lowered.endswith(".toml"):
        return "toml"
    if lowered.endswith(".json"):
        return "json"
    return None


@signed_in
def replace_policy(url: str, actor: Actor, lang: str) -> None:
    """Button callback: replace the policy with the uploaded file, or say which line of it
    is wrong (the policy stays as it was)."""
    upload = st.session_state.get(UPLOAD_KEY)
    if upload is None:
        flash("warning", t("policy.upload_none", lang))
        return
    # A byte that is not UTF-8 is kept as an escape: the parser refuses it by name.
    text = upload.getvalue().decode("utf-8-sig", errors="surrogateescape")
    try:
        view = services.policy_set(
            get_database(url), text, actor=actor, source=upload.name, fmt=policy_format(upload.name)
        )
    except (DomainError, StoreError) as exc:
        flash_refusal(exc, lang, "policy.refused")
        return
    after_write()
    flash("success", t("policy.replaced", lang, n=len(view.policy.gates)))
