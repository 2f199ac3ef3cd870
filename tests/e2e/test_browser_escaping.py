"""Hostile stored text in a real browser: nothing makes Chromium fetch, everything reads as typed.

The companies of tests/e2e/hostile.py point every image, link, HTML and LaTeX payload at a
local HTTP listener that records each request it gets. Signed in as an admin, the test
visits every page (with the hostile site and sector as filters), every hostile company's
profile, the board with them all selected, and a refusal that quotes a hostile user name;
the listener must have received nothing, and the page text must show the stored values
exactly. Screenshots go to tests/e2e/screenshots/ (git-ignored).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from incubator.store import Database
from tests.conftest import ungate
from tests.e2e.hostile import PASSWORDS, Company, payloads, populate
from tests.e2e.test_browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    open_page,
    require_browser,
    serve_app,
    settle,
    shoot,
)

pytestmark = pytest.mark.browser


class Listener:
    """An HTTP server on a free local port that records every request it receives."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        requests = self.requests

        class Record(BaseHTTPRequestHandler):
            def handle_one_request(self) -> None:
                self.raw_requestline = self.rfile.readline(65_537)
                if self.raw_requestline:
                    requests.append(self.raw_requestline.decode("latin-1").strip())
                    self.send_response(404)
                    self.end_headers()
                self.close_connection = True

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Record)
        self.port = int(self.server.server_address[1])
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Listener:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hostile_app(
    make_database: Callable[[str], Database], tmp_path: Path
) -> Iterator[tuple[str, Listener, list[Company]]]:
    db = ungate(make_database("sqlite"))  # the UI before its gate dialogs: gates off
    with Listener() as listener:
        made = populate(db, listener.port)
        with serve_app(db, tmp_path) as url:
            yield url, listener, made


def main_text(page: Any) -> str:
    return str(page.get_by_test_id("stMain").inner_text())


def assert_nothing_rendered(page: Any, listener: Listener, where: str) -> None:
    """No link, image or formula made from a payload anywhere on the page, and no request
    reached the listener."""
    target = f"127.0.0.1:{listener.port}"
    assert listener.requests == [], where
    assert page.locator(f'[href*="{target}"], [src*="{target}"]').count() == 0, where
    assert page.locator(".katex, [data-testid=stMarkdownContainer] img").count() == 0, where


def pick_company(page: Any, key: str) -> None:
    # The company picker (the first select box: the facts forms below have their own).
    picker = page.get_by_test_id("stMain").get_by_test_id("stSelectbox").first.locator("input")
    picker.click()
    page.keyboard.type(key)
    page.get_by_role("option").filter(has_text=f"{key} · ").first.click()
    settle(page)


def test_hostile_text_makes_the_browser_fetch_nothing_and_reads_as_typed(
    hostile_app: tuple[str, Listener, list[Company]],
) -> None:
    sync_api = require_browser()
    url, listener, made = hostile_app
    port = listener.port
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 2000})
            # A bookmarked view filtered on a hostile site and sector, then sign in.
            page.goto(f"{url}/?{urlencode({'site': made[2].site, 'sector': made[2].sector})}")
            page.get_by_role("button", name="Sign in").wait_for(timeout=30_000)
            settle(page)
            shoot(page, "hostile-00-sign-in")
            page.get_by_label("User name").fill("admin")
            page.get_by_label("Password", exact=True).fill(PASSWORDS["admin"])
            page.get_by_role("button", name="Sign in").click()
            page.get_by_text("In the pipeline now").wait_for(timeout=30_000)
            settle(page)
            shoot(page, "hostile-01-funnel-filtered")
            caption = page.get_by_test_id("stMain").get_by_test_id("stCaptionContainer").first
            assert caption.inner_text() == f"As of now · {made[2].site} · {made[2].sector}"
            assert_nothing_rendered(page, listener, "funnel")

            page.get_by_role("button", name="Clear filters").click()
            settle(page)
            for label, shot in [
                ("Time in stage", "hostile-02-time-in-stage"),
                ("Audit log", "hostile-03-audit-log"),
                ("Users", "hostile-04-users"),
                ("Pipeline board", "hostile-05-board"),
            ]:
                open_page(page, label)
                shoot(page, shot)
                assert_nothing_rendered(page, listener, label)
                if label == "Time in stage":  # the stuck-list caption names a sector rule
                    assert f"{made[1].sector} · Seed 1 months" in main_text(page)

            # The board: every card reads as typed; select them all.
            text = main_text(page)
            for company in made:
                assert company.name in text and company.site in text
            select = page.get_by_test_id("stMultiSelect").locator("input")
            for company in made:
                select.click()
                page.keyboard.type(company.key)
                page.keyboard.press("Enter")
                page.keyboard.press("Escape")
                settle(page)
            page.get_by_test_id("stMain").locator("h1").first.click()  # close the dropdown
            settle(page)
            shoot(page, "hostile-06-board-selected")
            assert_nothing_rendered(page, listener, "board selected")
            for company in made:
                assert (
                    page.get_by_test_id("stPageLink")
                    .get_by_text(f"Open {company.key}", exact=True)
                    .count()
                    == 1
                )
            assert f"{made[0].name} is in the industrial park" in main_text(page)

            # Every hostile company's profile.
            page.get_by_test_id("stPageLink").get_by_text(f"Open {made[0].key}").click()
            settle(page)
            for i, company in enumerate(made):
                if i:
                    pick_company(page, company.key)
                heading = page.get_by_test_id("stMain").locator("h2").first
                assert heading.inner_text() == company.name
                text = main_text(page)
                assert f"Site {company.site} · Sector {company.sector}" in text
                shoot(page, f"hostile-07-company-{i + 1}")
                assert_nothing_rendered(page, listener, company.key)

            # A refusal that quotes a hostile user name.
            open_page(page, "Users")
            name = f"{payloads(port)[0]} {payloads(port)[4]}"
            page.get_by_text("Add a user").click()
            page.get_by_label("User name", exact=True).fill(name)
            page.get_by_label("Password (at least 10 characters)", exact=True).fill(
                "long-enough-password"
            )
            page.get_by_role("button", name="Add user").click()
            settle(page)
            error = page.get_by_test_id("stAlertContentError").first
            assert f"user name '{name}' is not allowed" in error.inner_text()
            shoot(page, "hostile-08-refusal")
            assert_nothing_rendered(page, listener, "refusal")

            page.wait_for_timeout(500)
            assert listener.requests == []
        finally:
            browser.close()
