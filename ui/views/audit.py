"""The audit log: events filtered by company, actor, kind and date; chain verification;
and, for administrators, importing and exporting the event log and the company facts."""

from __future__ import annotations

import io
from datetime import date
from functools import partial
from typing import Any

import streamlit as st

from incubator import services
from incubator.access import Actor
from incubator.audit import PROFILE
from incubator.evidence import FACT_KINDS
from incubator.stages import DomainError, EventKind
from incubator.store import StoreError
from ui import factframes, frames, loaders
from ui.app_context import (
    PageContext,
    after_write,
    flash,
    flash_refusal,
    get_database,
    signed_in,
)
from ui.i18n import kind_label, t
from ui.markup import escape_markdown, refusal
from ui.views.common import page_header, table_layout, upload_instructions

VERIFY_KEY = "audit_verify_result"
REJECTED_KEY = "audit_import_rejected"
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#: The import report shows this many problems, then scrolls (its header stays in view).
PROBLEMS_SHOWN = 12
PROBLEMS_HEIGHT = 480
#: The two lists the page shows: stage events, or company records (profile and facts).
VIEWS = ("events", "records")
RECORD_KINDS = (PROFILE, *FACT_KINDS)


def render(ctx: PageContext) -> None:
    lang = ctx.lang
    records_shown = st.session_state.get("audit_view") == "records"
    page_header(
        t("audit.title", lang),
        ctx,
        icon=":material/receipt_long:",
        caption=t("audit.records_caption" if records_shown else "audit.caption", lang),
    )
    shown = st.segmented_control(
        t("audit.view", lang),
        options=list(VIEWS),
        format_func=lambda v: t(f"audit.view.{v}", lang),
        default=VIEWS[0],
        required=True,
        key="audit_view",
        label_visibility="collapsed",
    )
    if shown == "records":
        records = loaders.record_rows(ctx.url, **records_filter_row(lang))
        records_panel(records, lang)
    else:
        filters = filter_row(lang)
        rows = loaders.audit_rows(ctx.url, **filters)
        events_panel(rows, lang)
    st.divider()
    verify_panel(ctx.url, lang)
    if ctx.actor.is_admin:
        st.divider()
        admin_panel(ctx.url, ctx.actor, lang)


def filter_row(lang: str) -> dict[str, Any]:
    """The audit filters, as keyword arguments of `loaders.audit_rows`."""
    cells = st.columns([2, 2, 2, 2, 2])
    company = cells[0].text_input(
        t("audit.company", lang),
        key="audit_company",
        placeholder=t("audit.company_placeholder", lang),
        icon=":material/search:",
        persist_state="session",  # kept when switching between events and records
    )
    actor = cells[1].text_input(t("audit.actor", lang), key="audit_actor", persist_state="session")
    kind = cells[2].selectbox(
        t("audit.kind", lang),
        options=[k.value for k in EventKind],
        format_func=lambda k: kind_label(k, lang),
        index=None,
        placeholder=t("filters.all", lang),
        key="audit_kind",
    )
    since = cells[3].date_input(
        t("audit.since", lang), value=None, format="YYYY-MM-DD", key="audit_since"
    )
    until = cells[4].date_input(
        t("audit.until", lang), value=None, format="YYYY-MM-DD", key="audit_until"
    )
    overrides = st.checkbox(
        t("audit.overrides_only", lang),
        key="audit_overrides",
        help=t("audit.overrides_help", lang),
    )
    return {
        "company": company.strip() or None,
        "actor": actor.strip() or None,
        "kind": kind,
        "since": since.isoformat() if isinstance(since, date) else None,
        "until": until.isoformat() if isinstance(until, date) else None,
        "overrides_only": overrides,
    }


def records_filter_row(lang: str) -> dict[str, Any]:
    """The company records' filters (the same company search as the events), as keyword
    arguments of `loaders.record_rows`."""
    cells = st.columns([2, 2, 2, 4])
    company = cells[0].text_input(
        t("audit.company", lang),
        key="audit_company",
        placeholder=t("audit.company_placeholder", lang),
        icon=":material/search:",
        persist_state="session",  # kept when switching between events and records
    )
    actor = cells[1].text_input(t("audit.actor", lang), key="audit_actor", persist_state="session")
    kind = cells[2].selectbox(
        t("audit.record_kind", lang),
        options=list(RECORD_KINDS),
        format_func=lambda k: factframes.record_kind_label(k, lang),
        index=None,
        placeholder=t("filters.all", lang),
        key="audit_record_kind",
    )
    return {
        "company": company.strip() or None,
        "actor": actor.strip() or None,
        "kind": kind,
    }


def records_panel(rows: list[dict[str, Any]], lang: str) -> None:
    """The company records (profile changes and facts), newest first."""
    if not rows:
        st.info(t("audit.records_empty", lang))
        return
    capped = len(rows) >= loaders.AUDIT_LIMIT
    st.caption(
        t("audit.records_capped" if capped else "audit.records_shown", lang, n=f"{len(rows):,}")
    )
    st.dataframe(
        factframes.records_table(rows, lang),
        hide_index=True,
        key="audit_records_table",
        height=440 if len(rows) > 12 else "auto",
        **table_layout(factframes.RECORDS_LAYOUT, lang),
    )


def events_panel(rows: list[dict[str, Any]], lang: str) -> None:
    if not rows:
        st.info(t("audit.empty", lang))
        return
    capped = len(rows) >= loaders.AUDIT_LIMIT
    st.caption(t("audit.capped" if capped else "audit.shown", lang, n=f"{len(rows):,}"))
    st.dataframe(
        frames.audit_table(rows, lang),
        hide_index=True,
        key="audit_table",
        height=440 if len(rows) > 12 else "auto",
        **table_layout(frames.AUDIT_LAYOUT, lang),
    )
    st.caption(t("audit.table_hint", lang))
    st.download_button(
        t("common.download_xlsx", lang),
        data=partial(frames.audit_xlsx, rows),
        file_name="audit-log.xlsx",
        mime=XLSX_MIME,
        key="audit_download",
        icon=":material/download:",
        on_click="ignore",
    )


def verify_panel(url: str, lang: str) -> None:
    st.button(
        t("audit.verify", lang),
        key="audit_verify",
        icon=":material/verified_user:",
        help=t("audit.verify_help", lang),
        on_click=verify_chain,
        args=(url,),
    )
    result = st.session_state.get(VERIFY_KEY)
    if isinstance(result, services.AuditResult):
        if result.ok:
            st.success(
                t(
                    "audit.verified",
                    lang,
                    events=f"{result.events:,}",
                    companies=f"{result.companies:,}",
                ),
                icon=":material/check_circle:",
            )
        else:
            st.error(refusal(result, lang, "audit.broken"), icon=":material/error:")


def verify_chain(url: str) -> None:
    st.session_state[VERIFY_KEY] = services.verify_audit(get_database(url))


def admin_panel(url: str, actor: Actor, lang: str) -> None:
    st.subheader(t("audit.admin", lang))
    left, right = st.columns(2, gap="large")
    with left, st.container(border=True):
        st.markdown(f"**{t('audit.import', lang)}**")
        st.file_uploader(
            t("audit.import", lang),
            type=["csv"],
            key="audit_import_file",
            help=t("audit.import_help", lang),
            label_visibility="collapsed",
        )
        upload_instructions("audit_import_file", lang)
        st.button(
            t("audit.import_button", lang),
            key="audit_import_button",
            type="primary",
            icon=":material/upload:",
            on_click=import_file,
            args=(url, actor, lang),
        )
    with right, st.container(border=True):
        st.markdown(f"**{t('audit.export', lang)}**")
        st.caption(t("audit.export_help", lang))
        buttons = st.columns(2)
        buttons[0].download_button(
            t("audit.export_button", lang),
            data=partial(export_workbook, url),
            file_name="incubator-events.xlsx",
            mime=XLSX_MIME,
            key="audit_export",
            icon=":material/download:",
            on_click="ignore",
        )
        buttons[1].download_button(
            t("audit.export_facts_button", lang),
            data=partial(export_workbook, url, facts=True),
            file_name="incubator-facts.xlsx",
            mime=XLSX_MIME,
            key="audit_export_facts",
            icon=":material/download:",
            on_click="ignore",
        )
    problems_panel(st.session_state.get(REJECTED_KEY) or [], lang)


def problems_panel(problems: list[Any], lang: str) -> None:
    """A rejected import's report, the width of the page: a plain table whose text wraps, so
    each problem reads in full at any window width (a grid would cut it at its column's
    edge). Problems quote the file: they are escaped, as the table renders Markdown."""
    if not problems:
        return
    st.error(t("audit.rejected", lang, n=len(problems)), icon=":material/error:")
    table = frames.problems_table(problems, lang)
    column = t("audit.problem", lang)
    table[column] = [escape_markdown(message) for message in table[column]]
    st.table(
        table,
        hide_index=True,
        height=PROBLEMS_HEIGHT if len(problems) > PROBLEMS_SHOWN else "content",
    )


@signed_in
def import_file(url: str, actor: Actor, lang: str) -> None:
    """Button callback: import the uploaded CSV — an event log, or facts when its header has
    a `fact` column — or keep every problem line to show."""
    st.session_state.pop(REJECTED_KEY, None)
    upload = st.session_state.get("audit_import_file")
    if upload is None:
        flash("warning", t("audit.import_none", lang))
        return
    try:
        result = services.import_file(
            get_database(url), upload.getvalue(), actor=actor, source=upload.name
        )
    except services.ImportRejected as exc:
        st.session_state[REJECTED_KEY] = list(exc.problems)
        return
    except (DomainError, StoreError) as exc:
        flash_refusal(exc, lang)
        return
    after_write()
    if isinstance(result, services.FactImportResult):
        done = t(
            "audit.imported_facts",
            lang,
            records=f"{result.records:,}",
            companies=f"{result.companies:,}",
        )
    else:
        done = t(
            "audit.imported",
            lang,
            events=f"{result.events:,}",
            new=f"{result.companies_new:,}",
            updated=f"{result.companies_updated:,}",
        )
    flash("success", done)


def export_workbook(url: str, *, facts: bool = False) -> bytes:
    """The whole event log, or every company fact, as an .xlsx workbook (text cells, never
    formulas)."""
    out = io.BytesIO()
    write = services.export_facts_workbook if facts else services.export_workbook
    write(get_database(url), out)
    return out.getvalue()
