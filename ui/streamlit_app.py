"""The incubation pipeline tracker's web app (run it with `incubator ui`).

`main()` signs the user in, draws the shared sidebar (language, filters kept in the address
bar, sign-out) and hands a `PageContext` to the page `st.navigation` picks. Each page lives in
`ui/views/` as one function per panel; `ui/app_pages/` holds the tiny scripts that call them.
"""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

if __package__ in (None, ""):  # `streamlit run ui/streamlit_app.py` from a plain checkout
    _root = str(Path(__file__).resolve().parent.parent)
    if _root not in sys.path:
        sys.path.insert(0, _root)

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from incubator import services
from incubator.access import Actor, Role
from incubator.store import Database
from incubator.values import EARLIEST_EVENT
from ui import frames, loaders
from ui.app_context import (
    ACTOR_KEY,
    CONTEXT_KEY,
    PageContext,
    Scope,
    database_url,
    get_database,
)
from ui.i18n import (
    DEFAULT_LANGUAGE,
    LANGUAGES,
    normalize_language,
    role_label,
    sector_label,
    t,
)
from ui.markup import md

#: Query-parameter names of the shared filters (a view can be bookmarked).
FILTER_PARAMS = ("site", "sector", "cohort", "as_of")
EARLIEST_AS_OF = EARLIEST_EVENT.date()  # no event is older (DESIGN §10)


def main() -> None:
    st.set_page_config(
        page_title="Incubation pipeline · 孵化管线",
        page_icon=":material/spa:",
        layout="wide",
        initial_sidebar_state="expanded",
    )
    # The sidebar: navigation on top, then the filters, then language and account.
    filters_box, settings_box = st.sidebar.container(), st.sidebar.container()
    lang = language_picker(settings_box)
    url = database_url()
    db = open_database(url, lang)
    if db is None:
        return
    actor = st.session_state.get(ACTOR_KEY)
    signed_in = isinstance(actor, Actor)
    # Register the pages even before sign-in, so a bookmarked address (/board?site=钟祥)
    # is recognised and opens once the user has signed in.
    page = st.navigation(
        pages(actor if signed_in else None, lang), position="sidebar" if signed_in else "hidden"
    )
    if not isinstance(actor, Actor):
        sign_in_page(db, lang)
        return
    scope = filter_panel(url, lang, filters_box)
    account_panel(actor, lang, settings_box)
    st.session_state[CONTEXT_KEY] = PageContext(url=url, actor=actor, lang=lang, scope=scope)
    page.run()


def pages(actor: Actor | None, lang: str) -> dict[str, list[st.Page]]:
    """The navigation: pipeline pages for everyone, records, and user admin for admins
    (all of them before sign-in, when the navigation is hidden)."""
    pipeline = [
        st.Page(
            "app_pages/funnel.py",
            title=t("nav.funnel", lang),
            icon=":material/filter_alt:",
            url_path="funnel",
            default=True,
        ),
        st.Page(
            "app_pages/dwell.py",
            title=t("nav.dwell", lang),
            icon=":material/timer:",
            url_path="dwell",
        ),
        st.Page(
            "app_pages/board.py",
            title=t("nav.board", lang),
            icon=":material/view_kanban:",
            url_path="board",
        ),
    ]
    records = [
        st.Page(
            "app_pages/company.py",
            title=t("nav.company", lang),
            icon=":material/apartment:",
            url_path="company",
        ),
        st.Page(
            "app_pages/audit.py",
            title=t("nav.audit", lang),
            icon=":material/receipt_long:",
            url_path="audit",
        ),
    ]
    if actor is None or actor.is_admin:
        records.append(
            st.Page(
                "app_pages/users.py",
                title=t("nav.users", lang),
                icon=":material/group:",
                url_path="users",
            )
        )
    return {
        t("nav.section.pipeline", lang): pipeline,
        t("nav.section.records", lang): records,
    }


# --- panels --------------------------------------------------------------------------------


def open_database(url: str, lang: str) -> Database | None:
    """The cached database, or an explanation on screen when it cannot be opened."""
    try:
        return get_database(url)
    except Exception as exc:  # the boundary: any store error becomes a message, not a traceback
        st.title(t("app.title", lang))
        st.error(
            md("db.unavailable", lang, error=str(exc).splitlines()[0]), icon=":material/error:"
        )
        st.info(t("db.hint", lang))
        return None


def language_picker(where: DeltaGenerator) -> str:
    """English / 简体中文, remembered in the address bar as `?lang=zh`.

    Kept in sync by hand rather than with `bind="query-params"`, which would write the
    option's label (`?lang=简体中文`) instead of its code.
    """
    if "lang" not in st.session_state:
        st.session_state["lang"] = normalize_language(st.query_params.get("lang"))
    lang = normalize_language(
        where.radio(
            ":material/translate: Language · 语言",
            options=list(LANGUAGES),
            format_func=LANGUAGES.__getitem__,
            key="lang",
            horizontal=True,
        )
    )
    if lang == DEFAULT_LANGUAGE:
        st.query_params.pop("lang", None)
    elif st.query_params.get("lang") != lang:
        st.query_params["lang"] = lang
    return lang


def sign_in_page(db: Database, lang: str) -> None:
    """The sign-in form; on success the actor is kept in the session and the app reruns."""
    _, middle, _ = st.columns([1, 2, 1])
    with middle:
        st.title(f":material/spa: {t('app.title', lang)}")
        st.caption(t("app.subtitle", lang))
        with st.form("sign_in_form", border=True):
            st.subheader(t("signin.title", lang))
            st.write(t("signin.intro", lang))
            name = st.text_input(t("signin.user", lang), key="signin_user")
            password = st.text_input(t("signin.password", lang), type="password", key="signin_pw")
            submitted = st.form_submit_button(
                t("signin.submit", lang), type="primary", key="signin_submit"
            )
        if submitted:
            if not name.strip() or not password:
                st.warning(t("signin.missing", lang))
                return
            try:
                actor = services.authenticate(db, name, password)
            except services.AuthenticationFailed:
                st.error(t("signin.failed", lang), icon=":material/error:")
                return
            st.session_state[ACTOR_KEY] = actor
            st.session_state.pop("signin_pw", None)
            st.rerun()


def account_panel(actor: Actor, lang: str, where: DeltaGenerator) -> None:
    with where:
        st.markdown(md("signin.as", lang, name=actor.name))
        role = role_label(actor.role.value, lang)
        st.caption(
            md("signin.role_site", lang, role=role, site=actor.site)
            if actor.site and actor.role is not Role.ADMIN
            else t("signin.role", lang, role=role)
        )
        st.button(t("signout", lang), key="sign_out", on_click=sign_out, icon=":material/logout:")


def sign_out() -> None:
    for key in list(st.session_state):
        if key not in ("lang", *FILTER_PARAMS):
            del st.session_state[key]
    st.cache_data.clear()


def filter_panel(url: str, lang: str, where: DeltaGenerator) -> Scope:
    """Site, sector, cohort and as-of pickers, bound to the address bar (`?site=钟祥&cohort=2024`)."""
    options = loaders.filter_options(url)
    everyone = t("filters.all", lang)
    with where:
        st.subheader(t("filters.title", lang))
        site = st.selectbox(
            t("filters.site", lang),
            options=[s for s in options["sites"] if s],
            index=None,
            placeholder=everyone,
            key="site",
            bind="query-params",
        )
        sector = st.selectbox(
            t("filters.sector", lang),
            options=[s for s in options["sectors"] if s],
            format_func=lambda s: sector_label(s, lang),
            index=None,
            placeholder=everyone,
            key="sector",
            bind="query-params",
        )
        cohort = st.selectbox(
            t("filters.cohort", lang),
            options=list(options["cohorts"]),
            index=None,
            placeholder=everyone,
            key="cohort",
            bind="query-params",
        )
        as_of = st.date_input(
            t("filters.as_of", lang),
            value=None,
            min_value=EARLIEST_AS_OF,
            max_value=frames.utc_today(),
            help=t("filters.as_of_help", lang),
            format="YYYY-MM-DD",
            key="as_of",
            bind="query-params",
        )
        st.button(
            t("filters.reset", lang),
            key="reset_filters",
            on_click=reset_filters,
            icon=":material/filter_alt_off:",
        )
        st.caption(t("filters.bookmark", lang))
        st.divider()
    return Scope(
        site=site,
        sector=sector,
        cohort=cohort,
        as_of=as_of if isinstance(as_of, date) else None,
    )


def reset_filters() -> None:
    for key in FILTER_PARAMS:
        st.session_state[key] = None


if __name__ == "__main__":
    main()
