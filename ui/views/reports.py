"""The reports page: the city's KPIs against their targets, the annual Torch statistics with
their workbook, and the logic checks to clear before filing (DESIGN §9, docs/reports.md).

Every signed-in role reads it, and every site's figures (as the command line's `incubator
report torch` and `incubator kpi`): the page only reads.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from functools import partial

import streamlit as st

from incubator import services
from incubator.reports import LABELS, Check, write_torch_workbook
from incubator.stages import DomainError
from incubator.values import EARLIEST_REPORT_YEAR
from ui import charts, frames, loaders
from ui.app_context import PageContext
from ui.i18n import t
from ui.markup import md, refusal
from ui.views.audit import XLSX_MIME
from ui.views.common import page_header

#: The checks in the order the page lists them (the most common first), and the one whose
#: companies' keys can be copied (managers chase those companies for their figures).
CHECK_ORDER = (
    "missing_figures", "missing_figure", "phd_above_employees", "rd_above_revenue",
    "overstayed", "graduated_without_gate",
)  # fmt: skip
COPYABLE_CHECK = "missing_figures"
#: The most company links one group of checks shows (the workbook's checks sheet has all).
CHECK_LINKS = 25


def render(ctx: PageContext) -> None:
    lang = ctx.lang
    page_header(
        t("reports.title", lang),
        ctx,
        icon=":material/assessment:",
        caption=t("reports.caption", lang),
    )
    year, site = pickers(ctx.url, lang)
    try:
        report = loaders.torch_report(ctx.url, year, site)
        kpis = loaders.kpi_trend(ctx.url, year)
    except DomainError as exc:  # an unknown site or year in the address: said, not raised
        st.error(refusal(exc, lang), icon=":material/error:")
        return
    kpi_panel(kpis, year, lang)
    st.divider()
    torch_panel(report, lang)
    st.divider()
    checks_panel(report.checks, year, lang)


def default_year() -> int:
    """The last completed calendar year (UTC): the one being filed."""
    return frames.utc_today().year - 1


def pickers(url: str, lang: str) -> tuple[int, str | None]:
    """The year (this year back to 1990; the last completed one by default) and the site
    (every site, or one of the registry), kept in the address bar so a report can be
    bookmarked (`?report_year=2025&report_site=钟祥`)."""
    years = list(range(frames.utc_today().year, EARLIEST_REPORT_YEAR - 1, -1))
    left, right, _ = st.columns([1, 2, 3])
    year = left.selectbox(
        t("reports.year", lang),
        options=years,
        index=years.index(default_year()),
        help=t("reports.year_help", lang),
        key="report_year",
        bind="query-params",
    )
    site = right.selectbox(
        t("reports.site", lang),
        options=loaders.report_sites(url),
        index=None,
        placeholder=t("reports.all_sites", lang),
        help=t("reports.site_help", lang),
        key="report_site",
        bind="query-params",
    )
    return int(year if year is not None else default_year()), site


def kpi_panel(docs: Sequence[dict[str, object]], year: int, lang: str) -> None:
    """The year's KPIs as a bullet chart against their targets, then the last five years."""
    st.subheader(t("reports.kpi", lang, year=year), help=t("reports.kpi_help", lang))
    frame = charts.kpi_frame(docs[-1])
    if frame["target"].isna().all():
        st.info(t("reports.kpi_none", lang, year=year), icon=":material/flag:")
    st.altair_chart(charts.kpi_chart(frame, lang), key="kpi_chart")
    st.altair_chart(charts.kpi_trend_chart(charts.kpi_trend_frame(docs), lang), key="kpi_trend")
    st.caption(t("reports.kpi_caption", lang))


def torch_panel(report: services.TorchReport, lang: str) -> None:
    """The indicators per site and in total, and the workbook the command line writes."""
    st.subheader(t("reports.torch", lang, year=report.year), help=t("reports.torch_help", lang))
    table = charts.torch_table(report.to_json(), lang)
    first = table.columns[0]
    st.dataframe(
        table,
        hide_index=True,
        key="torch_table",
        column_config={first: st.column_config.TextColumn(pinned=True)},
    )
    st.download_button(
        t("reports.download", lang),
        data=partial(workbook_bytes, report),
        file_name=workbook_name(report),
        mime=XLSX_MIME,
        help=t("reports.download_help", lang),
        key="torch_download",
        icon=":material/download:",
        on_click="ignore",
    )


def workbook_bytes(report: services.TorchReport) -> bytes:
    """The report's workbook, the same bytes `incubator report torch --out` writes."""
    out = io.BytesIO()
    write_torch_workbook(report, out)
    return out.getvalue()


def workbook_name(report: services.TorchReport) -> str:
    """`torch-2025.xlsx`, or `torch-2025-钟祥.xlsx` for one site (only its letters and
    digits: a site name never makes a path)."""
    site = "".join(c for c in report.site or "" if c.isalnum())
    return f"torch-{report.year}{'-' + site if site else ''}.xlsx"


def field_label(field: str, lang: str) -> str:
    """A field a check names, in `lang` (the report's catalogue)."""
    zh, en = LABELS.get(field, (field, field))
    return zh if lang == "zh" else en


def check_detail(check: Check, lang: str) -> str:
    """The check's finding in `lang`, without the company key it starts with (the link
    names the company already)."""
    text = check.message.render(lang)
    for prefix in (f"{check.key}: ", f"{check.key}："):
        if text.startswith(prefix):
            return text[len(prefix) :]
    return text


def checks_panel(checks: Sequence[Check], year: int, lang: str) -> None:
    """The findings grouped by check, each naming the company and the field in `lang` and
    linking to the company's page; the keys of the companies without figures can be copied."""
    st.subheader(t("reports.checks", lang), help=t("reports.checks_help", lang))
    if not checks:
        st.success(t("reports.checks_none", lang, year=year), icon=":material/check_circle:")
        return
    st.caption(t("reports.checks_count", lang, n=f"{len(checks):,}"))
    groups: dict[str, list[Check]] = {}
    for check in checks:
        groups.setdefault(check.check, []).append(check)
    order = [c for c in CHECK_ORDER if c in groups] + sorted(set(groups) - set(CHECK_ORDER))
    for kind in order:
        found = groups[kind]
        label = t(f"reports.check.{kind}", lang)
        title = t("reports.check_group", lang, label=label, n=f"{len(found):,}")
        with st.expander(title, expanded=len(order) == 1, icon=":material/rule:"):
            if kind == COPYABLE_CHECK:
                st.caption(t("reports.copy_keys", lang))
                keys = sorted({c.key for c in found})
                st.code("\n".join(keys), language=None, height=min(40 + 24 * len(keys), 240))
            for check in found[:CHECK_LINKS]:
                st.page_link(
                    "app_pages/company.py",
                    label=md(
                        "reports.check_line",
                        lang,
                        name=check.name,
                        key=check.key,
                        field=field_label(check.field, lang),
                        detail=check_detail(check, lang),
                    ),
                    icon=":material/apartment:",
                    query_params={"company": check.key},
                )
            if len(found) > CHECK_LINKS:
                st.caption(t("reports.checks_more", lang, n=f"{len(found) - CHECK_LINKS:,}"))
