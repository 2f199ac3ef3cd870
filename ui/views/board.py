"""The pipeline board: a column per stage, moving companies, and admitting new ones.

Moves run in button callbacks, so they act on what the previous run showed: the stage each
company had on screen is kept in `SEEN_KEY` when the board is drawn and sent to the service
as `seen=`. If someone else moved the company in the meantime, the service refuses the move
as a conflict and writes nothing.

The move and admit forms reset after a write by changing their widgets' keys (`form_key`):
Streamlit 1.67 identifies a keyed widget by its key alone, and the browser keeps the value a
widget shows for as long as its id lives. Deleting a widget's key in a callback resets the
server's copy only, so the browser went on showing the old note and sent it back with the next
move. A widget under a new key is a new widget, empty in the browser too.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

import pandas as pd
import streamlit as st

from incubator import services
from incubator.access import Actor
from incubator.evidence import MIN_OVERRIDE
from incubator.stages import FOCUS_SECTORS, LADDER, Conflict, DomainError, EventKind, ExitReason
from incubator.store import StoreError
from incubator.values import EARLIEST_EVENT, EARLIEST_FACT
from ui import frames, gates, loaders
from ui.app_context import (
    Level,
    PageContext,
    after_write,
    get_database,
    show_message,
    signed_in,
)
from ui.frames import BoardColumn
from ui.i18n import reason_label, refusal_text, sector_label, stage_label, t
from ui.markup import escape_markdown, md
from ui.views.common import form_key, next_generation, page_header

SEEN_KEY = "board_seen"
#: The picked companies the move form showed failing their gate (they move only with the
#: override reason; the others move without it).
GATE_FAILING_KEY = "board_gate_failing"
#: What the last move or admission did, shown next to its form on the next run.
MOVE_RESULT_KEY = "board_move_result"
ADMIT_RESULT_KEY = "board_admit_result"
#: Cards shown in a board column before "+N more".
CARDS_SHOWN = 8
#: The fields of the admit form (the move form's are in `move_panel`).
ADMIT_FIELDS = (
    "key", "name", "stage", "sector", "site", "uscc", "date", "note", "founded", "override",
)  # fmt: skip

Message = tuple[Level, str]


def show_messages(messages: list[Message]) -> None:
    """Results of the last action, shown where the action was taken (plain text, escaped)."""
    for level, plain in messages:
        show_message(level, plain)


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
    today = gate_views(ctx.url, columns)
    badges = {key: b for key, view in today.items() if (b := gates.badge(view, lang))}
    board_panel(columns, lang, badges)
    if not ctx.actor.can_write:
        st.info(t("common.read_only", lang), icon=":material/visibility:")
        return
    move_panel(ctx, columns, today, badges)
    options = loaders.filter_options(ctx.url)
    admit_panel(ctx, sectors=_present(options["sectors"]), sites=_present(options["sites"]))


def _present(values: list[str]) -> list[str]:
    """The non-blank values, sorted (a picker's options)."""
    return sorted({str(v) for v in values if v})


# --- the board -----------------------------------------------------------------------------


def gate_views(url: str, columns: list[BoardColumn]) -> dict[str, services.GateView]:
    """The gate of each shown company's next advance today (one cached batch)."""
    shown = sorted({str(k) for c in columns for k in c.rows["key"]})
    return loaders.gates(url, tuple(shown), frames.utc_today().isoformat())


def board_panel(
    columns: list[BoardColumn], lang: str, badges: Mapping[str, tuple[str, str]] | None = None
) -> None:
    """One bordered column per stage: count, the longest stays first, the rest of the loaded
    ones behind "+N more", and how many were not loaded; each card with the gate badge of
    the company's next advance (`badges`)."""
    for cell, column in zip(st.columns(len(columns), gap="small"), columns, strict=True):
        with cell.container(border=True):
            st.markdown(f"**{stage_label(column.stage, lang)}**")
            st.caption(frames.board_count(column.total, lang))
            if column.rows.empty:
                st.caption(t("board.empty_column", lang))
                continue
            st.markdown(frames.board_cards(column, lang, stop=CARDS_SHOWN, gates=badges))
            folded = len(column.rows) - CARDS_SHOWN
            if folded > 0:
                with st.expander(t("board.show_more", lang, n=f"{folded:,}")):
                    st.markdown(frames.board_cards(column, lang, start=CARDS_SHOWN, gates=badges))
            if column.more:
                st.caption(t("board.more", lang, n=f"{column.more:,}"))


# --- moving companies ----------------------------------------------------------------------


def move_panel(
    ctx: PageContext,
    columns: list[BoardColumn],
    today: dict[str, services.GateView] | None = None,
    badges: Mapping[str, tuple[str, str]] | None = None,
) -> None:
    """Pick companies shown on the board, then advance them or take them out, with a note.

    Each company's option shows its gate badge (`badges`). When picked companies fail the
    gate of their advance on the move's date, the form lists why and asks for an override
    reason, which goes to those companies only. Apply stays disabled until the move is
    complete (companies, a reason for an exit, an override reason for failing gates); what
    the move did, or why it was refused, is shown under the button."""
    lang, actor = ctx.lang, ctx.actor
    shown = pd.concat([c.rows for c in columns], ignore_index=True)
    mine = shown[[actor.may_write_site(site) for site in shown["site"]]] if len(shown) else shown
    # What the user sees now: the move callbacks send it as `seen=`.
    st.session_state[SEEN_KEY] = dict(zip(mine["key"], mine["stage"], strict=True))
    keys = {
        f: form_key("board", f) for f in ("selection", "reason", "effective", "note", "override")
    }
    badges = badges or {}
    with st.container(border=True):
        st.subheader(f":material/trending_up: {t('board.move_title', lang)}")
        if mine.empty:
            st.info(md("board.no_writable", lang, site=actor.site or "—"))
            show_messages(st.session_state.pop(MOVE_RESULT_KEY, []))
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
                    *([badges[row["key"]][1]] if row["key"] in badges else []),
                ]
            )
            for row in rows
        }
        names = {row["key"]: str(row["name"]) for row in rows}
        selected = st.multiselect(
            t("board.select", lang),
            options=list(labels),
            format_func=lambda key: labels.get(key, key),
            key=keys["selection"],
            help=t("board.select_help", lang),
            placeholder=t("board.select_placeholder", lang),
            select_all=False,  # moves are chosen company by company (and it is English)
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
            st.session_state[GATE_FAILING_KEY] = []
            st.warning(
                md("board.no_common_move", lang, detail=", ".join(labels[k] for k in selected))
            )
            show_messages(st.session_state.pop(MOVE_RESULT_KEY, []))
            return
        left, middle, right = st.columns([2, 2, 3])
        reason = None
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
                reason = st.selectbox(
                    t("board.reason", lang),
                    options=[r.value for r in ExitReason],
                    format_func=lambda r: reason_label(r, lang),
                    index=None,
                    placeholder=t("board.reason_placeholder", lang),
                    key=keys["reason"],
                )
            effective = st.date_input(
                t("board.effective", lang),
                value=None,
                min_value=EARLIEST_EVENT.date(),
                max_value=frames.utc_today(),
                help=t("board.effective_help", lang),
                format="YYYY-MM-DD",
                key=keys["effective"],
            )
            # A typed date outside the bounds is dropped by the widget without a word, and
            # the move would then take effect now: say which moment the move will carry.
            st.caption(
                t("board.effective_on", lang, date=effective.isoformat())
                if isinstance(effective, date)
                else t("board.effective_now", lang, earliest=EARLIEST_EVENT.date().isoformat())
            )
        with right:
            st.text_area(
                t("board.note", lang),
                key=keys["note"],
                placeholder=t("board.note_placeholder", lang),
                height=108,
            )
        failing: list[str] = []
        if action == EventKind.ADVANCE and selected:
            views = selected_gates(ctx.url, selected, effective, today or {})
            failing = [k for k in selected if k in views and not views[k].passed]
            if failing:
                override_panel([views[k] for k in failing], names, lang, keys["override"])
        st.session_state[GATE_FAILING_KEY] = failing
        missing_reason = action == EventKind.EXIT and reason is None
        given = len(str(st.session_state.get(keys["override"]) or "").strip())
        missing_override = bool(failing) and given < MIN_OVERRIDE
        button, hint = st.columns([1, 5], vertical_alignment="center")
        button.button(
            t("board.apply", lang),
            type="primary",
            key="board_apply",
            icon=":material/check:",
            on_click=apply_moves,
            args=(ctx.url, actor, lang, keys),
            disabled=not selected or missing_reason or missing_override,
        )
        if not selected:
            hint.caption(t("board.no_selection", lang))
        elif missing_reason:
            hint.caption(t("board.reason_needed", lang))
        elif missing_override and given:
            hint.caption(t("gate.override_short", lang, least=MIN_OVERRIDE, n=given))
        elif missing_override:
            hint.caption(
                md("gate.override_needed", lang, names=_listed(failing, lang), least=MIN_OVERRIDE)
            )
        show_messages(st.session_state.pop(MOVE_RESULT_KEY, []))


def _listed(keys: list[str], lang: str) -> str:
    return ("、" if lang == "zh" else ", ").join(keys)


def selected_gates(
    url: str, selected: list[str], effective: Any, today: dict[str, services.GateView]
) -> dict[str, services.GateView]:
    """The gates of the picked companies' advance on the move's date: today's batch when
    no earlier date is picked, else one batch for that day."""
    day = effective if isinstance(effective, date) else None
    if day is None or day >= frames.utc_today():
        return today
    return loaders.gates(url, tuple(sorted(selected)), day.isoformat())


def override_panel(
    failing: list[services.GateView], names: dict[str, str], lang: str, key: str
) -> None:
    """Which picked companies fail their gate and why (every unmet criterion with the
    company's own figure, in the reader's language), and the override reason."""
    with st.container(border=True):
        for view in failing:
            heading = gates.failing_heading(view, names.get(view.key, view.key), lang)
            lines = "".join(
                f"\n- {escape_markdown(line)}" for line in gates.unmet_lines(view, lang)
            )
            st.warning(f"{escape_markdown(heading)}{lines}", icon=":material/gpp_maybe:")
        st.text_input(
            t("gate.override", lang),
            key=key,
            placeholder=t("gate.override_placeholder", lang),
            help=t("gate.override_help", lang, least=MIN_OVERRIDE),
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


@signed_in
def apply_moves(url: str, actor: Actor, lang: str, keys: dict[str, str]) -> None:
    """Button callback: move each selected company from the stage the user saw.

    `keys` are the move form's widget keys as drawn. An advance passes the override reason
    to the companies the form showed failing their gate, and to those only; without a reason
    of at least `MIN_OVERRIDE` characters nothing moves. A gate that fails when the move is
    made (the facts or the policy changed meanwhile) refuses that company, with its criteria.
    When every company moved, the form starts afresh (a new generation of keys: no company,
    note, date, reason or override carries over to the next move); when some were refused,
    only those stay selected, with the note and the override reason."""
    state = st.session_state
    selection: list[str] = list(state.get(keys["selection"]) or [])
    seen: dict[str, str] = dict(state.get(SEEN_KEY) or {})
    action = state.get("board_action")
    messages: list[Message] = []
    state[MOVE_RESULT_KEY] = messages
    if not selection:
        messages.append(("warning", t("board.no_selection", lang)))
        return
    failing = (
        [k for k in state.get(GATE_FAILING_KEY) or [] if k in selection]
        if action == EventKind.ADVANCE
        else []
    )
    override = str(state.get(keys["override"]) or "").strip() or None
    if failing and (override is None or len(override) < MIN_OVERRIDE):
        names = _listed(failing, lang)
        messages.append(
            ("error", t("gate.override_refused", lang, names=names, least=MIN_OVERRIDE))
        )
        return
    db = get_database(url)
    at = frames.effective_instant(state.get(keys["effective"]))
    note = str(state.get(keys["note"]) or "").strip()
    moved: list[str] = []
    refused: list[str] = []
    for key in selection:
        stage = seen.get(key)
        if stage is None:  # not on the board any more: never act on what was not shown
            messages.append(
                ("warning", t("board.refused", lang, name=key, detail=t("board.not_shown", lang)))
            )
            continue
        try:
            if action == EventKind.EXIT:
                event = services.exit_company(
                    db,
                    key,
                    reason=str(state.get(keys["reason"]) or ""),
                    actor=actor,
                    seen=stage,
                    note=note,
                    at=at,
                )
            else:
                event = services.advance(
                    db,
                    key,
                    actor=actor,
                    seen=stage,
                    note=note,
                    at=at,
                    override=override if key in failing else None,
                )
        except Conflict as exc:
            refused.append(key)
            messages.append(("warning", refusal_text(exc, lang, "board.conflict", name=key)))
        except (DomainError, StoreError) as exc:
            refused.append(key)
            messages.append(("error", refusal_text(exc, lang, "board.refused", name=key)))
        else:
            moved.append(
                t(
                    "board.moved_one",
                    lang,
                    name=key,
                    from_stage=stage_label(event.from_stage, lang),
                    to_stage=stage_label(event.to_stage, lang),
                )
                + (t("gate.overridden", lang) if event.override else "")
            )
    if not moved:
        return
    after_write()
    messages.insert(0, ("success", t("board.moved", lang, n=len(moved), names="; ".join(moved))))
    if refused:
        state[keys["selection"]] = refused  # the moved ones leave the form; the rest stay
    else:
        next_generation("board")


# --- admitting a company -------------------------------------------------------------------


def admit_panel(ctx: PageContext, *, sectors: list[str], sites: list[str]) -> None:
    """The admit form: the same checks as `incubator company add` (services.admit does them).
    What the admission did, or why it was refused, is shown under the form."""
    lang, actor = ctx.lang, ctx.actor
    fixed_site = actor.site if actor.site and not actor.is_admin else None
    keys = {f: form_key("admit", f) for f in ADMIT_FIELDS}
    with st.expander(f":material/add: {t('board.admit_title', lang)}"):
        with st.form("admit_form", border=False):
            first, second, third = st.columns(3)
            first.text_input(
                t("board.admit.key", lang),
                key=keys["key"],
                placeholder=t("board.admit.key_placeholder", lang),
            )
            second.text_input(t("board.admit.name", lang), key=keys["name"])
            third.selectbox(
                t("board.admit.stage", lang),
                options=[s.value for s in LADDER],
                format_func=lambda s: stage_label(s, lang),
                key=keys["stage"],
            )
            first.selectbox(
                t("board.admit.sector", lang),
                options=sorted(set(FOCUS_SECTORS) | set(sectors)),
                format_func=lambda s: sector_label(s, lang),
                index=None,
                accept_new_options=True,
                placeholder=t("board.admit.sector_placeholder", lang),
                key=keys["sector"],
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
                    key=keys["site"],
                )
            third.text_input(t("board.admit.uscc", lang), key=keys["uscc"], max_chars=18)
            first.date_input(
                t("board.admit.date", lang),
                value=None,
                min_value=EARLIEST_EVENT.date(),
                max_value=frames.utc_today(),
                format="YYYY-MM-DD",
                key=keys["date"],
            )
            second.date_input(
                t("gate.admit_founded", lang),
                value=None,
                min_value=EARLIEST_FACT,
                max_value=frames.utc_today(),
                format="YYYY-MM-DD",
                help=t("gate.admit_founded_help", lang),
                key=keys["founded"],
            )
            third.text_input(
                t("gate.admit_override", lang),
                key=keys["override"],
                help=t("gate.admit_override_help", lang, least=MIN_OVERRIDE),
            )
            st.text_input(t("board.admit.note", lang), key=keys["note"])
            st.form_submit_button(
                t("board.admit.submit", lang),
                type="primary",
                key="admit_submit",
                on_click=admit_company,
                args=(ctx.url, actor, fixed_site, lang, keys),
            )
        show_messages(st.session_state.pop(ADMIT_RESULT_KEY, []))


@signed_in
def admit_company(
    url: str, actor: Actor, fixed_site: str | None, lang: str, keys: dict[str, str]
) -> None:
    """Form callback: admit the company; the form starts afresh after an admission and
    keeps what was typed when it is refused."""
    state = st.session_state
    key = str(state.get(keys["key"]) or "")
    stage = str(state.get(keys["stage"]) or LADDER[0].value)
    try:
        services.admit(
            get_database(url),
            key,
            name=str(state.get(keys["name"]) or ""),
            stage=stage,
            actor=actor,
            at=frames.effective_instant(state.get(keys["date"])),
            sector=str(state.get(keys["sector"]) or ""),
            site=fixed_site or str(state.get(keys["site"]) or ""),
            uscc=str(state.get(keys["uscc"]) or "") or None,
            note=str(state.get(keys["note"]) or ""),
            founded=state.get(keys["founded"]) or None,
            override=str(state.get(keys["override"]) or "").strip() or None,
        )
    except (DomainError, StoreError) as exc:
        state[ADMIT_RESULT_KEY] = [("error", refusal_text(exc, lang, "board.admit.refused"))]
        return
    after_write()
    state[ADMIT_RESULT_KEY] = [
        ("success", t("board.admit.done", lang, key=key.strip(), stage=stage_label(stage, lang)))
    ]
    next_generation("admit")
