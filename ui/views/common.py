"""Pieces every page uses: the header with the active filters, and the file uploader's text."""

from __future__ import annotations

import json
from typing import Any

import streamlit as st

from ui.app_context import PageContext, show_flash
from ui.frames import Layout
from ui.i18n import sector_label, t
from ui.markup import escape_markdown


def scope_summary(ctx: PageContext) -> str:
    """The filters in effect, as Markdown: the site and sector (from the address bar, or
    stored names) are escaped."""
    scope, lang = ctx.scope, ctx.lang
    instant = scope.as_of_instant()
    as_of = instant.strftime("%Y-%m-%d") if instant else t("filters.now", lang)
    parts = [escape_markdown(p) for p in (scope.site, sector_label(scope.sector, lang)) if p]
    if scope.cohort is not None:
        parts.append(t("filters.cohort_value", lang, cohort=scope.cohort))
    return t(
        "filters.summary",
        lang,
        as_of=as_of,
        scope=" · ".join(parts) if parts else t("filters.everything", lang),
    )


def page_header(title: str, ctx: PageContext, *, icon: str = "", caption: str = "") -> None:
    """Title, the filters in effect, and any messages kept from the previous run.

    `title` and `caption` are Markdown written by the app (translated messages)."""
    st.title(f"{icon} {title}".strip())
    st.caption(caption or scope_summary(ctx))
    show_flash()


def upload_instructions(key: str, lang: str, limits: str = "audit.import_limits") -> None:
    """The file uploader `key` in the reader's language: Streamlit's uploader writes its own
    English ("Upload", "Drag and drop a file here", "200MB per file • CSV") and takes no text
    for them, so its instructions are hidden and ours shown below it, and its button and drop
    hint are relabelled, by a small CSS override scoped to that one widget (offline: no file is
    fetched; the labels are the app's own translated messages). `limits` is the message that
    says which files it takes and how large (`{mb}`)."""
    st.caption(t(limits, lang, mb=st.get_option("server.maxUploadSize")))
    scope = f".st-key-{key} [data-testid='stFileUploaderDropzone']"
    choose, drop = (
        json.dumps(t(k, lang), ensure_ascii=False) for k in ("audit.choose_file", "audit.drop_file")
    )
    st.html(
        f"<style>"
        f"{scope} [data-testid='stFileUploaderDropzoneInstructions'] {{display: none;}}"
        f"{scope} button p {{font-size: 0;}}"
        f"{scope} button p::after {{content: {choose}; font-size: 0.875rem;}}"
        f"{scope} > div:not([data-testid]) > span {{font-size: 0;}}"
        f"{scope} > div:not([data-testid]) > span::after {{content: {drop}; font-size: 0.875rem;}}"
        f"</style>"
    )


def table_layout(layout: Layout, lang: str) -> dict[str, Any]:
    """`st.dataframe` keyword arguments that show a table as `layout` says: the columns in
    its order, with its widths."""
    return {
        "column_order": [t(header, lang) for header, _ in layout],
        "column_config": {
            t(header, lang): st.column_config.Column(width=width)
            for header, width in layout
            if width is not None
        },
    }


# --- forms that start afresh ---------------------------------------------------------------

#: How many times each form has been reset (the suffix of its widgets' keys), by form name.
GENERATION_KEY = "_form_generation"


def form_key(form: str, field: str) -> str:
    """The key of `field` of the form `form` in the form's current generation, e.g.
    `board_note_0`, then `board_note_1` after a successful move. A form resets by changing
    its widgets' keys: a browser keeps showing (and sends back) a widget's value for as long
    as its key stays, whatever the server forgot."""
    generation = st.session_state.get(GENERATION_KEY, {}).get(form, 0)
    return f"{form}_{field}_{generation}"


def next_generation(form: str) -> None:
    """Reset `form`: its widgets get new keys on the next run (and the old ones are dropped)."""
    generations = dict(st.session_state.get(GENERATION_KEY, {}))
    generations[form] = generations.get(form, 0) + 1
    st.session_state[GENERATION_KEY] = generations
