"""What every page receives: the database, the signed-in actor, the language and the filters.

`streamlit_app.main()` builds one `PageContext` per run and hands it to the page script that
`st.navigation` runs (page scripts cannot take arguments, so it travels in the session
state under `CONTEXT_KEY`). Only the `Database` is cached across sessions
(`st.cache_resource`); aggregated results are cached by `ui.loaders`.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Concatenate, Literal, ParamSpec

import streamlit as st

from incubator import services
from incubator.access import Actor
from incubator.stages import Conflict
from incubator.store import Database
from ui.frames import effective_instant
from ui.i18n import refusal_text
from ui.markup import escape_markdown

ENV_DATABASE_URL = "INCUBATOR_DATABASE_URL"
DEFAULT_DATABASE_URL = "sqlite:///incubator.db"
CONTEXT_KEY = "_page_context"
ACTOR_KEY = "actor"
FLASH_KEY = "_flash"
#: The cookie that holds the session token (httpOnly: set and cleared by `ui.web_auth`).
SESSION_COOKIE = "incubator_session"
#: Where tests (AppTest cannot send cookies) put a token from `services.sign_in`; no widget
#: has this key, so only server code can set it.
SESSION_TOKEN_KEY = "session_token"
#: Set when a click came after the session had ended: nothing was saved.
UNSAVED_KEY = "_unsaved_after_session_end"

Level = Literal["success", "info", "warning", "error"]
P = ParamSpec("P")


def database_url() -> str:
    """`INCUBATOR_DATABASE_URL`, else `incubator.db` in the working directory (as the CLI)."""
    return os.environ.get(ENV_DATABASE_URL) or DEFAULT_DATABASE_URL


def session_token() -> str | None:
    """This browser's session token: from the cookie of the websocket handshake (or the
    tests' seam). The session itself is checked by `services.check_session`."""
    seeded = st.session_state.get(SESSION_TOKEN_KEY)
    if isinstance(seeded, str) and seeded:
        return seeded
    try:
        cookie = st.context.cookies.get(SESSION_COOKIE)
    except Exception:  # no browser context (e.g. a bare script run)
        return None
    return cookie if isinstance(cookie, str) and cookie else None


def _release(db: Database) -> None:
    db.dispose()


@st.cache_resource(show_spinner=False, on_release=_release)
def get_database(url: str) -> Database:
    """The one `Database` (engine and connection pool) per URL, shared by all sessions;
    its connections are closed when the cache lets it go."""
    return Database(url)


@dataclass(frozen=True)
class Scope:
    """The shared sidebar filters: site, sector, intake cohort and as-of date (None: now)."""

    site: str | None = None
    sector: str | None = None
    cohort: int | None = None
    as_of: date | None = None

    def as_of_instant(self, today: date | None = None) -> datetime | None:
        """00:00 UTC of the as-of day, as the command line's `--as-of DATE` (DESIGN §2);
        None (now) for today, a future day or no date."""
        return effective_instant(self.as_of, today)

    def key(self) -> tuple[str | None, str | None, int | None, str | None]:
        """A hashable, primitive cache key."""
        instant = self.as_of_instant()
        return (self.site, self.sector, self.cohort, instant.isoformat() if instant else None)

    @property
    def is_filtered(self) -> bool:
        return any(v is not None for v in (self.site, self.sector, self.cohort))


@dataclass(frozen=True)
class PageContext:
    url: str
    actor: Actor
    lang: str
    scope: Scope

    @property
    def db(self) -> Database:
        return get_database(self.url)


def page_context() -> PageContext:
    """The context `main()` prepared for this run (page scripts call this first)."""
    context = st.session_state.get(CONTEXT_KEY)
    if not isinstance(context, PageContext):  # a page opened before main() ran: start over
        st.rerun()
    return context


def flash(level: Level, text: str) -> None:
    """Keep a message for the next run (set in callbacks, shown by `show_flash`).

    `text` is plain text, shown as typed: messages quote company keys, names and refusals."""
    st.session_state.setdefault(FLASH_KEY, []).append((level, text))


def flash_refusal(
    error: BaseException, lang: str, key: str | None = None, /, **values: Any
) -> None:
    """Keep a refusal for the next run, in `lang` (`ui.i18n.refusal_text`): a conflict (the
    company moved meanwhile) as a warning, anything else as an error."""
    level: Level = "warning" if isinstance(error, Conflict) else "error"
    flash(level, refusal_text(error, lang, key, **values))


def show_flash() -> None:
    """Show and forget the kept messages: successes as toasts, problems inline."""
    for level, plain in st.session_state.pop(FLASH_KEY, []):
        show_message(level, plain, toast=True)


def show_message(level: Level, plain: str, *, toast: bool = False) -> None:
    """One message, plain text shown as typed (escaped): a success in a box (or a toast),
    an error, a warning or a note inline."""
    text = escape_markdown(plain)
    if level == "success":
        if toast:
            st.toast(text, icon=":material/check_circle:")
        else:
            st.success(text, icon=":material/check_circle:")
    elif level == "error":
        st.error(text, icon=":material/error:")
    elif level == "warning":
        st.warning(text, icon=":material/warning:")
    else:
        st.info(text)


def after_write() -> None:
    """Forget every cached aggregate: the next read sees the write."""
    st.cache_data.clear()


def signed_in(
    callback: Callable[Concatenate[str, Actor, P], None],
) -> Callable[Concatenate[str, Actor, P], None]:
    """Wrap a writing callback `callback(url, actor, ...)`: check the session again first.

    Streamlit runs a widget's callback before the script, so the actor it was given is the
    one of the page as last drawn — possibly minutes ago, before the session was ended in
    another tab, expired, or the account was disabled or given another role or site. The
    wrapper asks the server again: with no live session for this browser, or one of another
    user, nothing is written (the run that follows shows the sign-in page, saying that the
    change was not saved); otherwise the
    callback acts as the user is *now* (their current role and site)."""

    @functools.wraps(callback)
    def run(url: str, actor: Actor, /, *args: P.args, **kwargs: P.kwargs) -> None:
        live = services.session_actor(get_database(url), session_token())
        if live is None or live.name != actor.name:
            st.session_state[UNSAVED_KEY] = True  # the sign-in page says so
            return
        callback(url, live, *args, **kwargs)

    return run
