"""A manager's day in Chromium at 1400×900: two moves in a row, tables read without
scrolling sideways, and nothing fetched from outside 127.0.0.1.

Saves a screenshot of every page in both languages in tests/e2e/screenshots/ (git-ignored)
to look at. Skipped without Chromium unless INCUBATOR_REQUIRE_BROWSER=1 (see
tests/e2e/test_browser.py, whose server and helpers it uses).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from incubator import services
from incubator.access import cli_owner
from incubator.store import Database
from tests.conftest import ungate
from tests.e2e.test_browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    SCREENSHOTS,
    require_browser,
    serve_app,
    settle,
    sign_in_form,
)

pytestmark = pytest.mark.browser

OWNER = cli_owner("setup")
T0 = datetime(2019, 3, 4, tzinfo=UTC)
T1 = datetime(2024, 5, 6, tzinfo=UTC)
WIDTH, HEIGHT = 1400, 900
#: Where pages are photographed whole (Streamlit scrolls inside the viewport).
TALL = 2600
PASSWORDS = {"admin": "admin-password-1", "wang": "wang-password-1"}
NOTE_A = "NOTE-A for JM-0001 only"
#: A rejected import: each line a different problem, the longest about 95 characters.
BAD_CSV = (
    "company_key,company_name,event,from_stage,to_stage,effective_at,reason\n"
    "JM-0500,Good Co,admit,,seed,2024-01-01,\n"
    "JM-0501,Bad Co,admit,,moon,2024-01-01,\n"
    "JM-0502,,admit,,seed,2024-01-01,\n"
    "JM-0500,,advance,seed,incubator,2024-02-01,\n"
    "JM-0503,X,admit,,seed,1975-01-01,\n"
    "JM-0504,Y,admit,,seed,2024-01-01,\n"
    "JM-0504,,exit,seed,,2024-03-01,\n"
)
#: The tables whose key columns must be in view, by page and language: the first header
#: names the table.
KEY_COLUMNS = {
    "dwell": {
        "en": ["Overdue (days)", "Key", "Name", "Days in stage", "Sector"],
        "zh": ["超期（天）", "编号", "名称", "停留天数", "行业"],
    },
    "audit": {
        "en": ["Recorded (UTC)", "Effective (UTC)", "Move", "Gate", "Note", "Reason", "By", "Hash"],
        "zh": [
            "记录时间（UTC）",
            "生效时间（UTC）",
            "流转",
            "门槛",
            "备注",
            "原因",
            "操作人",
            "哈希",
        ],
    },
}
PAGES = {
    "en": {
        "funnel": "Funnel",
        "dwell": "Time in stage",
        "board": "Pipeline board",
        "company": "Company",
        "audit": "Audit log",
        "account": "My account",
        "users": "Users",
    },
    "zh": {
        "funnel": "漏斗总览",
        "dwell": "阶段停留",
        "board": "管线看板",
        "company": "企业档案",
        "audit": "审计日志",
        "account": "我的账号",
        "users": "用户管理",
    },
}


@pytest.fixture
def day(make_database: Callable[[str], Database], tmp_path: Path) -> Iterator[tuple[str, Database]]:
    """Two sites; companies overdue in their stage, one that stayed no time in the seed
    stage, exits with reasons and notes; an admin and the manager of 钟祥."""
    db = ungate(make_database("sqlite"))  # the UI before its gate dialogs: gates off
    for key, name, stage, site, sector in [
        ("JM-0001", "钟祥绿野生物医药有限公司", "seed", "钟祥", "biomedicine"),
        ("JM-0002", "Jade Hill Foods Ltd.", "seed", "钟祥", "organic food"),
        (
            "JM-0003",
            "钟祥楚天新能源新材料有限公司",
            "incubator",
            "钟祥",
            "new energy & new materials",
        ),
        ("JM-0004", "京山长风显示技术有限公司", "accelerator", "京山", "flexible electronics"),
        ("JM-0006", "汉江恒通制药有限公司", "nursery", "京山", "biomedicine"),
    ]:
        services.admit(
            db, key, name=name, stage=stage, actor=OWNER, at=T0, site=site, sector=sector,
            note="admitted at the spring intake",
        )  # fmt: skip
    # Admitted into the seed stage and moved on the same instant: a stay of no length.
    services.admit(
        db, "JM-0005", name="荆门速达智能装备有限公司", stage="seed", actor=OWNER, at=T1,
        site="京山", sector="high-end equipment",
    )  # fmt: skip
    services.advance(db, "JM-0005", actor=OWNER, seen="seed", at=T1, note="skipped ahead")
    services.exit_company(
        db, "JM-0006", reason="relocated", actor=OWNER, seen="nursery", at=T1,
        note="moved the whole team to Wuhan after the provincial grant fell through",
    )  # fmt: skip
    for name, role, site in [("admin", "admin", None), ("wang", "manager", "钟祥")]:
        services.add_user(db, name, role=role, site=site, password=PASSWORDS[name], actor=OWNER)
    with serve_app(db, tmp_path) as url:
        yield url, db


def sign_in(page: Any, url: str, user: str) -> None:
    page.goto(url)  # the sign-in form, which comes back to the app
    sign_in_form(page, user, PASSWORDS[user])
    page.get_by_test_id("stSidebarNav").wait_for(timeout=30_000)
    settle(page)


def open_page(page: Any, lang: str, name: str) -> None:
    page.get_by_test_id("stSidebarNav").get_by_role("link", name=PAGES[lang][name]).click()
    settle(page)
    assert not page.get_by_test_id("stException").count(), name


def shoot(page: Any, name: str) -> None:
    """The whole page: the viewport is made tall for the picture (Streamlit scrolls inside
    it), then set back to 1400×900."""
    SCREENSHOTS.mkdir(exist_ok=True)
    page.set_viewport_size({"width": WIDTH, "height": TALL})
    settle(page)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
    page.set_viewport_size({"width": WIDTH, "height": HEIGHT})
    settle(page)


def pick_company(page: Any, key: str) -> None:
    """Choose the company with this key, and only it, in the move form."""
    page.get_by_test_id("stMultiSelect").locator("input").click()
    page.keyboard.type(key)
    page.get_by_role("option", name=re.compile(f" · {key} · ")).click()
    page.keyboard.press("Escape")
    settle(page)
    chosen = page.get_by_test_id("stMultiSelect").locator(".react-aria-ComboBox [data-tag]")
    assert [f" · {key} · " in tag for tag in chosen.all_inner_texts()] == [True]


def note_box(page: Any) -> Any:
    return page.get_by_test_id("stTextArea").locator("textarea")


def table_fits(page: Any, headers: list[str]) -> None:
    """Find the table whose columns include `headers` (its first one names the table),
    scroll it into view and measure it: the grid's content is no wider than its box (no
    sideways scrolling), and the box lies inside the window."""
    table = page.get_by_test_id("stDataFrame").filter(
        has=page.get_by_role("columnheader", name=headers[0], exact=True, include_hidden=True)
    )
    table.scroll_into_view_if_needed()
    page.wait_for_timeout(500)
    measured: dict[str, Any] = table.evaluate(
        """(frame) => {
            const scroller = frame.querySelector('.dvn-scroller');
            const box = frame.getBoundingClientRect();
            return {
                content: scroller.scrollWidth, visible: scroller.clientWidth,
                left: box.left, right: box.right, window: window.innerWidth,
                headers: [...frame.querySelectorAll('[role=columnheader]')]
                    .map((th) => th.textContent),
            };
        }"""
    )
    assert set(headers) <= set(measured["headers"]), measured
    assert measured["content"] <= measured["visible"], repr(measured)
    assert measured["left"] >= 0 and measured["right"] <= measured["window"], measured


def report_fits(page: Any, headers: list[str]) -> None:
    """The plain table (`st.table`) with these headers lies inside the window, its header
    cells inside it, and its text wraps instead of running past its edge."""
    table = page.get_by_test_id("stTable")
    table.scroll_into_view_if_needed()
    measured: dict[str, Any] = table.evaluate(
        """(frame) => {
            const box = frame.getBoundingClientRect();
            const inner = frame.querySelector('table');
            return {
                left: box.left, right: box.right, window: window.innerWidth,
                content: frame.scrollWidth, visible: frame.clientWidth,
                table: inner.getBoundingClientRect().right,
                headers: [...frame.querySelectorAll('th')].map((th) => {
                    const r = th.getBoundingClientRect();
                    return [th.textContent, r.left, r.right];
                }),
            };
        }"""
    )
    assert [h[0] for h in measured["headers"]] == headers, measured
    for _, left, right in measured["headers"]:
        assert measured["left"] <= left and right <= measured["right"], measured
    assert measured["content"] <= measured["visible"], repr(measured)
    assert measured["table"] <= measured["right"] <= measured["window"], measured


def test_a_manager_s_day_at_1400_by_900(day: tuple[str, Database]) -> None:
    sync_api = require_browser()
    url, db = day
    outside: list[str] = []
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": WIDTH, "height": HEIGHT})

            def record(request: Any) -> None:
                parts = urlsplit(request.url)
                if parts.scheme in ("http", "https", "ws", "wss") and parts.hostname != "127.0.0.1":
                    outside.append(request.url)

            context.on("request", record)
            page = context.new_page()
            sign_in(page, url, "wang")
            # The tab's icon is part of the page, not fetched from a font server.
            icon = page.locator("link[rel='shortcut icon']").get_attribute("href") or ""
            assert icon.startswith("data:"), icon
            # A manager of one site starts at that site.
            site = page.get_by_test_id("stSidebar").get_by_role("combobox", name="Site")
            assert site.input_value() == "钟祥"
            open_page(page, "en", "board")

            # Two moves in a row: the first one's note must not stick to the second.
            pick_company(page, "JM-0001")
            note_box(page).fill(NOTE_A)
            page.get_by_role("button", name="Apply").click()
            page.get_by_text("1 moved: JM-0001: Seed → Nursery").wait_for(timeout=15_000)
            settle(page)
            assert note_box(page).input_value() == ""
            pick_company(page, "JM-0002")
            page.get_by_role("button", name="Apply").click()
            page.get_by_text("1 moved: JM-0002: Seed → Nursery").wait_for(timeout=15_000)
            settle(page)
            assert services.history(db, "JM-0001")[-1].note == NOTE_A
            second = services.history(db, "JM-0002")[-1]
            assert (second.kind, second.actor, second.note) == ("advance", "wang", "")

            # An exit waits for its reason.
            pick_company(page, "JM-0003")
            page.get_by_text("Exit the pipeline").click()
            settle(page)
            assert page.get_by_role("button", name="Apply").is_disabled()
            page.get_by_text("Choose an exit reason to apply the exit.").wait_for()

            # Every page in both languages; the key columns of the stuck list and the audit
            # log in view without scrolling sideways; the company page showing the stay of
            # no length.
            for lang in ("en", "zh"):
                if lang == "zh":
                    page.get_by_test_id("stSidebar").get_by_text("简体中文").click()
                    settle(page)
                for name in ("funnel", "dwell", "board", "audit", "account"):
                    open_page(page, lang, name)
                    if name in KEY_COLUMNS:
                        table_fits(page, KEY_COLUMNS[name][lang])
                    shoot(page, f"day-{lang}-{name}")
                open_page(page, lang, "company")
                page.get_by_test_id("stTextInput").locator("input").fill("JM-0005")
                page.keyboard.press("Enter")
                settle(page)
                page.get_by_test_id("stSelectbox").first.click()  # the company picker
                page.get_by_role("option", name="JM-0005 · 荆门速达智能装备有限公司").click()
                settle(page)
                page.get_by_test_id("stVegaLiteChart").first.wait_for()
                # The address names the company by its key, not by its label.
                assert dict(parse_qsl(urlsplit(page.url).query))["company"] == "JM-0005"
                shoot(page, f"day-{lang}-company")

            # The administrator's import report, in full.
            page.get_by_test_id("stSidebar").get_by_role("button", name="退出登录").click()
            settle(page)
            sign_in(page, url, "admin")
            open_page(page, "en", "users")
            shoot(page, "day-en-users")
            page.get_by_test_id("stSidebar").get_by_text("简体中文").click()
            settle(page)
            shoot(page, "day-zh-users")
            page.get_by_test_id("stSidebar").get_by_text("English").click()
            settle(page)
            open_page(page, "en", "audit")
            page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(
                files=[{"name": "bad.csv", "mimeType": "text/csv", "buffer": BAD_CSV.encode()}]
            )
            settle(page)
            page.get_by_role("button", name="Import", exact=True).click()
            page.get_by_text("nothing was imported: 5 bad rows").wait_for(timeout=15_000)
            settle(page)
            report_fits(page, ["Line", "Problem"])
            shoot(page, "day-en-import-report")
            assert services.list_companies(db)[-1].key == "JM-0006"  # nothing was imported
        except Exception:
            page.screenshot(path=str(SCREENSHOTS / "day-failure.png"), full_page=True)
            raise
        finally:
            browser.close()
    assert outside == [], outside
