"""Sign-in over HTTP, in front of the Streamlit app (DESIGN §11).

`ui/server.py` mounts these on Streamlit's ASGI app (`st.App`):

- `GET /signin` shows a small sign-in form (English or 简体中文, nothing fetched from
  elsewhere); `POST /signin` checks the password (`accounts.sign_in`), sets the session
  cookie and redirects to `next`, the page the user asked for.
- `POST /signout` ends the session on the server and clears the cookie.
- `SessionGate`, a middleware, sends a page request without a live session to
  `/signin?next=…`, so a bookmarked view (`/board?site=钟祥`) opens after sign-in.

The browser holds only the session token, in an httpOnly, SameSite=Lax cookie (Secure when
the request came over HTTPS, directly or as `X-Forwarded-Proto` says); page scripts never
see it. The Streamlit script reads it from the websocket handshake (`st.context.cookies`)
and checks the session on every run. The sign-in form is protected against cross-site
requests by an Origin check and a token that must match a cookie of its own.
"""

from __future__ import annotations

import hmac
import secrets
import threading
from collections.abc import Mapping
from contextlib import suppress
from html import escape
from urllib.parse import parse_qs, urlencode, urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from incubator import accounts
from incubator.stages import DomainError
from incubator.store import Database, StoreError
from incubator.values import isoformat, now_utc
from ui.app_context import SESSION_COOKIE, database_url
from ui.i18n import LANGUAGES, error_text, normalize_language, preferred_language, t

SIGNIN_PATH = "/signin"
SIGNOUT_PATH = "/signout"
CSRF_COOKIE = "incubator_signin"
CSRF_MAX_AGE = 3600
MAX_FORM_BYTES = 16_384
#: Paths that are never pages of the app: Streamlit's own routes and files, and ours.
NOT_PAGES = (
    "/_stcore/",
    "/static/",
    "/media/",
    "/component/",
    "/app/static/",
    "/favicon.png",
    "/manifest.json",
    "/robots.txt",
    SIGNIN_PATH,
    SIGNOUT_PATH,
)


_databases: dict[str, Database] = {}
_databases_lock = threading.Lock()


def database() -> Database:
    """The server's database (`INCUBATOR_DATABASE_URL`), one engine per URL."""
    url = database_url()
    with _databases_lock:
        db = _databases.get(url)
        if db is None:
            db = _databases[url] = Database(url)
    return db


def forget_databases() -> None:
    """Close the engines (tests switch databases)."""
    with _databases_lock:
        for db in _databases.values():
            db.dispose()
        _databases.clear()


# --- small helpers -------------------------------------------------------------------------


def safe_next(value: str | None) -> str:
    """`next` if it is a path on this site (never another site: no scheme, no host, no
    `//` or `\\`), else `/`."""
    if not value or not value.startswith("/") or value.startswith(("//", "/\\")):
        return "/"
    if any(c in value for c in "\\\r\n\t") or any(ord(c) < 32 for c in value):
        return "/"
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return "/"
    return value


def signin_url(next_url: str = "/", lang: str | None = None) -> str:
    query = {"next": safe_next(next_url)}
    if lang in LANGUAGES:
        query["lang"] = lang
    return f"{SIGNIN_PATH}?{urlencode(query)}"


def is_https(request: Request) -> bool:
    forwarded = request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
    return request.url.scheme == "https" or forwarded == "https"


def same_origin(request: Request) -> bool:
    """A form post from this site: its Origin (when the browser sends one) is this host."""
    origin = request.headers.get("origin")
    if origin is None:
        return True  # older browsers; the form token still has to match
    parts = urlsplit(origin)
    host = request.headers.get("x-forwarded-host") or request.headers.get("host") or ""
    return bool(parts.netloc) and parts.netloc.lower() == host.split(",")[0].strip().lower()


def language_of(request: Request, next_url: str, given: str | None = None) -> str:
    """The form's language: as asked (`lang`), else that of the page to open, else the
    browser's preference (Chinese or English)."""
    if given in LANGUAGES:
        return str(given)
    wanted = parse_qs(urlsplit(next_url).query).get("lang", [None])[0]
    if wanted in LANGUAGES:
        return str(wanted)
    return preferred_language(request.headers.get("accept-language"))


def set_session_cookie(response: Response, request: Request, token: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(accounts.SESSION_MAX.total_seconds()),
        path="/",
        httponly=True,
        samesite="lax",
        secure=is_https(request),
    )


def clear_session_cookie(response: Response, request: Request) -> None:
    response.delete_cookie(
        SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=is_https(request)
    )


def _has_session(token: str) -> bool:
    """Whether `token` has a live session. When the database cannot be read, the request
    goes on to the app, which explains the problem on screen."""
    try:
        accounts.check_session(database(), token)
    except accounts.AuthenticationFailed:
        return False
    except StoreError:
        return True
    return True


# --- the sign-in form ----------------------------------------------------------------------

_STYLE = """
*{box-sizing:border-box}
body{margin:0;min-height:100vh;display:flex;align-items:center;justify-content:center;
  background:#f6f7f9;color:#262730;font:16px/1.5 system-ui,-apple-system,"Segoe UI",
  "PingFang SC","Microsoft YaHei","Noto Sans CJK SC",sans-serif}
main{width:min(420px,92vw);background:#fff;border:1px solid #e3e5e8;border-radius:12px;
  padding:28px 32px;box-shadow:0 2px 10px rgba(0,0,0,.05)}
h1{font-size:1.45rem;margin:0 0 4px}
.sub{color:#6b6f76;font-size:.85rem;margin:0 0 20px}
h2{font-size:1.1rem;margin:0 0 6px}
p.intro{margin:0 0 16px;color:#4a4d55;font-size:.95rem}
label{display:block;font-size:.9rem;margin:12px 0 4px}
input[type=text],input[type=password]{width:100%;padding:9px 11px;font:inherit;
  border:1px solid #c9ccd1;border-radius:8px;background:#f9fafb}
input:focus{outline:2px solid #ff4b4b33;border-color:#ff4b4b}
button{margin-top:20px;width:100%;padding:10px;font:inherit;font-weight:600;color:#fff;
  background:#ff4b4b;border:0;border-radius:8px;cursor:pointer}
.msg{margin:0 0 12px;padding:10px 12px;border-radius:8px;font-size:.92rem}
.error{background:#fdecec;color:#7d1a1a}
.note{background:#eef4fd;color:#1a3d7d}
nav{margin-top:18px;font-size:.85rem;color:#6b6f76;text-align:center}
nav a{color:#6b6f76}
nav strong{color:#262730}
"""


def signin_page(
    lang: str,
    next_url: str,
    csrf: str,
    *,
    user: str = "",
    error: str | None = None,
    note: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    """The sign-in form; every value from the request is escaped."""
    switch = " · ".join(
        f"<strong>{escape(label)}</strong>"
        if code == lang
        else f'<a href="{escape(signin_url(next_url, code))}" hreflang="{code}">{escape(label)}</a>'
        for code, label in LANGUAGES.items()
    )
    message = ""
    if error:
        message = f'<p class="msg error" role="alert">{escape(error)}</p>'
    elif note:
        message = f'<p class="msg note" role="status">{escape(note)}</p>'
    body = f"""<!doctype html>
<html lang="{"zh-CN" if lang == "zh" else "en"}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(t("signin.title", lang))} · {escape(t("app.title", lang))}</title>
<style>{_STYLE}</style>
</head>
<body>
<main>
<h1>{escape(t("app.title", lang))}</h1>
<p class="sub">{escape(t("app.subtitle", lang))}</p>
<h2>{escape(t("signin.title", lang))}</h2>
<p class="intro">{escape(t("signin.intro", lang))}</p>
{message}
<form method="post" action="{SIGNIN_PATH}" autocomplete="on">
<input type="hidden" name="csrf" value="{escape(csrf)}">
<input type="hidden" name="next" value="{escape(next_url)}">
<input type="hidden" name="lang" value="{escape(lang)}">
<label for="user">{escape(t("signin.user", lang))}</label>
<input type="text" id="user" name="user" value="{escape(user)}" autocomplete="username"
  autocapitalize="none" spellcheck="false" required{"" if user else " autofocus"}>
<label for="password">{escape(t("signin.password", lang))}</label>
<input type="password" id="password" name="password" autocomplete="current-password"
  required{" autofocus" if user else ""}>
<button type="submit">{escape(t("signin.submit", lang))}</button>
</form>
<nav>{switch}</nav>
</main>
</body>
</html>
"""
    response = HTMLResponse(body, status_code=status_code)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    )
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "same-origin"
    return response


def _with_form_token(response: Response, request: Request, csrf: str) -> Response:
    response.set_cookie(
        CSRF_COOKIE,
        csrf,
        max_age=CSRF_MAX_AGE,
        path=SIGNIN_PATH,
        httponly=True,
        samesite="strict",
        secure=is_https(request),
    )
    return response


async def _form(request: Request) -> dict[str, str]:
    """The posted form fields (URL-encoded, at most 16 KiB; the first value of each)."""
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            return {}
    try:
        fields = parse_qs(body.decode("utf-8"), keep_blank_values=True, max_num_fields=20)
    except (UnicodeDecodeError, ValueError):
        return {}
    return {name: values[0] for name, values in fields.items()}


def _refusal_text(error: DomainError, lang: str) -> tuple[str, int, Mapping[str, str]]:
    if isinstance(error, accounts.SignInLocked):
        seconds = max(1, int((error.until - now_utc()).total_seconds()))
        until = isoformat(error.until)[:16].replace("T", " ") + " UTC"
        return t("signin.locked", lang, until=until), 429, {"Retry-After": str(seconds)}
    if isinstance(error, accounts.AccountDisabled):
        return t("signin.disabled", lang), 403, {}
    return t("signin.failed", lang), 401, {}


async def signin(request: Request) -> Response:
    if request.method == "POST":
        return await _signin_post(request)
    next_url = safe_next(request.query_params.get("next"))
    lang = language_of(request, next_url, request.query_params.get("lang"))
    token = request.cookies.get(SESSION_COOKIE)
    if token is not None and await run_in_threadpool(_has_session, token) is True:
        return RedirectResponse(next_url, status_code=303)
    csrf = secrets.token_urlsafe(24)
    note = t("signin.ended", lang) if token else None
    response = signin_page(lang, next_url, csrf, note=note)
    if token:  # a session that has ended: forget it
        clear_session_cookie(response, request)
    return _with_form_token(response, request, csrf)


async def _signin_post(request: Request) -> Response:
    if not same_origin(request):
        return HTMLResponse("cross-site sign-in refused", status_code=403)
    form = await _form(request)
    next_url = safe_next(form.get("next"))
    lang = language_of(request, next_url, form.get("lang"))
    user = form.get("user", "")[:200]
    fresh = secrets.token_urlsafe(24)
    expected = request.cookies.get(CSRF_COOKIE, "")
    given = form.get("csrf", "")
    if not expected or not given or not hmac.compare_digest(expected, given):
        page = signin_page(
            lang, next_url, fresh, user=user, error=t("signin.expired", lang), status_code=400
        )
        return _with_form_token(page, request, fresh)
    password = form.get("password", "")
    if not user.strip() or not password:
        page = signin_page(
            lang, next_url, fresh, user=user, error=t("signin.missing", lang), status_code=400
        )
        return _with_form_token(page, request, fresh)
    try:
        signed = await run_in_threadpool(accounts.sign_in, database(), user, password)
    except accounts.AuthenticationFailed as exc:
        text, status, headers = _refusal_text(exc, lang)
        page = signin_page(lang, next_url, fresh, user=user, error=text, status_code=status)
        page.headers.update(headers)
        return _with_form_token(page, request, fresh)
    except StoreError as exc:
        detail = error_text(exc, lang).splitlines()[0]
        page = signin_page(
            lang, next_url, fresh, user=user, status_code=503,
            error=t("db.unavailable", lang, error=detail),
        )  # fmt: skip
        return _with_form_token(page, request, fresh)
    response = RedirectResponse(next_url, status_code=303)
    set_session_cookie(response, request, signed.token)
    response.delete_cookie(CSRF_COOKIE, path=SIGNIN_PATH)
    return response


async def signout(request: Request) -> Response:
    """End the session on the server and clear the cookie; then the sign-in form."""
    if not same_origin(request):
        return HTMLResponse("cross-site sign-out refused", status_code=403)
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        with suppress(StoreError):  # the cookie is cleared below all the same
            await run_in_threadpool(accounts.sign_out, database(), token)
    form = await _form(request)
    lang = form.get("lang") or request.query_params.get("lang")
    response = RedirectResponse(signin_url("/", normalize_language(lang)), status_code=303)
    clear_session_cookie(response, request)
    return response


#: The funnel is the app's first page, served at "/"; its name is an address too (a link or
#: bookmark to /funnel otherwise opened Streamlit's English "Page not found" dialog).
HOME_ALIASES = ("/funnel",)


async def home(request: Request) -> Response:
    query = request.url.query
    return RedirectResponse("/" + (f"?{query}" if query else ""), status_code=307)


def routes() -> list[Route]:
    return [
        Route(SIGNIN_PATH, signin, methods=["GET", "POST"]),
        Route(SIGNOUT_PATH, signout, methods=["POST"]),
        *(Route(alias, home, methods=["GET"]) for alias in HOME_ALIASES),
    ]


# --- the gate ------------------------------------------------------------------------------


def is_page_request(scope: Scope) -> bool:
    """A browser asking for a page of the app (not a script, an image or an API call)."""
    if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
        return False
    path = scope.get("path", "/")
    if path.startswith(NOT_PAGES) or path.rstrip("/") in (SIGNIN_PATH, SIGNOUT_PATH):
        return False
    accept = dict(scope.get("headers") or []).get(b"accept", b"").decode("latin-1")
    return "text/html" in accept


class SessionGate:
    """Send page requests without a live session to the sign-in form, with `next` set to
    the page asked for (its query included), so a bookmark opens after sign-in."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if is_page_request(scope):
            request = Request(scope)
            token = request.cookies.get(SESSION_COOKIE)
            if not token or not await run_in_threadpool(_has_session, token):
                query = scope.get("query_string", b"").decode("latin-1")
                wanted = request.url.path + (f"?{query}" if query else "")
                lang = language_of(request, wanted)
                response = RedirectResponse(signin_url(wanted, lang), status_code=303)
                response.headers["Cache-Control"] = "no-store"
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
