"""Real-browser runs: `incubator ui` on a temporary database, driven by Chromium.

Signs in, opens every page (in English and Chinese), advances a company on the board; opens
a bookmarked view through the sign-in form, stays signed in across a reload and a new tab,
and signs out of every tab. Saves a screenshot of each step in tests/e2e/screenshots/
(git-ignored) to look at.

Needs Debian's Chromium at /usr/bin/chromium (Playwright never downloads a browser here).
Without it the test is skipped, unless INCUBATOR_REQUIRE_BROWSER=1, when it fails.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from incubator import services
from incubator.access import cli_owner
from incubator.store import Database
from tests.conftest import ungate

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
OWNER = cli_owner("setup")
T0 = datetime(2024, 3, 4, tzinfo=UTC)


def require_browser() -> Any:
    """Playwright's sync API, or a skip (a failure when the browser is required)."""
    required = os.environ.get("INCUBATOR_REQUIRE_BROWSER") == "1"
    problem = None
    sync_api: Any = None
    if not CHROMIUM.exists():
        problem = f"Chromium not found at {CHROMIUM}"
    try:
        from playwright import sync_api
    except ImportError:
        problem = problem or "playwright is not installed"
    if problem:
        if required:
            pytest.fail(f"INCUBATOR_REQUIRE_BROWSER=1 but {problem}")
        pytest.skip(problem)
    return sync_api


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_health(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"streamlit exited with {process.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.3)
    pytest.fail(f"streamlit did not become healthy within 60 s:\n{log.read_text()}")


@pytest.fixture
def server(
    make_database: Callable[[str], Database], tmp_path: Path
) -> Iterator[tuple[str, Database]]:
    """The app on a free port, on a database with a few companies and three accounts."""
    db = ungate(make_database("sqlite"))  # the UI before its gate dialogs: gates off
    for i, (stage, site, sector) in enumerate(
        [
            ("seed", "钟祥", "biomedicine"),
            ("seed", "京山", "organic food"),
            ("nursery", "钟祥", "green chemicals"),
            ("incubator", "高新区", "new energy & new materials"),
            ("accelerator", "钟祥", "high-end equipment"),
            ("industrial_park", "沙洋", "flexible electronics"),
        ],
        start=1,
    ):
        services.admit(
            db, f"JM-{i:04d}", name=f"荆门示范企业{i}号有限公司", stage=stage, actor=OWNER, at=T0,
            site=site, sector=sector,
        )  # fmt: skip
    # Accounts after the companies: a manager's site must be a site some company uses.
    for name, role, site in [
        ("admin", "admin", None),
        ("wang", "manager", "钟祥"),
        ("viewer", "viewer", None),
    ]:
        services.add_user(
            db, name, role=role, site=site, password=f"{name}-password-1", actor=OWNER
        )
    services.exit_company(db, "JM-0002", reason="withdrew", actor=OWNER, seen="seed")
    with serve_app(db, tmp_path) as url:
        yield url, db


@contextmanager
def serve_app(db: Database, tmp_path: Path) -> Iterator[str]:
    """`incubator ui` on `db`, on a free port; yields its address."""
    port = free_port()
    log = tmp_path / "streamlit.log"
    env = dict(os.environ, PYTHONUNBUFFERED="1", STREAMLIT_SERVER_FILE_WATCHER_TYPE="none")
    with log.open("wb") as out:
        # Exactly as a user starts it: `incubator ui` (which becomes `streamlit run
        # ui/server.py`, the st.App with the sign-in routes).
        process = subprocess.Popen(
            [
                sys.executable, "-m", "incubator.cli", "ui", "--db", db.url,
                "--port", str(port), "--address", "127.0.0.1", "--headless",
            ],
            cwd=tmp_path, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_health(url, process, log)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def settle(page: Any) -> None:
    """Wait until the app has finished its run (no 'Running…' indicator) and charts drew."""
    page.wait_for_timeout(300)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=30_000
    )
    page.wait_for_timeout(800)


def shoot(page: Any, name: str) -> None:
    """Screenshot of the whole page (the viewport is tall: Streamlit scrolls inside it)."""
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def open_page(page: Any, label: str) -> None:
    page.get_by_test_id("stSidebarNav").get_by_role("link", name=label).click()
    settle(page)
    assert not page.get_by_test_id("stException").count(), label


def test_a_manager_signs_in_reads_every_page_and_advances_a_company(
    server: tuple[str, Database],
) -> None:
    sync_api = require_browser()
    url, db = server
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 2000})
            page.goto(url)
            page.get_by_role("button", name="Sign in").wait_for(timeout=30_000)
            assert "/signin?next=%2F" in page.url
            shoot(page, "01-sign-in")

            page.get_by_label("User name").fill("wang")
            page.get_by_label("Password", exact=True).fill("wrong-password")
            page.get_by_role("button", name="Sign in").click()
            page.get_by_text("Wrong user name or password.").wait_for(timeout=15_000)

            page.get_by_label("Password", exact=True).fill("wang-password-1")
            page.get_by_role("button", name="Sign in").click()
            page.get_by_text("In the pipeline now").wait_for(timeout=30_000)
            settle(page)
            shoot(page, "02-funnel")

            for label, name in [
                ("Time in stage", "03-time-in-stage"),
                ("Company", "05-company"),
                ("Audit log", "06-audit-log"),
                ("Reports", "16-reports"),
                ("Pipeline board", "04-board"),
            ]:
                open_page(page, label)
                shoot(page, name)

            # wang's board starts at his site, 钟祥: one company in the seed, nursery and
            # accelerator columns, counted in the singular.
            assert page.get_by_text("1 company", exact=True).count() == 3

            # On the board: pick JM-0001 (seed, 钟祥) and advance it.
            page.get_by_test_id("stMultiSelect").locator("input").click()
            page.keyboard.type("JM-0001")
            page.keyboard.press("Enter")
            page.keyboard.press("Escape")
            settle(page)
            page.get_by_role("button", name="Apply").click()
            page.get_by_text("JM-0001: Seed → Nursery").first.wait_for(timeout=15_000)
            settle(page)
            shoot(page, "07-board-after-advance")
            assert page.get_by_text("2 companies", exact=True).count() == 1  # the nursery
            assert page.get_by_text("0 companies", exact=True).count() == 3  # seed among them
            assert services.show(db, "JM-0001").stage == "nursery"
            assert services.history(db, "JM-0001")[-1].actor == "wang"

            # A filter kept in the address, then the Chinese interface.
            page.get_by_test_id("stSidebar").get_by_text("简体中文").click()
            settle(page)
            open_page(page, "漏斗总览")
            assert "lang=zh" in page.url
            shoot(page, "08-funnel-zh")
            open_page(page, "阶段停留")
            shoot(page, "09-time-in-stage-zh")
            open_page(page, "管线看板")
            shoot(page, "10-board-zh")
        finally:
            browser.close()


def sign_in_form(page: Any, user: str, password: str, button: str = "Sign in") -> None:
    page.get_by_role("button", name=button).wait_for(timeout=30_000)
    page.locator("#user").fill(user)
    page.locator("#password").fill(password)
    page.get_by_role("button", name=button).click()


def test_a_session_survives_a_reload_and_a_new_tab_and_signing_out_ends_it_everywhere(
    server: tuple[str, Database],
) -> None:
    sync_api = require_browser()
    url, db = server
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1440, "height": 1400})
            tab = context.new_page()

            # A bookmarked view while signed out: the sign-in form, then the view itself.
            tab.goto(f"{url}/board?site=钟祥")
            tab.get_by_role("button", name="Sign in").wait_for(timeout=30_000)
            assert "/signin?next=%2Fboard%3Fsite%3D" in tab.url
            shoot(tab, "11-sign-in-bookmark")
            sign_in_form(tab, "wang", "wang-password-1")
            tab.get_by_test_id("stSidebarNav").wait_for(timeout=30_000)
            settle(tab)
            assert tab.url.startswith(f"{url}/board?site=")
            assert "钟祥" in tab.get_by_test_id("stSidebar").inner_text()
            assert tab.get_by_text("荆门示范企业1号有限公司").count() == 1  # at 钟祥
            assert tab.get_by_text("荆门示范企业4号有限公司").count() == 0  # at 高新区
            shoot(tab, "12-board-after-sign-in")

            # The cookie: httpOnly (no script can read it), SameSite=Lax, not Secure over http.
            (cookie,) = [c for c in context.cookies() if c["name"] == "incubator_session"]
            assert (cookie["httpOnly"], cookie["sameSite"], cookie["secure"]) == (
                True, "Lax", False,
            )  # fmt: skip
            assert "incubator_session" not in tab.evaluate("document.cookie")

            # A reload and a new tab stay signed in.
            tab.reload()
            tab.get_by_test_id("stSidebarNav").wait_for(timeout=30_000)
            settle(tab)
            assert (
                "/signin" not in tab.url and "wang" in tab.get_by_test_id("stSidebar").inner_text()
            )
            other = context.new_page()
            other.goto(f"{url}/dwell")
            other.get_by_test_id("stSidebarNav").wait_for(timeout=30_000)
            settle(other)
            assert "/signin" not in other.url

            # My account, then sign out in the first tab.
            open_page(tab, "My account")
            shoot(tab, "13-my-account")
            tab.get_by_test_id("stSidebar").get_by_role("button", name="Sign out").click()
            tab.get_by_text("You have signed out, in every tab of this browser.").wait_for(
                timeout=15_000
            )
            settle(tab)
            shoot(tab, "14-signed-out")
            sessions = services.list_users(db)
            assert [u.sessions for u in sessions if u.name == "wang"] == [0]

            # The other tab is out on its next click, and on a reload.
            other.get_by_test_id("stSidebarNav").get_by_role("link", name="Funnel").click()
            other.get_by_text("You are signed out").wait_for(timeout=15_000)
            other.reload()
            other.get_by_role("button", name="Sign in").wait_for(timeout=30_000)
            assert "/signin?next=" in other.url
            assert other.get_by_text("Your session has ended. Please sign in again.").count()

            # The first tab's link leads to the form in the same tab.
            tab.get_by_test_id("signin-link").click()
            tab.get_by_role("button", name="Sign in").wait_for(timeout=30_000)
            assert "/signin?next=%2Faccount" in tab.url
            assert len(context.pages) == 2
            context.close()

            # In Chinese: the form, then the Users page of an administrator.
            context = browser.new_context(viewport={"width": 1440, "height": 1400})
            zh = context.new_page()
            zh.goto(f"{url}/users?lang=zh")
            zh.get_by_role("button", name="登录").wait_for(timeout=30_000)
            assert zh.get_by_text("用户名").count() and zh.locator("html[lang=zh-CN]").count()
            shoot(zh, "15-sign-in-zh")
            sign_in_form(zh, "admin", "wrong-password", "登录")
            zh.get_by_text("用户名或密码错误。").wait_for(timeout=15_000)
            sign_in_form(zh, "admin", "admin-password-1", "登录")
            zh.get_by_text("管理用户").wait_for(timeout=30_000)
            settle(zh)
            assert zh.url.startswith(f"{url}/users?lang=zh")
            assert zh.get_by_text("孵化经理").count()
            shoot(zh, "16-users-zh")
            zh.get_by_test_id("stSidebar").get_by_text("English").click()
            zh.get_by_text("Manage a user").wait_for(timeout=15_000)
            settle(zh)
            shoot(zh, "17-users-en")
            context.close()
        finally:
            browser.close()
