"""The incubation pipeline tracker's web app (run it with `incubator ui`, which serves it
through `ui/server.py`).

`main()` checks the browser's session on every run (the cookie that `/signin` set; see
`ui.web_auth`), draws the shared sidebar (language, filters kept in the address bar, account
and sign-out) and hands a `PageContext` to the page `st.navigation` picks. Each page lives in
`ui/views/` as one function per panel; `ui/app_pages/` holds the tiny scripts that call them.
"""

from __future__ import annotations

import json
import sys
from datetime import date
from html import escape
from pathlib import Path
from urllib.parse import urlencode

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
    SESSION_TOKEN_KEY,
    UNSAVED_KEY,
    PageContext,
    Scope,
    database_url,
    get_database,
    session_token,
)
from ui.i18n import (
    LANGUAGES,
    error_text,
    normalize_language,
    preferred_language,
    role_label,
    sector_label,
    t,
)
from ui.markup import md

#: Query-parameter names of the shared filters (a view can be bookmarked).
FILTER_PARAMS = ("site", "sector", "cohort", "as_of")
#: The pages that read the shared filters (`url_path`; "" is the default page, the funnel).
#: Other pages (company, audit log, users) do not show them.
FILTERED_PAGES = frozenset({"", "funnel", "dwell", "board"})
#: Set once the site filter has been given its first value for the signed-in user.
SITE_DEFAULTED_KEY = "_site_defaulted"
#: The browser tab's icon. An emoji becomes a data: URL in the page; a `:material/…:` icon
#: made every browser fetch it from fonts.gstatic.com (offline networks are common).
PAGE_ICON = "🌱"
EARLIEST_AS_OF = EARLIEST_EVENT.date()  # no event is older (DESIGN §10)
#: Set when this tab signs out, to say so on the next run.
SIGNED_OUT_KEY = "_signed_out"


def main() -> None:
    st.set_page_config(
        page_title="Incubation pipeline · 孵化管线",
        page_icon=PAGE_ICON,
        layout="wide",
        initial_sidebar_state="expanded",
    )
    # The sidebar: navigation on top, then the filters, then language and account.
    filters_box, settings_box = st.sidebar.container(), st.sidebar.container()
    lang = language_picker(settings_box)
    streamlit_text(lang)
    url = database_url()
    db = open_database(url, lang)
    if db is None:
        return
    # Every run checks the session, so signing out (here or in another tab), an expired
    # session or a disabled account takes effect on the next click.
    token = session_token()
    actor = services.session_actor(db, token)
    # Register the pages even when signed out, so the address of a page is recognised.
    page = st.navigation(pages(actor, lang), position="sidebar" if actor is not None else "hidden")
    if actor is None:
        why = (
            "signin.ended_before_write"
            if st.session_state.pop(UNSAVED_KEY, False)
            else "signin.signed_out"
            if st.session_state.get(SIGNED_OUT_KEY)
            else "signin.ended_here"
            if token
            else "signin.needed"
        )
        forget_session_state()
        signed_out_page(lang, page.url_path, t(why, lang))
        return
    st.session_state[ACTOR_KEY] = actor
    scope = (
        filter_panel(url, actor, lang, filters_box)
        if uses_filters(page) and not actor.is_company
        else Scope()
    )
    account_panel(db, actor, lang, settings_box)
    st.session_state[CONTEXT_KEY] = PageContext(url=url, actor=actor, lang=lang, scope=scope)
    page.run()


def pages(actor: Actor | None, lang: str) -> dict[str, list[st.Page]]:
    """The navigation: pipeline pages for everyone, records, and user and site admin for admins
    (all of them before sign-in, when the navigation is hidden). A company user has only
    their company and their account: no other page is registered, so no address reaches it."""
    if actor is not None and actor.is_company:
        return {t("nav.section.records", lang): company_user_pages(lang)}
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
        st.Page(
            "app_pages/reports.py",
            title=t("nav.reports", lang),
            icon=":material/assessment:",
            url_path="reports",
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
        st.Page(
            "app_pages/policy.py",
            title=t("nav.policy", lang),
            icon=":material/rule:",
            url_path="policy",
        ),
    ]
    records.append(
        st.Page(
            "app_pages/account.py",
            title=t("nav.account", lang),
            icon=":material/account_circle:",
            url_path="account",
        )
    )
    if actor is None or actor.is_admin:
        records.append(
            st.Page(
                "app_pages/users.py",
                title=t("nav.users", lang),
                icon=":material/group:",
                url_path="users",
            )
        )
        records.append(
            st.Page(
                "app_pages/sites.py",
                title=t("nav.sites", lang),
                icon=":material/domain:",
                url_path="sites",
            )
        )
    return {
        t("nav.section.pipeline", lang): pipeline,
        t("nav.section.records", lang): records,
    }


def company_user_pages(lang: str) -> list[st.Page]:
    """A company user's navigation: their company, the default page (served at `/`, the
    address a company user bookmarks), and their account."""
    return [
        st.Page(
            "app_pages/my_company.py",
            title=t("nav.my_company", lang),
            icon=":material/storefront:",
            url_path="my-company",
            default=True,
        ),
        st.Page(
            "app_pages/account.py",
            title=t("nav.account", lang),
            icon=":material/account_circle:",
            url_path="account",
        ),
    ]


# --- panels --------------------------------------------------------------------------------


def open_database(url: str, lang: str) -> Database | None:
    """The cached database, or an explanation on screen when it cannot be opened."""
    try:
        return get_database(url)
    except Exception as exc:  # the boundary: any store error becomes a message, not a traceback
        st.title(t("app.title", lang))
        detail = error_text(exc, lang).splitlines()[0] if str(exc) else type(exc).__name__
        st.error(md("db.unavailable", lang, error=detail), icon=":material/error:")
        st.info(t("db.hint", lang))
        return None


def language_picker(where: DeltaGenerator) -> str:
    """English / 简体中文: the browser's language (as the sign-in form's) unless the reader
    picks the other, which the address bar then keeps (`?lang=zh`, `?lang=en`), so a reload,
    a bookmark or a link keeps it.

    Kept in sync by hand rather than with `bind="query-params"`, which would write the
    option's label (`?lang=简体中文`) instead of its code.
    """
    browser = browser_language()
    if "lang" not in st.session_state:
        asked = st.query_params.get("lang")
        st.session_state["lang"] = normalize_language(asked) if asked else browser
    lang = normalize_language(
        where.radio(
            ":material/translate: Language · 语言",
            options=list(LANGUAGES),
            format_func=LANGUAGES.__getitem__,
            key="lang",
            horizontal=True,
        )
    )
    if lang == browser:
        st.query_params.pop("lang", None)
    elif st.query_params.get("lang") != lang:
        st.query_params["lang"] = lang
    return lang


def browser_language() -> str:
    """The language the browser asks for (its Accept-Language header)."""
    try:
        accept = st.context.headers.get("accept-language")
    except Exception:  # no browser context (a bare script run)
        accept = None
    return preferred_language(accept)


def streamlit_text(lang: str) -> None:
    """Streamlit's own English that it takes no text for, in the reader's language: a select
    box or multiselect whose typed filter matches nothing ("No results"; the options list is
    the listbox react-aria marks `data-empty`), an empty date field ("yyyy-mm-dd": 年-月-日),
    and the keyboard user's skip link ("Skip to main content"). A small CSS override (offline,
    no file fetched) writes the app's messages in their place."""
    rules = []
    for selector, key in [
        ("[role='listbox'][data-empty='true'] [role='option'] > span", "common.no_results"),
        ("[data-testid='stSkipToContent']", "common.skip_to_content"),
        *(
            (
                f"[data-testid='stDateInputField'] [data-placeholder='true'][data-type='{part}']",
                f"common.date_{part}",
            )
            for part in ("year", "month", "day")
        ),  # fmt: skip
    ]:
        text = json.dumps(t(key, lang), ensure_ascii=False)
        rules.append(
            f"{selector} {{font-size: 0;}}{selector}::after {{content: {text}; font-size: 0.875rem;}}"
        )
    st.html(f"<style>{''.join(rules)}</style>")


def signed_out_page(lang: str, url_path: str, message: str) -> None:
    """What a tab shows without a live session: a link to the sign-in form, which comes back
    to this page (the browser's other requests go there by themselves; see `ui.web_auth`)."""
    query = {k: v for k, v in st.query_params.to_dict().items() if k}
    here = "/" + url_path + (f"?{urlencode(query)}" if query else "")
    target = "/signin?" + urlencode({"next": here, "lang": lang})
    _, middle, _ = st.columns([1, 2, 1])
    with middle:
        st.title(f":material/spa: {t('app.title', lang)}")
        st.caption(t("app.subtitle", lang))
        with st.container(border=True):
            st.subheader(t("signin.title", lang))
            st.write(message)
            # A plain link (same tab): the sign-in form is a page of the server, not the app.
            st.html(
                f'<a href="{escape(target)}" target="_self" data-testid="signin-link" '
                'style="display:inline-block;padding:.45rem 1rem;border-radius:.5rem;'
                'background:#ff4b4b;color:#fff;text-decoration:none;font-weight:600">'
                f"{escape(t('signin.submit', lang))}</a>"
            )


def account_panel(db: Database, actor: Actor, lang: str, where: DeltaGenerator) -> None:
    with where:
        st.markdown(md("signin.as", lang, name=actor.name))
        role = role_label(actor.role.value, lang)
        st.caption(
            md("signin.role_site", lang, role=role, site=actor.site)
            if actor.site and actor.role is not Role.ADMIN
            else t("signin.role", lang, role=role)
        )
        st.button(
            t("signout", lang),
            key="sign_out",
            on_click=sign_out,
            args=(db,),
            icon=":material/logout:",
        )


def sign_out(db: Database) -> None:
    """End the session on the server: this tab and every other tab of this browser are
    signed out on their next run."""
    services.sign_out(db, session_token())
    st.session_state.pop(SESSION_TOKEN_KEY, None)
    forget_session_state()
    st.session_state[SIGNED_OUT_KEY] = True
    st.cache_data.clear()


def forget_session_state() -> None:
    """Drop what belonged to the signed-in user (the language and filters stay)."""
    for key in list(st.session_state):
        if key not in ("lang", SESSION_TOKEN_KEY, *FILTER_PARAMS):
            del st.session_state[key]


def uses_filters(page: st.Page) -> bool:
    return page.url_path in FILTERED_PAGES


def home_site(actor: Actor) -> str | None:
    """The site a manager of one site works at (None for admins, viewers and managers of
    every site)."""
    return actor.site if actor.role is Role.MANAGER and actor.site else None


def default_site(actor: Actor) -> None:
    """Start the site filter at a site manager's own site, once per sign-in, unless the
    address names a site: the board then shows the companies they can move."""
    if st.session_state.get(SITE_DEFAULTED_KEY) == actor.name:
        return
    st.session_state[SITE_DEFAULTED_KEY] = actor.name
    site = home_site(actor)
    if site is not None and not st.query_params.get("site"):
        st.session_state["site"] = site


def filter_panel(url: str, actor: Actor, lang: str, where: DeltaGenerator) -> Scope:
    """Site, sector, cohort and as-of pickers, bound to the address bar (`?site=钟祥&cohort=2024`).
    A site manager's site filter starts at their site (`default_site`)."""
    options = loaders.filter_options(url)
    everyone = t("filters.all", lang)
    default_site(actor)
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
