"""Pieces every page uses: the header with the active filters, and domain-error messages."""

from __future__ import annotations

import streamlit as st

from ui.app_context import PageContext, show_flash
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
