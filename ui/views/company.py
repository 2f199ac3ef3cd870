"""One company: its profile, a timeline of its stays, and its event history.

The chosen company is part of the address (`/company?company=JM-0042`), so a profile can be
bookmarked or linked to from the board.
"""

from __future__ import annotations

from datetime import UTC, datetime

import streamlit as st

from incubator import services
from incubator.stages import DomainError, EventKind, Stage, allowed_triggers, next_stage
from ui import charts, frames, gates, loaders
from ui.app_context import PageContext
from ui.i18n import kind_label, sector_label, stage_label, t
from ui.markup import escape_markdown, md
from ui.views import facts as facts_view
from ui.views.common import page_header

MATCHES_SHOWN = 50
COMPANY_PARAM = "company"
LAST_QUERY_KEY = "company_last_query"
#: The company this page last wrote into the address.
SYNCED_KEY = "_company_in_address"


def render(ctx: PageContext) -> None:
    lang = ctx.lang
    page_header(
        t("company.title", lang),
        ctx,
        icon=":material/apartment:",
        caption=t("company.choose", lang),
    )
    key = company_picker(ctx)
    if key is None:
        st.info(t("company.empty", lang), icon=":material/search:")
        return
    db = ctx.db
    try:
        view = services.show(db, key)
        events = services.history(db, key)
    except DomainError:
        st.warning(md("company.unknown", lang, key=key))
        return
    profile_panel(view, lang)
    gate_panel(ctx.url, view, lang)
    facts_view.render(ctx, view)
    timeline_panel(events, lang)
    history_panel(events, lang)


def company_picker(ctx: PageContext) -> str | None:
    """Search by key or name, then pick one of the first matches; returns the chosen key."""
    lang = ctx.lang
    left, right = st.columns([1, 2])
    query = left.text_input(
        t("company.find", lang),
        key="company_find",
        placeholder=t("company.find_placeholder", lang),
        icon=":material/search:",
    ).strip()
    shown, total = loaders.search(ctx.url, query, MATCHES_SHOWN)
    names = dict(zip(shown["key"], shown["name"], strict=True))
    # Keep the company in the address bar (or already chosen) selectable whatever the search;
    # a key typed into the address in another case (`?company=jm-0042`) opens its company.
    linked = st.query_params.get(COMPANY_PARAM)
    if linked:
        found = loaders.company_key_name(ctx.url, linked)
        if found is not None and found[0] != linked:
            linked = found[0]
            st.session_state[COMPANY_PARAM] = linked
    for wanted in (linked, st.session_state.get(COMPANY_PARAM)):
        if wanted and wanted not in names:
            name = loaders.company_name(ctx.url, wanted)
            if name is not None:
                names = {wanted: name, **names}
    # A company named by the address (a link, a bookmark) that this page did not write there
    # itself is the one to show.
    if linked in names and linked != st.session_state.get(SYNCED_KEY):
        st.session_state[COMPANY_PARAM] = linked
    # A new search that finds exactly one company opens it, unless one is open already.
    if query != st.session_state.get(LAST_QUERY_KEY, ""):
        st.session_state[LAST_QUERY_KEY] = query
        if query and total == 1 and st.session_state.get(COMPANY_PARAM) is None:
            st.session_state[COMPANY_PARAM] = str(shown["key"].iloc[0])
    if query and not total:
        left.caption(md("company.no_match", lang, query=query))
    elif total > len(shown):
        left.caption(t("company.matches", lang, n=f"{total:,}", shown=len(shown)))
    key = right.selectbox(
        t("company.pick", lang),
        options=list(names),
        format_func=lambda k: f"{k} · {names.get(k, '')}",  # plain text, not Markdown
        index=None,
        placeholder=t("company.pick_placeholder", lang),
        key=COMPANY_PARAM,
        persist_state="session",
    )
    # The address carries the key alone (`?company=JM-0042`), not the option's label, so it
    # is kept in sync by hand rather than with `bind="query-params"`.
    chosen = str(key) if key else None
    if chosen is None:
        st.query_params.pop(COMPANY_PARAM, None)
    elif st.query_params.get(COMPANY_PARAM) != chosen:
        st.query_params[COMPANY_PARAM] = chosen
    st.session_state[SYNCED_KEY] = chosen
    return chosen


def profile_panel(view: services.CompanyView, lang: str, *, moves: bool = True) -> None:
    """The company's name, stage and profile; with `moves`, the moves it allows next (not
    for a company user, who makes none)."""
    st.header(escape_markdown(view.name), divider="gray")
    cells = st.columns(4)
    cells[0].metric(t("company.stage", lang), stage_label(view.stage, lang), border=True)
    if view.stage != "exited":
        days = view.days_in_stage(datetime.now(UTC))
        cells[1].metric(
            t("company.in_stage", lang), t("common.days", lang, n=f"{days:,.0f}"), border=True
        )
    else:  # no stay goes on: when it left instead of an empty card
        cells[1].metric(
            t("company.exited_on", lang), view.entered_stage_at.strftime("%Y-%m-%d"), border=True
        )
    cells[2].metric(t("company.admitted", lang), view.admitted_at.strftime("%Y-%m-%d"), border=True)
    cells[3].metric(t("company.events", lang), view.events, border=True)
    facts = [
        (t("col.key", lang), view.key),
        (t("company.site", lang), view.site or "—"),
        (t("company.sector", lang), sector_label(view.sector, lang) or "—"),
        (t("company.cohort", lang), view.cohort),
        (t("company.uscc", lang), view.uscc or "—"),
    ]
    st.markdown(" · ".join(f"**{label}** {escape_markdown(value)}" for label, value in facts))
    if not moves:
        return
    # "Advance → Nursery", and plain "Exit": an exit leads out of the ladder, to 退出 itself.
    allowed = [
        kind_label(k, lang)
        if k is EventKind.EXIT
        else f"{kind_label(k, lang)} → {stage_label(next_stage_of(view.stage, k), lang)}"
        for k in allowed_triggers(view.stage)
    ]
    separator = "、" if lang == "zh" else ", "
    st.caption(
        t("company.next", lang, moves=separator.join(allowed))
        if allowed
        else t("company.next_none", lang)
    )


def gate_panel(url: str, view: services.CompanyView, lang: str) -> None:
    """Would the company's next advance pass its gate today? Ready, or every unmet
    criterion with the company's own figure (as the board's move form says it); nothing
    when the next step has no gate or the company cannot advance."""
    if view.stage == Stage.EXITED.value or next_stage(Stage(view.stage)) is None:
        return
    today = frames.utc_today().isoformat()
    gate = loaders.gates(url, (view.key,), today).get(view.key)
    if gate is None or gate.outcome is None:
        return
    if gate.passed:
        shown = gates.badge(gate, lang)
        st.success(
            t(
                "company.gate_ready",
                lang,
                badge=shown[1] if shown else "",
                stage=stage_label(gate.to, lang),
            ),
            icon=":material/verified:",
        )
        return
    heading = gates.failing_heading(gate, view.name, lang)
    lines = "".join(f"\n- {escape_markdown(line)}" for line in gates.unmet_lines(gate, lang))
    st.warning(
        f"{escape_markdown(heading)}{lines}\n\n{escape_markdown(t('company.gate_how', lang))}",
        icon=":material/gpp_maybe:",
    )


def next_stage_of(stage: str, kind: EventKind) -> str:
    if kind is EventKind.EXIT:
        return Stage.EXITED.value
    dest = next_stage(Stage(stage))
    return dest.value if dest else stage


def timeline_panel(events: list[services.EventView], lang: str) -> None:
    frame = charts.timeline_frame(
        [{"effective_at": e.effective_at, "to_stage": e.to_stage} for e in events]
    )
    if frame.empty:
        return
    st.altair_chart(charts.timeline_chart(frame, lang), key="timeline_chart")


def history_panel(events: list[services.EventView], lang: str) -> None:
    st.subheader(t("company.history", lang))
    st.dataframe(frames.history_table(events, lang), hide_index=True, key="history_table")
