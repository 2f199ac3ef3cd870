"""The app in 简体中文 in a real browser: every page, an import rejected line by line, an
admission refused, an empty dropdown, and Streamlit's own widgets (the file uploader), with a
screenshot of each in tests/e2e/screenshots/ (zh-*.png) to look at.

The visible text of every page is checked like the AppTest walk (test_ui_chinese.py): no
Latin-letter word but data, numbers and the allowed tokens; the uploader's button and hint
are the app's CSS text, read from the computed style of their pseudo-elements.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from incubator.store import Database
from tests.e2e.test_browser import (  # noqa: F401  (server is a fixture)
    CHROMIUM,
    CHROMIUM_ARGS,
    open_page,
    require_browser,
    server,
    settle,
    shoot,
)
from tests.e2e.test_ui_chinese import EXAMPLES, english_in, stored_values

PAGES = [
    ("漏斗总览", "zh-02-funnel"),
    ("阶段停留", "zh-03-time-in-stage"),
    ("管线看板", "zh-04-board"),
    ("统计报表", "zh-16-reports"),
    ("企业档案", "zh-05-company"),
    ("审计日志", "zh-06-audit-log"),
    ("用户管理", "zh-07-users"),
    ("我的账号", "zh-13-my-account"),
]
#: Streamlit's own English, which must not show in the Chinese app.
STREAMLIT_ENGLISH = [
    "Upload", "per file", "Drag and drop", "Browse files", "Choose an option",
    "Choose or add", "No results", "No options to select",
]  # fmt: skip
BAD_CSV = (
    "company_key,company_name,event,from_stage,to_stage,effective_at\n"
    "JM-0500,Good Co,admit,,seed,2024-01-01\n"
    "JM-0501,Bad Stage Co,admit,,moon,2024-01-01\n"
    "JM-0502,,admit,,seed,2024-01-01\n"
)


#: The text a reader sees: text nodes that take up room on screen, outside icons (Material
#: icons are ligatures, the word `upload` drawn as an icon: marked translate="no"), code
#: (commands to type, as in the AppTest walk), scripts and styles.
SHOWN_TEXT = """() => {
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    const parts = [];
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        const el = node.parentElement;
        if (!el || el.closest("[translate='no'], code, script, style")) continue;
        const box = el.getBoundingClientRect();
        const style = getComputedStyle(el);
        if (box.width < 2 || box.height < 2 || style.visibility === "hidden") continue;
        if (parseFloat(style.fontSize) === 0) continue;
        parts.push(node.textContent);
    }
    return parts.join("\\n");
}"""


def shown_text(page: Any) -> str:
    return str(page.evaluate(SHOWN_TEXT))


def visible_english(page: Any, db: Database, *typed: str) -> list[str]:
    text = shown_text(page)
    known = stored_values(db) | EXAMPLES | set(typed)
    # The uploader lists a chosen file with its size (180B, 2.1KB): byte units, as in Chinese.
    found = [w for _, _, w in english_in([("page", text)], known) if w not in ("B", "KB")]
    return found + [phrase for phrase in STREAMLIT_ENGLISH if phrase in text]


def pseudo_content(page: Any, selector: str) -> str:
    return str(
        page.locator(selector).first.evaluate(
            "e => getComputedStyle(e, '::after').getPropertyValue('content')"
        )
    )


def test_an_administrator_reads_every_page_and_every_refusal_in_chinese(
    server: tuple[str, Database],  # noqa: F811
    tmp_path: Path,
) -> None:
    sync_api = require_browser()
    url, db = server
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 2000})
            page.goto(f"{url}/?lang=zh")
            page.get_by_role("button", name="登录").wait_for(timeout=30_000)
            settle(page)
            page.get_by_label("用户名").fill("admin")
            page.get_by_label("密码", exact=True).fill("wrong-password")
            page.get_by_role("button", name="登录").click()
            page.get_by_text("用户名或密码错误。").wait_for(timeout=15_000)
            shoot(page, "zh-01-sign-in")
            assert visible_english(page, db, "admin") == [], shown_text(page)

            page.get_by_label("密码", exact=True).fill("admin-password-1")
            page.get_by_role("button", name="登录").click()
            page.get_by_text("当前在孵企业").wait_for(timeout=30_000)
            settle(page)
            for label, name in PAGES:
                open_page(page, label)
                shoot(page, name)
                assert visible_english(page, db) == [], (label, shown_text(page))

            # A company found by its key typed in lower case: one match opens its profile.
            open_page(page, "企业档案")
            page.get_by_label("查找企业").fill("jm-0005")
            page.keyboard.press("Enter")
            page.get_by_text("可执行操作：晋级 → 产业园、退出").wait_for(timeout=15_000)
            settle(page)
            shoot(page, "zh-12-company-profile")
            assert visible_english(page, db, "jm-0005") == [], shown_text(page)
            # Each facts form (an administrator sees them all), and a refusal under one.
            for tab in ("资质认定", "融资", "里程碑", "年度数据", "成立日期"):
                page.get_by_role("tab", name=tab, exact=True).click()
                settle(page)
                assert visible_english(page, db, "jm-0005") == [], (tab, shown_text(page))
            shoot(page, "zh-14-company-facts-form")
            page.get_by_role("tab", name="年度数据", exact=True).click()
            settle(page)
            page.locator(".st-key-facts_figures_year_0 input").fill("2024")
            page.locator(".st-key-facts_figures_employees_0 input").fill("10")
            page.locator(".st-key-facts_figures_employees_phd_0 input").fill("12")
            page.get_by_role("button", name="记录", exact=True).last.click()
            page.get_by_text("不能多于同一记录中的从业人员").wait_for(timeout=15_000)
            settle(page)
            shoot(page, "zh-15-company-facts-refused")
            assert visible_english(page, db, "jm-0005") == [], shown_text(page)

            # The stage limits: sector rules name the sector and the stage (生物医药 · 孵化器).
            open_page(page, "阶段停留")
            page.get_by_text("阶段期限").click()
            settle(page)
            shoot(page, "zh-11-stage-limits")
            assert visible_english(page, db) == [], shown_text(page)

            # An empty dropdown says so in Chinese.
            open_page(page, "管线看板")
            page.get_by_test_id("stMultiSelect").locator("input").click()
            page.keyboard.type("没有这家企业")
            page.get_by_role("listbox").wait_for(timeout=10_000)
            empty = "[role='listbox'][data-empty='true'] [role='option'] > span"
            assert pseudo_content(page, empty) == '"无匹配结果"'
            shoot(page, "zh-08-board-no-match")
            page.keyboard.press("Escape")  # clears the filter
            page.keyboard.press("Escape")  # closes the list
            page.get_by_role("heading", name="管线看板").click()
            settle(page)

            # An admission refused: the refusal is Chinese, the typed key shown as typed.
            page.get_by_text("企业入驻").click()
            page.get_by_label("企业编号").fill("JM 0100")
            page.get_by_label("企业名称").fill("空格编号公司")
            page.get_by_role("button", name="确认入驻").click()
            page.get_by_text("编号只能由字母、数字和").wait_for(timeout=15_000)
            settle(page)
            shoot(page, "zh-09-admit-refused")
            assert visible_english(page, db, "JM 0100") == [], shown_text(page)

            # The uploader: Streamlit's instructions hidden, its button relabelled; an import
            # rejected with every bad line in Chinese.
            open_page(page, "审计日志")
            dropzone = ".st-key-audit_import_file [data-testid='stFileUploaderDropzone']"
            assert pseudo_content(page, f"{dropzone} button p") == '"选择文件"'
            instructions = page.locator(
                f"{dropzone} [data-testid='stFileUploaderDropzoneInstructions']"
            )
            assert not instructions.is_visible()
            assert page.get_by_text("一个 CSV 文件，不超过 200 MB。").is_visible()
            bad = tmp_path / "bad.csv"
            bad.write_text(BAD_CSV, encoding="utf-8")
            page.locator(f"{dropzone} input[type='file']").set_input_files(str(bad))
            settle(page)
            page.get_by_role("button", name="导入", exact=True).click()
            page.get_by_text("文件被拒绝，未导入任何数据：共 2 行有误。").wait_for(timeout=15_000)
            settle(page)
            shoot(page, "zh-10-import-rejected")
            # The report is page text now (a plain table): it quotes the file's own values.
            assert visible_english(page, db, "bad.csv", "moon", "JM-0502") == []
        finally:
            browser.close()


def test_a_chinese_browser_gets_the_app_in_chinese_and_a_choice_of_english_sticks(
    server: tuple[str, Database],  # noqa: F811
) -> None:
    """No ?lang in the address: the browser's language decides, for the sign-in form and the
    app alike; the reader's other choice is kept in the address, so a reload keeps it."""
    sync_api = require_browser()
    url, _ = server
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(locale="zh-CN", viewport={"width": 1440, "height": 1200})
            page = context.new_page()
            page.goto(f"{url}/")
            page.get_by_role("button", name="登录").wait_for(timeout=30_000)
            page.get_by_label("用户名").fill("admin")
            page.get_by_label("密码", exact=True).fill("admin-password-1")
            page.get_by_role("button", name="登录").click()
            page.get_by_text("当前在孵企业").wait_for(timeout=30_000)  # Chinese, no ?lang
            settle(page)
            page.get_by_text("English", exact=True).click()
            page.get_by_text("In the pipeline now").wait_for(timeout=15_000)
            settle(page)
            assert "lang=en" in page.url
            page.reload()
            page.get_by_text("In the pipeline now").wait_for(timeout=30_000)
        finally:
            browser.close()
