"""A company's facts and evidence (DESIGN §8) on its page: the founding date, its
qualifications, financing rounds, milestones and annual figures as known today; and, for
administrators and the managers of its site, the forms that record each kind of fact.

The forms call the same use cases as the command line (`services.record_qualification`,
...), which check every value and refuse with a coded error; a refusal is shown in the
reader's language and the form keeps what was typed. After a record the form starts afresh:
its widgets get new keys (a new generation, as the board's forms do; see `ui.views.board`),
so the browser does not keep showing, and send back, the values of the last record.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import streamlit as st

from incubator import services
from incubator.access import Actor
from incubator.evidence import (
    FIGURES,
    FINANCING,
    FOUNDED,
    MILESTONE,
    QUALIFICATION,
    REVOCATION,
    CompanyFacts,
    Level,
    MilestoneKind,
    QualificationKind,
)
from incubator.stages import DomainError
from incubator.store import StoreError
from incubator.values import EARLIEST_FACT
from ui import charts, factframes, frames
from ui.app_context import PageContext, after_write, flash, get_database, signed_in
from ui.i18n import refusal_text, t
from ui.markup import escape_markdown, md, refusal
from ui.views import common

#: Why the last record of each form was refused (plain text, in the reader's language).
REFUSED_KEY = "facts_form_refused"
#: The company the forms were last drawn for.
COMPANY_KEY = "facts_form_company"
#: The forms, in the order of their tabs.
FORMS: tuple[str, ...] = (FOUNDED, QUALIFICATION, REVOCATION, FINANCING, MILESTONE, FIGURES)
#: The figures form's fields, three to a row.
FIGURE_COLUMNS = 3


def form_key(form: str, field: str) -> str:
    """The key of `field` of the facts form `form` in its current generation, e.g.
    `facts_financing_amount_0`, then `facts_financing_amount_1` after a record."""
    return common.form_key(f"facts_{form}", field)


def next_generation(form: str) -> None:
    """Reset the facts form `form`: its widgets get new keys on the next run."""
    common.next_generation(f"facts_{form}")


def render(ctx: PageContext, company: services.CompanyView) -> None:
    """The facts panel of `company`, then the forms when the reader may write its facts."""
    lang = ctx.lang
    st.subheader(f":material/workspace_premium: {t('facts.title', lang)}", divider="gray")
    st.caption(t("facts.caption", lang))
    try:
        view = services.facts(ctx.db, company.key)
    except (DomainError, StoreError) as exc:
        st.error(refusal(exc, lang), icon=":material/error:")
        return
    facts_panel(view.facts, view.day, lang)
    if ctx.actor.may_write_site(company.site):
        fresh_forms_for(company.key)
        forms_panel(ctx, company.key, view.facts)


def fresh_forms_for(key: str) -> None:
    """Another company than the forms were last drawn for: every form starts afresh, so
    nothing typed (or refused) for one company is recorded for the next."""
    state = st.session_state
    shown = state.get(COMPANY_KEY)
    if shown == key:
        return
    state[COMPANY_KEY] = key
    state.pop(REFUSED_KEY, None)
    if shown is not None:
        for form in FORMS:
            next_generation(form)


# --- what is known -------------------------------------------------------------------------


def facts_panel(facts: CompanyFacts, day: date, lang: str) -> None:
    cells = st.columns(3)
    cells[0].metric(
        t("facts.founded", lang),
        facts.founded_on.isoformat() if facts.founded_on else factframes.NONE,
        border=True,
    )
    valid = sum(1 for q in facts.qualifications if q.valid_on(day))
    cells[1].metric(t("facts.valid_count", lang), valid, border=True)
    cells[2].metric(
        t("facts.financing_sum", lang), factframes.yuan(facts.financing_total), border=True
    )
    if facts.founded_on is None:
        st.caption(t("facts.founded_none", lang))

    st.markdown(f"**{t('facts.qualifications', lang)}**")
    if facts.qualifications:
        st.dataframe(
            factframes.qualifications_table(facts, day, lang),
            hide_index=True,
            key="facts_qualifications",
        )
    else:
        st.caption(t("facts.qualifications_none", lang))

    st.markdown(f"**{t('facts.financing', lang)}**")
    if facts.financing:
        st.dataframe(
            factframes.financing_table(facts, lang), hide_index=True, key="facts_financing"
        )
        st.caption(
            t(
                "facts.financing_total",
                lang,
                amount=factframes.yuan(facts.financing_total),
                n=len(facts.financing),
            )
        )
    else:
        st.caption(t("facts.financing_none", lang))

    st.markdown(f"**{t('facts.milestones', lang)}**")
    if facts.milestones:
        st.dataframe(
            factframes.milestones_table(facts, lang), hide_index=True, key="facts_milestones"
        )
    else:
        st.caption(t("facts.milestones_none", lang))

    figures_panel(facts, lang)


def figures_panel(facts: CompanyFacts, lang: str) -> None:
    st.markdown(f"**{t('facts.figures', lang)}**")
    if not facts.figures:
        st.caption(t("facts.figures_none", lang))
        return
    every = st.toggle(t("facts.figures_all", lang), key="facts_figures_all")
    names = factframes.ALL_FIGURES if every else factframes.MAIN_FIGURES
    st.dataframe(
        factframes.figures_table(facts.figures, lang, names),
        hide_index=True,
        key="facts_figures",
    )
    st.caption(t("facts.figures_units", lang))
    frame = charts.figures_frame(facts.figures)
    if not frame.empty:
        st.altair_chart(charts.figures_chart(frame, lang), height=320, key="facts_figures_chart")


# --- recording facts -----------------------------------------------------------------------


def forms_panel(ctx: PageContext, key: str, facts: CompanyFacts) -> None:
    """One tab per kind of fact, each a form with an optional evidence reference and note."""
    lang = ctx.lang
    with st.container(border=True):
        st.markdown(f"**:material/edit_note: {t('facts.forms', lang)}**")
        st.caption(md("facts.forms_hint", lang, key=key))
        # Keyed and tracked, the tabs keep the one in use across the rerun a record or a
        # refusal makes (untracked, they went back to the first tab, away from the form).
        tabs = st.tabs(
            [factframes.record_kind_label(form, lang) for form in FORMS],
            key="facts_tab",
            on_change="rerun",
        )
        builders: dict[str, Callable[[PageContext, str, CompanyFacts], None]] = {
            FOUNDED: founded_form,
            QUALIFICATION: qualification_form,
            REVOCATION: revocation_form,
            FINANCING: financing_form,
            MILESTONE: milestone_form,
            FIGURES: figures_form,
        }
        for tab, form in zip(tabs, FORMS, strict=True):
            with tab:
                builders[form](ctx, key, facts)


def _day_input(label: str, key: str, *, future: bool = False, help: str | None = None) -> None:
    today = frames.utc_today()
    st.date_input(
        label,
        value=None,
        min_value=EARLIEST_FACT,
        max_value=today + timedelta(days=366 * 50) if future else today,
        format="YYYY-MM-DD",
        help=help,
        key=key,
    )


def _evidence_and_note(form: str, lang: str) -> None:
    left, right = st.columns(2)
    left.text_input(
        t("facts.field.evidence", lang),
        key=form_key(form, "evidence"),
        placeholder=t("facts.field.evidence_placeholder", lang),
    )
    right.text_input(t("facts.field.note", lang), key=form_key(form, "note"))


def _submit(ctx: PageContext, key: str, form: str, year: int | None = None) -> None:
    """The form's button, and under it why the last record was refused (shown where the
    reader is looking, not at the top of a long page; it stays until the next try)."""
    st.form_submit_button(
        t("facts.submit", ctx.lang),
        type="primary",
        icon=":material/add:",
        key=f"facts_{form}_submit",
        on_click=record_fact,
        args=(ctx.url, ctx.actor, ctx.lang, key, form),
        kwargs={"year": year} if year is not None else None,
    )
    refused = st.session_state.get(REFUSED_KEY, {}).get(form)
    if refused:
        st.error(escape_markdown(refused), icon=":material/error:")


def founded_form(ctx: PageContext, key: str, facts: CompanyFacts) -> None:
    lang, form = ctx.lang, FOUNDED
    with st.form(f"facts_{form}_form", border=False):
        _day_input(t("facts.field.founded_on", lang), form_key(form, "on"))
        _evidence_and_note(form, lang)
        _submit(ctx, key, form)


def qualification_form(ctx: PageContext, key: str, facts: CompanyFacts) -> None:
    lang, form = ctx.lang, QUALIFICATION
    with st.form(f"facts_{form}_form", border=False):
        first, second, third = st.columns(3)
        with first:
            st.selectbox(
                t("facts.field.kind", lang),
                options=[k.value for k in QualificationKind],
                format_func=lambda k: factframes.qualification_label(k, lang),
                index=None,
                placeholder=t("facts.field.kind_placeholder", lang),
                key=form_key(form, "kind"),
            )
            _day_input(t("facts.field.granted_on", lang), form_key(form, "granted"))
        with second:
            st.selectbox(
                t("facts.field.level", lang),
                options=[level.value for level in Level],
                format_func=lambda v: factframes.level_label(v, lang),
                index=None,
                placeholder=t("facts.field.level_placeholder", lang),
                key=form_key(form, "level"),
            )
            _day_input(
                t("facts.field.expires_on", lang),
                form_key(form, "expires"),
                future=True,
                help=t("facts.field.expires_help", lang),
            )
        with third:
            st.text_input(t("facts.field.number", lang), key=form_key(form, "number"))
        _evidence_and_note(form, lang)
        _submit(ctx, key, form)


def revocation_form(ctx: PageContext, key: str, facts: CompanyFacts) -> None:
    lang, form = ctx.lang, REVOCATION
    kinds = [k.value for k in QualificationKind]
    revocable = {q.kind.value for q in facts.qualifications if q.revoked_on is None}
    if not revocable:
        st.caption(t("facts.field.no_open_grant", lang))
        return
    with st.form(f"facts_{form}_form", border=False):
        first, second = st.columns(2)
        first.selectbox(
            t("facts.field.revoke_kind", lang),
            options=[k for k in kinds if k in revocable],
            format_func=lambda k: factframes.qualification_label(k, lang),
            index=None,
            placeholder=t("facts.field.kind_placeholder", lang),
            help=t("facts.field.revoke_help", lang),
            key=form_key(form, "kind"),
        )
        with second:
            _day_input(t("facts.field.revoked_on", lang), form_key(form, "on"))
        st.text_input(t("facts.field.revoke_reason", lang), key=form_key(form, "reason"))
        _evidence_and_note(form, lang)
        _submit(ctx, key, form)


def financing_form(ctx: PageContext, key: str, facts: CompanyFacts) -> None:
    lang, form = ctx.lang, FINANCING
    with st.form(f"facts_{form}_form", border=False):
        first, second = st.columns(2)
        with first:
            _day_input(t("facts.field.financed_on", lang), form_key(form, "on"))
            st.text_input(
                t("facts.field.round", lang),
                key=form_key(form, "round"),
                placeholder=t("facts.field.round_placeholder", lang),
            )
        with second:
            st.text_input(
                t("facts.field.amount", lang),
                key=form_key(form, "amount"),
                placeholder=t("facts.field.amount_placeholder", lang),
            )
            st.text_input(t("facts.field.investor", lang), key=form_key(form, "investor"))
        _evidence_and_note(form, lang)
        _submit(ctx, key, form)


def milestone_form(ctx: PageContext, key: str, facts: CompanyFacts) -> None:
    lang, form = ctx.lang, MILESTONE
    with st.form(f"facts_{form}_form", border=False):
        first, second = st.columns(2)
        first.selectbox(
            t("facts.field.milestone", lang),
            options=[k.value for k in MilestoneKind],
            format_func=lambda k: factframes.milestone_label(k, lang),
            index=None,
            placeholder=t("facts.field.milestone_placeholder", lang),
            key=form_key(form, "kind"),
        )
        with second:
            _day_input(t("facts.field.milestone_on", lang), form_key(form, "on"))
        _evidence_and_note(form, lang)
        _submit(ctx, key, form)


def figures_form(
    ctx: PageContext, key: str, facts: CompanyFacts, *, year: int | None = None
) -> None:
    """The annual figures form; with `year`, the figures of that year only (no year field:
    a company user's form for last year)."""
    lang, form = ctx.lang, FIGURES
    this_year = frames.utc_today().year
    with st.form(f"facts_{form}_form", border=False):
        if year is None:
            st.caption(t("facts.field.figures_hint", lang))
            st.number_input(
                t("facts.field.year", lang),
                min_value=EARLIEST_FACT.year,
                max_value=this_year,
                value=None,
                step=1,
                format="%d",
                placeholder=str(this_year - 1),
                key=form_key(form, "year"),
            )
        else:
            st.caption(t("mycompany.figures_hint", lang, year=year))
        columns = st.columns(FIGURE_COLUMNS)
        for i, name in enumerate(factframes.ALL_FIGURES):
            columns[i % FIGURE_COLUMNS].text_input(
                factframes.figure_label(name, lang, unit=True), key=form_key(form, name)
            )
        _evidence_and_note(form, lang)
        _submit(ctx, key, form, year)


# --- the forms' callback -------------------------------------------------------------------


def _value(form: str, field: str) -> Any:
    return st.session_state.get(form_key(form, field))


def _text(form: str, field: str) -> str:
    return str(_value(form, field) or "")


def _day(form: str, field: str) -> date | str:
    """The chosen day, or "" when none was chosen (refused as an empty date)."""
    value = _value(form, field)
    return value if isinstance(value, date) else ""


def _refused(form: str, text: str | None) -> None:
    """Keep (or, with None, forget) why the last record of `form` was refused."""
    kept = dict(st.session_state.get(REFUSED_KEY, {}))
    if text is None:
        kept.pop(form, None)
    else:
        kept[form] = text
    st.session_state[REFUSED_KEY] = kept


@signed_in
def record_fact(
    url: str, actor: Actor, lang: str, key: str, form: str, *, year: int | None = None
) -> None:
    """Form callback: record what the form `form` holds for the company `key` (the figures
    of `year` when the form has no year field). A refusal is shown under the form in `lang`,
    and the form keeps its values; a record is flashed (a toast) and the form starts
    afresh."""
    # A kind not chosen yet: say so, rather than the domain's "unknown kind ''".
    needed = {QUALIFICATION: "facts.kind_needed", REVOCATION: "facts.kind_needed",
              MILESTONE: "facts.milestone_needed"}  # fmt: skip
    if form in needed and not _text(form, "kind"):
        _refused(form, t("facts.refused", lang, detail=t(needed[form], lang)))
        return
    db = get_database(url)
    common: dict[str, Any] = {
        "actor": actor,
        "evidence": _text(form, "evidence") or None,
        "note": _text(form, "note"),
    }
    try:
        if form == FOUNDED:
            record = services.record_founding(db, key, founded_on=_day(form, "on"), **common)
        elif form == QUALIFICATION:
            expires = _value(form, "expires")
            record = services.record_qualification(
                db,
                key,
                _text(form, "kind"),
                granted_on=_day(form, "granted"),
                expires_on=expires if isinstance(expires, date) else None,
                level=_text(form, "level") or None,
                number=_text(form, "number") or None,
                **common,
            )
        elif form == REVOCATION:
            record = services.revoke_qualification(
                db,
                key,
                _text(form, "kind"),
                revoked_on=_day(form, "on"),
                reason=_text(form, "reason"),
                **common,
            )
        elif form == FINANCING:
            record = services.record_financing(
                db,
                key,
                amount=_text(form, "amount"),
                on=_day(form, "on"),
                round_name=_text(form, "round") or None,
                investor=_text(form, "investor") or None,
                **common,
            )
        elif form == MILESTONE:
            record = services.record_milestone(
                db, key, _text(form, "kind"), on=_day(form, "on"), **common
            )
        else:
            if year is None:
                year = _value(form, "year")
            record = services.record_figures(
                db,
                key,
                year="" if year is None else int(year),
                values={name: _text(form, name) for name in factframes.ALL_FIGURES},
                **common,
            )
    except (DomainError, StoreError) as exc:
        _refused(form, refusal_text(exc, lang, "facts.refused"))
        return
    _refused(form, None)
    after_write()
    flash(
        "success",
        t(
            "facts.recorded",
            lang,
            what=factframes.record_kind_label(record.kind, lang),
            key=record.key,
            seq=record.seq,
        ),
    )
    next_generation(form)
