"""The pipeline board: a column per stage, moving companies, and admitting new ones.

Moves run in button callbacks, so they act on what the previous run showed: the stage each
company had on screen is kept in `SEEN_KEY` when the board is drawn and sent to the service
as `seen=`. If someone else moved the company in the meantime, the service refuses the move
as a conflict and writes nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import streamlit as st

from incubator import services
from incubator.access import Actor
from incubator.stages import FOCUS_SECTORS, LADDER, Conflict, DomainError, EventKind, ExitReason
from incubator.store import StoreError
from incubator.values import EARLIEST_EVENT
from ui import frames, loaders
from ui.app_context import PageContext, after_write, flash, flash_refusal, get_database
from ui.frames import BoardColumn
from ui.i18n import reason_label, sector_label, stage_label, t
from ui.markup import md
from ui.views.common import page_header

SEEN_KEY = "board_seen"
SELECTION_KEY = "board_selection"
MOVE_FIELDS = ("board_note", "board_effective", "board_reason")
ADMIT_FIELDS = (
    "admit_key",
    "admit_name",
    "admit_uscc",
    "admit_note",
    "admit_date",
)


def render(ctx: PageContext) -> None:
    lang, scope = ctx.lang, ctx.scope
    page_header(
        t("board.title", lang), ctx, icon=":material/view_kanban:", caption=t("board.caption", lang)
    )
    search = st.text_input(
        t("board.search", lang),
        key="board_search",
        placeholder=t("board.search_placeholder", lang),
        icon=":material/search:",
    )
    loaded = loaders.board(ctx.url, scope.site, scope.sector, scope.cohort, search.strip())
    columns = frames.board_columns(
        loaded, now=datetime.now(UTC), limits=loaders.stage_limits(ctx.url)
    )
    board_panel(columns, lang)
    if not ctx.actor.can_write:
        st.info(t("common.read_only", lang), icon=":material/visibility:")
        return
    move_panel(ctx, columns)
    options = loaders.filter_options(ctx.url)
    admit_panel(ctx, sectors=_present(options["sectors"]), sites=_present(options["sites"]))


def _present(values: list[str]) -> list[str]:
    """The non-blank values, sorted (a picker's options)."""
    return sorted({str(v) for v in values if v})


# --- the board -----------------------------------------------------------------------------


def board_panel(columns: list[BoardColumn], lang: str) -> None:
    """One bordered column per stage: count, the longest stays first, and how many more."""
    for cell, column in zip(st.columns(len(columns), gap="small"), columns, strict=True):
        with cell.container(border=True):
            st.markdown(f"**{stage_label(column.stage, lang)}**")
            st.caption(frames.board_count(column.total, lang))
            if column.rows.empty:
                st.caption(t("board.empty_column", lang))
                continue
            # A long column scrolls inside the card; a short one takes only its own height.
            with st.container(height=460 if len(column.rows) > 5 else "content", border=False):
                st.markdown(frames.board_cards(column, lang))
            if column.more:
                st.caption(t("board.more", lang, n=f"{column.more:,}"))


# --- moving companies ----------------------------------------------------------------------


def move_panel(ctx: PageContext, columns: list[BoardColumn]) -> None:
    """Pick companies shown on the board, then advance them or take them out, with a note."""
    lang, actor = ctx.lang, ctx.actor
    shown = pd.concat([c.rows for c in columns], ignore_index=True)
    mine = shown[[actor.may_write_site(site) for site in shown["site"]]] if len(shown) else shown
    # What the user sees now: the move callbacks send it as `seen=`.
    st.session_state[SEEN_KEY] = dict(zip(mine["key"], mine["stage"], strict=True))
    with st.container(border=True):
        st.subheader(f":material/trending_up: {t('board.move_title', lang)}")
        if mine.empty:
            st.info(md("board.no_writable", lang, site=actor.site or "—"))
            return
        rows = mine.to_dict("records")
        # Option labels are plain text (a multiselect does not render Markdown).
        labels = {
            row["key"]: " · ".join(
                [
                    str(row["name"]),
                    str(row["key"]),
                    stage_label(row["stage"], lang),
                    t("board.days", lang, n=f"{row['days']:,.0f}"),
                ]
            )
            for row in rows
        }
        names = {row["key"]: str(row["name"]) for row in rows}
        selected = st.multiselect(
            t("board.select", lang),
            options=list(labels),
            format_func=lambda key: labels.get(key, key),
            key=SELECTION_KEY,
            help=t("board.select_help", lang),
            placeholder=t("board.select_placeholder", lang),
        )
        profile_links(selected, lang)
        seen = st.session_state[SEEN_KEY]
        moves = (
            frames.common_moves(seen[k] for k in selected if k in seen)
            if selected
            else [
                EventKind.ADVANCE,
                EventKind.EXIT,
            ]
        )
        if not moves:
            st.warning(
                md("board.no_common_move", lang, detail=", ".join(labels[k] for k in selected))
            )
            return
        left, middle, right = st.columns([2, 2, 3])
        with left:
            action = st.radio(
                t("board.action", lang),
                options=[m.value for m in moves],
                format_func=lambda m: t(f"board.action.{m}", lang),
                key="board_action",
            )
            if selected and EventKind.ADVANCE not in moves:
                top = [names[k] for k in selected if seen.get(k) == LADDER[-1]]
                st.caption(md("board.top_of_ladder", lang, name=", ".join(top)))
        with middle:
            if action == EventKind.EXIT:
                st.selectbox(
                    t("board.reason", lang),
                    options=[r.value for r in ExitReason],
                    format_func=lambda r: reason_label(r, lang),
                    index=None,
                    placeholder=t("board.reason_placeholder", lang),
                    key="board_reason",
                )
            st.date_input(
                t("board.effective", lang),
                value=None,
                min_value=EARLIEST_EVENT.date(),
                max_value=frames.utc_today(),
                help=t("board.effective_help", lang),
                format="YYYY-MM-DD",
                key="board_effective",
            )
        with right:
            st.text_area(
                t("board.note", lang),
                key="board_note",
                placeholder=t("board.note_placeholder", lang),
                height=108,
            )
        st.button(
            t("board.apply", lang),
            type="primary",
            key="board_apply",
            icon=":material/check:",
            on_click=apply_moves,
            args=(ctx.url, actor, lang),
            disabled=not selected,
        )


def profile_links(keys: list[str], lang: str, most: int = 4) -> None:
    """Links to the profiles of the first selected companies (same session, no sign-in)."""
    if not keys:
        return
    for cell, key in zip(st.columns(most), keys[:most], strict=False):
        cell.page_link(
            "app_pages/company.py",
            label=md("board.open_profile", lang, name=key),
            icon=":material/apartment:",
            query_params={"company": key},
        )


def apply_moves(url: str, actor: Actor, lang: str) -> None:
    """Button callback: move each selected company from the stage the user saw."""
    state = st.session_state
    keys: list[str] = list(state.get(SELECTION_KEY) or [])
    seen: dict[str, str] = dict(state.get(SEEN_KEY) or {})
    action = state.get("board_action")
    if not keys:
        flash("warning", t("board.no_selection", lang))
        return
    db = get_database(url)
    at = frames.effective_instant(state.get("board_effective"))
    note = str(state.get("board_note") or "").strip()
    moved: list[str] = []
    for key in keys:
        stage = seen.get(key)
        if stage is None:  # not on the board any more: never act on what was not shown
            flash("warning", t("board.refused", lang, name=key, detail=t("board.not_shown", lang)))
            continue
        try:
            if action == EventKind.EXIT:
                event = services.exit_company(
                    db,
                    key,
                    reason=str(state.get("board_reason") or ""),
                    actor=actor,
                    seen=stage,
                    note=note,
                    at=at,
                )
            else:
                event = services.advance(db, key, actor=actor, seen=stage, note=note, at=at)
        except Conflict as exc:
            flash_refusal(exc, lang, "board.conflict", name=key)
        except (DomainError, StoreError) as exc:
            flash_refusal(exc, lang, "board.refused", name=key)
        else:
            moved.append(
                t(
                    "board.moved_one",
                    lang,
                    name=key,
                    from_stage=stage_label(event.from_stage, lang),
                    to_stage=stage_label(event.to_stage, lang),
                )
            )
    if moved:
        after_write()
        flash("success", t("board.moved", lang, n=len(moved), names="; ".join(moved)))
        state[SELECTION_KEY] = []
        for field in MOVE_FIELDS:
            state.pop(field, None)


# --- admitting a company -------------------------------------------------------------------


def admit_panel(ctx: PageContext, *, sectors: list[str], sites: list[str]) -> None:
    """The admit form: the same checks as `incubator company add` (services.admit does them)."""
    lang, actor = ctx.lang, ctx.actor
    fixed_site = actor.site if actor.site and not actor.is_admin else None
    with (
        st.expander(f":material/add: {t('board.admit_title', lang)}"),
        st.form("admit_form", border=False),
    ):
        first, second, third = st.columns(3)
        first.text_input(
            t("board.admit.key", lang),
            key="admit_key",
            placeholder=t("board.admit.key_placeholder", lang),
        )
        second.text_input(t("board.admit.name", lang), key="admit_name")
        third.selectbox(
            t("board.admit.stage", lang),
            options=[s.value for s in LADDER],
            format_func=lambda s: stage_label(s, lang),
            key="admit_stage",
        )
        first.selectbox(
            t("board.admit.sector", lang),
            options=sorted(set(FOCUS_SECTORS) | set(sectors)),
            format_func=lambda s: sector_label(s, lang),
            index=None,
            accept_new_options=True,
            placeholder=t("board.admit.sector_placeholder", lang),
            key="admit_sector",
        )
        if fixed_site:
            second.text_input(
                t("board.admit.site", lang),
                value=fixed_site,
                disabled=True,
                key="admit_site_fixed",
                help=md("board.admit.site_fixed", lang, site=fixed_site),
            )
        else:
            second.selectbox(
                t("board.admit.site", lang),
                options=sites,
                index=None,
                accept_new_options=True,
                placeholder=t("board.admit.site_placeholder", lang),
                key="admit_site",
            )
        third.text_input(t("board.admit.uscc", lang), key="admit_uscc", max_chars=18)
        first.date_input(
            t("board.admit.date", lang),
            value=None,
            min_value=EARLIEST_EVENT.date(),
            max_value=frames.utc_today(),
            format="YYYY-MM-DD",
            key="admit_date",
        )
        st.text_input(t("board.admit.note", lang), key="admit_note")
        st.form_submit_button(
            t("board.admit.submit", lang),
            type="primary",
            key="admit_submit",
            on_click=admit_company,
            args=(ctx.url, actor, fixed_site, lang),
        )


def admit_company(url: str, actor: Actor, fixed_site: str | None, lang: str) -> None:
    """Form callback: admit the company; keep the form filled in when it is refused."""
    state = st.session_state
    key = str(state.get("admit_key") or "")
    stage = str(state.get("admit_stage") or LADDER[0].value)
    try:
        services.admit(
            get_database(url),
            key,
            name=str(state.get("admit_name") or ""),
            stage=stage,
            actor=actor,
            at=frames.effective_instant(state.get("admit_date")),
            sector=str(state.get("admit_sector") or ""),
            site=fixed_site or str(state.get("admit_site") or ""),
            uscc=str(state.get("admit_uscc") or "") or None,
            note=str(state.get("admit_note") or ""),
        )
    except (DomainError, StoreError) as exc:
        flash_refusal(exc, lang, "board.admit.refused")
        return
    after_write()
    flash("success", t("board.admit.done", lang, key=key.strip(), stage=stage_label(stage, lang)))
    for field in ADMIT_FIELDS:
        state.pop(field, None)
