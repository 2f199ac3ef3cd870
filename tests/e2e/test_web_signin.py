"""The sign-in routes and the session gate of `ui.web_auth`, called in-process as an ASGI app
(the routes and middleware that `ui/server.py` adds to Streamlit's `st.App`; a catch-all
route stands in for Streamlit's pages)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from incubator import services
from incubator.access import cli_owner
from incubator.store import Database
from ui import web_auth

HTML = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
ORIGIN = "http://testserver"


async def _streamlit_page(request: Request) -> PlainTextResponse:
    return PlainTextResponse(f"APP {request.url.path}")


def make_app() -> Starlette:
    return Starlette(
        routes=[*web_auth.routes(), Route("/{path:path}", _streamlit_page)],
        middleware=[Middleware(web_auth.SessionGate)],
    )


@dataclass
class Reply:
    status: int
    headers: list[tuple[str, str]]
    text: str
    cookies: dict[str, dict[str, str]] = field(default_factory=dict)

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k == name), None)

    @property
    def location(self) -> str:
        return self.header("location") or ""


class Browser:
    """Just enough of a browser: a cookie jar, and requests to the ASGI app."""

    def __init__(self) -> None:
        self.app = make_app()
        self.jar: dict[str, str] = {}

    def request(
        self,
        method: str,
        path: str,
        *,
        form: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        accept: str = HTML,
    ) -> Reply:
        body = urlencode(form).encode() if form is not None else b""
        raw_path, _, query = path.partition("?")
        sent = {"host": "testserver", "accept": accept, **(headers or {})}
        if form is not None:
            sent["content-type"] = "application/x-www-form-urlencoded"
        if self.jar:
            sent["cookie"] = "; ".join(f"{k}={v}" for k, v in self.jar.items())
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": raw_path,
            "raw_path": raw_path.encode(),
            "query_string": query.encode(),
            "root_path": "",
            "headers": [(k.lower().encode(), v.encode()) for k, v in sent.items()],
            "client": ("127.0.0.1", 50000),
            "server": ("testserver", 80),
        }
        messages = [{"type": "http.request", "body": body, "more_body": False}]
        sent_back: list[dict[str, object]] = []

        async def receive() -> dict[str, object]:
            return messages.pop(0) if messages else {"type": "http.disconnect"}

        async def send(message: dict[str, object]) -> None:
            sent_back.append(message)

        asyncio.run(self.app(scope, receive, send))
        start = sent_back[0]
        headers_back = [(k.decode(), v.decode()) for k, v in start["headers"]]  # type: ignore[attr-defined]
        text = b"".join(m.get("body", b"") for m in sent_back[1:]).decode()  # type: ignore[misc]
        reply = Reply(int(start["status"]), headers_back, text)  # type: ignore[call-overload]
        for name, value in headers_back:
            if name != "set-cookie":
                continue
            cookie = SimpleCookie()
            cookie.load(value)
            for key, morsel in cookie.items():
                flags = {k: str(v) for k, v in morsel.items() if v}
                reply.cookies[key] = {"value": morsel.value, **flags}
                if morsel.value and morsel["max-age"] != "0":
                    self.jar[key] = morsel.value
                else:  # deleted
                    self.jar.pop(key, None)
        return reply

    def get(self, path: str, **kwargs: object) -> Reply:
        return self.request("GET", path, **kwargs)  # type: ignore[arg-type]

    def sign_in(self, user: str, password: str, next_url: str = "/", **extra: str) -> Reply:
        form_page = self.get(f"/signin?{urlencode({'next': next_url})}")
        token = re.search(r'name="csrf" value="([^"]+)"', form_page.text)
        assert token, form_page.text
        form = {"csrf": token.group(1), "next": next_url, "user": user, "password": password}
        return self.request("POST", "/signin", form={**form, **extra}, headers={"origin": ORIGIN})


@pytest.fixture
def site_db(sqlite_db: Database, monkeypatch: pytest.MonkeyPatch) -> Iterator[Database]:
    """The server's database, with an admin and a viewer."""
    monkeypatch.setenv("INCUBATOR_DATABASE_URL", sqlite_db.url)
    owner = cli_owner("setup")
    services.add_user(sqlite_db, "root", role="admin", password="root-password-1", actor=owner)
    services.add_user(sqlite_db, "li", role="viewer", password="li-password-1", actor=owner)
    yield sqlite_db
    web_auth.forget_databases()


# --- the gate ------------------------------------------------------------------------------


def test_a_page_without_a_session_goes_to_the_sign_in_form_with_itself_as_next(
    site_db: Database,
) -> None:
    reply = Browser().get("/board?site=%E9%92%9F%E7%A5%A5&lang=zh")
    assert reply.status == 303 and reply.header("cache-control") == "no-store"
    target = urlsplit(reply.location)
    assert target.path == "/signin"
    query = parse_qs(target.query)
    assert query == {"next": ["/board?site=%E9%92%9F%E7%A5%A5&lang=zh"], "lang": ["zh"]}


@pytest.mark.parametrize(
    ("path", "accept"),
    [
        ("/_stcore/health", HTML),
        ("/_stcore/host-config", "*/*"),
        ("/static/js/index.js", "*/*"),
        ("/favicon.png", "image/*"),
        ("/", "application/json"),  # not a page navigation
    ],
)
def test_files_and_streamlits_own_routes_are_not_gated(
    site_db: Database, path: str, accept: str
) -> None:
    reply = Browser().get(path, accept=accept)
    assert (reply.status, reply.text) == (200, f"APP {path}")


def test_a_live_session_passes_the_gate_and_skips_the_form(site_db: Database) -> None:
    browser = Browser()
    assert browser.sign_in("li", "li-password-1").status == 303
    assert browser.get("/board?site=x").text == "APP /board"
    reply = browser.get("/signin?next=%2Faudit")
    assert (reply.status, reply.location) == (303, "/audit")


def test_the_funnels_name_is_an_address_of_the_first_page(site_db: Database) -> None:
    """/funnel (the page's name in the navigation) opens the first page with its filters,
    not Streamlit's "Page not found"."""
    browser = Browser()
    browser.sign_in("li", "li-password-1")
    reply = browser.get("/funnel?lang=zh&site=%E9%92%9F%E7%A5%A5")
    assert (reply.status, reply.location) == (307, "/?lang=zh&site=%E9%92%9F%E7%A5%A5")
    assert browser.get("/funnel").location == "/"


# --- the form ------------------------------------------------------------------------------


def test_the_form_speaks_the_language_of_the_page_or_the_browser(site_db: Database) -> None:
    english = Browser().get("/signin?next=%2F")
    assert english.status == 200 and "<h2>Sign in</h2>" in english.text
    assert '<label for="user">User name</label>' in english.text
    for path, headers in [
        ("/signin?lang=zh", {}),
        ("/signin?next=%2Fboard%3Flang%3Dzh", {}),
        ("/signin", {"accept-language": "zh-CN,zh;q=0.9,en;q=0.8"}),
    ]:
        chinese = Browser().get(path, headers=headers)
        assert '<html lang="zh-CN">' in chinese.text and "<h2>登录</h2>" in chinese.text, path


def test_the_form_fetches_nothing_from_elsewhere_and_cannot_be_framed(site_db: Database) -> None:
    reply = Browser().get("/signin")
    assert not re.search(r"(src|href)=\"(https?:)?//", reply.text)
    assert "@import" not in reply.text and "url(" not in reply.text
    policy = reply.header("content-security-policy") or ""
    assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy
    assert reply.header("x-frame-options") == "DENY"
    assert reply.header("cache-control") == "no-store"


def test_the_right_password_sets_an_httponly_lax_cookie_and_opens_the_page_asked_for(
    site_db: Database,
) -> None:
    reply = Browser().sign_in("root", "root-password-1", "/board?site=%E9%92%9F%E7%A5%A5")
    assert (reply.status, reply.location) == (303, "/board?site=%E9%92%9F%E7%A5%A5")
    cookie = reply.cookies["incubator_session"]
    assert cookie["httponly"] and cookie["samesite"].lower() == "lax"
    assert cookie["path"] == "/" and cookie["max-age"] == str(7 * 24 * 3600)
    assert "secure" not in cookie  # plain http here
    actor = services.session_actor(site_db, cookie["value"])
    assert actor is not None and actor.name == "root"


def test_the_cookie_is_secure_behind_https(site_db: Database) -> None:
    browser = Browser()
    form = browser.get("/signin", headers={"x-forwarded-proto": "https"})
    assert form.cookies["incubator_signin"]["secure"]
    token = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert token
    reply = browser.request(
        "POST",
        "/signin",
        form={"csrf": token.group(1), "user": "li", "password": "li-password-1", "next": "/"},
        headers={"origin": "https://testserver", "x-forwarded-proto": "https"},
    )
    assert reply.status == 303 and reply.cookies["incubator_session"]["secure"]


def test_a_wrong_password_and_an_unknown_user_get_the_same_answer(site_db: Database) -> None:
    answers = []
    for user, password in [("li", "wrong-password"), ("nobody", "wrong-password")]:
        reply = Browser().sign_in(user, password)
        assert reply.status == 401 and "incubator_session" not in reply.cookies
        assert "Wrong user name or password." in reply.text
        answers.append(re.sub(r'value="[^"]*"', "", reply.text))
    assert answers[0] == answers[1]


def test_a_locked_name_is_told_when_to_try_again_even_with_the_right_password(
    site_db: Database,
) -> None:
    browser = Browser()
    for _ in range(5):
        assert browser.sign_in("li", "wrong-password").status == 401
    reply = browser.sign_in("li", "li-password-1")
    assert reply.status == 429 and "incubator_session" not in reply.cookies
    assert "Too many failed sign-ins for this user name: it is locked until" in reply.text
    assert 0 < int(reply.header("retry-after") or 0) <= 15 * 60


def test_a_disabled_account_is_told_so_with_the_right_password_only(site_db: Database) -> None:
    services.disable_user(site_db, "li", actor=cli_owner("setup"))
    assert "This account is disabled" in Browser().sign_in("li", "li-password-1").text
    assert "Wrong user name or password." in Browser().sign_in("li", "wrong-password").text


def test_a_post_without_the_forms_token_or_from_another_site_is_refused(
    site_db: Database,
) -> None:
    form = {"user": "li", "password": "li-password-1", "next": "/"}
    no_token = Browser().request("POST", "/signin", form=form, headers={"origin": ORIGIN})
    assert no_token.status == 400 and "The sign-in form had expired" in no_token.text
    browser = Browser()
    browser.get("/signin")  # has a form token cookie, but the post carries another
    forged = browser.request(
        "POST", "/signin", form={**form, "csrf": "guessed"}, headers={"origin": ORIGIN}
    )
    assert forged.status == 400 and "incubator_session" not in forged.cookies
    cross = Browser().sign_in("li", "li-password-1")  # sanity: the real form works
    assert cross.status == 303
    elsewhere = Browser()
    page = elsewhere.get("/signin")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert token
    reply = elsewhere.request(
        "POST", "/signin", form={**form, "csrf": token.group(1)},
        headers={"origin": "http://evil.example"},
    )  # fmt: skip
    assert reply.status == 403 and "incubator_session" not in reply.cookies


@pytest.mark.parametrize(
    "evil",
    ["//evil.example/x", "https://evil.example/", "/\\evil.example", "javascript:alert(1)",
     "board", "/%0d%0aSet-Cookie:x=1", "/\r\nLocation: //evil"],
)  # fmt: skip
def test_next_never_leads_to_another_site(site_db: Database, evil: str) -> None:
    reply = Browser().sign_in("li", "li-password-1", evil)
    assert reply.status == 303
    assert reply.location in ("/", evil) and reply.location.startswith("/")
    assert not reply.location.startswith(("//", "/\\")) and "\n" not in reply.location


def test_what_was_typed_comes_back_escaped(site_db: Database) -> None:
    reply = Browser().sign_in('"><script>alert(1)</script>', "wrong-password")
    assert "<script>" not in reply.text
    assert 'value="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"' in reply.text


# --- signing out ---------------------------------------------------------------------------


def test_signing_out_ends_the_session_and_clears_the_cookie(site_db: Database) -> None:
    browser = Browser()
    token = browser.sign_in("li", "li-password-1").cookies["incubator_session"]["value"]
    reply = browser.request("POST", "/signout", headers={"origin": ORIGIN})
    assert reply.status == 303 and reply.location.startswith("/signin")
    assert reply.cookies["incubator_session"]["value"] == ""
    assert services.session_actor(site_db, token) is None
    assert browser.get("/board").status == 303


def test_signing_out_from_another_site_is_refused(site_db: Database) -> None:
    browser = Browser()
    token = browser.sign_in("li", "li-password-1").cookies["incubator_session"]["value"]
    reply = browser.request("POST", "/signout", headers={"origin": "http://evil.example"})
    assert reply.status == 403
    assert services.session_actor(site_db, token) is not None


def test_the_form_clears_a_cookie_whose_session_has_ended(site_db: Database) -> None:
    browser = Browser()
    token = browser.sign_in("li", "li-password-1").cookies["incubator_session"]["value"]
    services.sign_out(site_db, token)  # e.g. from the app's Sign out button
    gate = browser.get("/funnel")
    assert gate.status == 303
    form = browser.get(gate.location)
    assert "Your session has ended. Please sign in again." in form.text
    assert form.cookies["incubator_session"]["value"] == ""
