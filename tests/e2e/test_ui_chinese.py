"""The whole app in 简体中文: a walk through every page and every refusal a form can show,
signed in as an administrator and as a manager, that fails on any English the app renders.

Every text the app sends to the browser is collected from AppTest's element tree (titles,
Markdown, captions, alerts, toasts, labels, help, placeholders, options, metrics, table
headers and the cells that are not stored data, the data editor's option labels, and the
text of the app's own CSS overrides), and each must be free of Latin-letter words except:

- stored or typed data: company keys and names, sites, actors, notes, user names, sectors
  outside the city's focus list, hashes, file names and the values a test typed (they are
  shown as written);
- numbers, ISO dates and times, and code spans (commands such as `incubator init`);
- `ALLOWED`, a short list of tokens that are Chinese usage too: format and standard names
  (CSV, UTF-8, ISO 8601, UTC, GB 32100-2015, Excel/.xlsx, MB, TOML, JSON), the Kaplan–Meier
  (KM) median, the CSV file's own column names (an import report names the column to fix),
  the names of the environment variables, and the language switch, which names both
  languages in their own script ("Language · 语言", "English").

Streamlit's own English that the element tree does not show (a select box's "Choose an
option", the uploader's "Upload") is covered by two rules: every select box without a value
and every multiselect has a placeholder of ours, and the file uploader has the app's CSS
override, checked like any other text. The browser run (test_browser.py) shows the result.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pandas as pd
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from incubator import services
from incubator.access import cli_owner
from incubator.evidence import DEFAULT_POLICY
from incubator.factlog import EXPORT_COLUMNS as FACT_COLUMNS
from incubator.stages import FOCUS_SECTORS
from incubator.store import Database
from tests.conftest import OWNER as TESTER
from tests.e2e.test_ui import (  # noqa: F401  (app_db is a fixture)
    OWNER,
    app_db,
    open_app,
    open_page,
    shown,
    sign_in,
    widget,
)
from tests.e2e.test_web_signin import Browser
from ui import web_auth

#: Tokens a Chinese page may show in Latin letters (see the module's docstring).
ALLOWED = {
    "CSV", "UTF", "ISO", "UTC", "GB", "Excel", "xlsx", "MB", "KM", "Kaplan", "Meier", "TOML", "JSON",
    "company_key", "company_name", "event", "from_stage", "to_stage", "effective_at",
    "actor", "note", "reason", "sector", "site", "uscc", "recorded_at", "event_id", "hash",
    *FACT_COLUMNS,
    "INCUBATOR_DATABASE_URL", "INCUBATOR_AUDIT_KEY", "Language", "English",
}  # fmt: skip
#: Fields of an element's message that hold text a reader sees.
TEXT_FIELDS = {"body", "label", "help", "placeholder", "options", "content", "title", "delta"}
#: Elements whose text is checked another way (tables, CSS) or that hold a chart's spec.
SKIPPED = {"dataframe", "html", "arrow_vega_lite_chart", "graphviz_chart", "divider"}
LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z_]*[A-Za-z]")
UNIT = re.compile(r"\d([A-Za-z]+)(?![A-Za-z0-9])")  # "2,842d"
ISO_TIME = re.compile(
    r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?(?:[+-]\d{2}:\d{2}|Z)?"
)
#: Icons, Markdown directives, code spans, command-line options (--as-of), a byte (0xe9),
#: a character (U+200B, \u200b).
MARKUP = re.compile(
    r":material/[a-z_]+:|:[a-z]+(?:-[a-z]+)?\[|`[^`]*`|(?<![\w-])--[a-z][a-z-]*"
    r"|0x[0-9a-f]{2}|U\+[0-9A-F]{4,6}|\\u[0-9a-f]{4}|\\x[0-9a-f]{2}"
)
#: The example key the placeholders and messages show.
EXAMPLES = {"JM-0042"}
CSS_CONTENT = re.compile(r"content:\s*(\"(?:[^\"\\]|\\.)*\")")


def element_texts(at: AppTest) -> Iterator[tuple[str, str]]:
    """(where, text) for every text the page shows, from the element tree."""
    yield from _walk(at._tree, "")


def _walk(node: Any, where: str) -> Iterator[tuple[str, str]]:
    kind = getattr(node, "type", "")
    proto = getattr(node, "proto", None)
    here = f"{where}/{kind}"
    if kind == "dataframe":
        yield from _table_texts(node, here)
    elif kind == "html":
        for text in CSS_CONTENT.findall(str(node.proto.body)):
            yield here, json.loads(text)
    elif kind not in SKIPPED and proto is not None and hasattr(proto, "ListFields"):
        yield from _proto_texts(proto, here)
    for child in (getattr(node, "children", None) or {}).values():
        yield from _walk(child, here)


def _proto_texts(proto: Any, where: str) -> Iterator[tuple[str, str]]:
    for field, value in proto.ListFields():
        single = isinstance(value, str | bytes | int | float) or hasattr(value, "ListFields")
        values = [value] if single else list(value)
        for item in values:
            if isinstance(item, str):
                if field.name in TEXT_FIELDS:
                    yield f"{where}.{field.name}", item
            elif hasattr(item, "ListFields") and field.name not in ("width_config", "form"):
                yield from _proto_texts(item, f"{where}.{field.name}")


def _table_texts(node: Any, where: str) -> Iterator[tuple[str, str]]:
    """Headers, cells (an editor's option cells by their labels) and column help."""
    config = json.loads(node.proto.columns or "{}")
    frame = node.value
    for column in frame.columns:
        settings = config.get(str(column), {})
        yield f"{where}.header", str(settings.get("label", column))
        if settings.get("help"):
            yield f"{where}.help", str(settings["help"])
        labels = {
            o["value"]: o["label"]
            for o in settings.get("type_config", {}).get("options", [])
            if isinstance(o, dict)
        }
        for value in frame[column].tolist():
            if value is None or pd.isna(value):  # shown as the table's placeholder
                continue
            yield f"{where}.cell", str(labels.get(value, value))


def stored_values(db: Database) -> set[str]:
    """Everything the database holds that the app shows as written."""
    found: set[str] = set()
    with db.engine.connect() as conn:
        for sql in (
            "SELECT key, name, site, sector, head_hash FROM company",
            "SELECT actor, note, hash FROM stage_event",
            "SELECT name, site FROM app_user",
            "SELECT actor, note, hash FROM company_fact",
        ):
            for row in conn.exec_driver_sql(sql):
                found.update(str(v) for v in row if v)
        for (changed,) in conn.exec_driver_sql(
            "SELECT value FROM setting WHERE key = 'gate_policy_changed'"
        ):
            found.add(json.loads(changed)["by"])  # who set the gate policy
    hashes = {v[:12] for v in found if re.fullmatch(r"[0-9a-f]{64}", v)}  # shown cut short
    return (found | hashes) - set(FOCUS_SECTORS)


def english_in(texts: list[tuple[str, str]], known: set[str]) -> list[tuple[str, str, str]]:
    """(where, text, word) for every Latin-letter word that is not known data or allowed."""
    # Notes are shown on one line: each of their lines counts as written. A value counts
    # only as a whole (not "li" inside "English").
    pieces = {line.strip() for v in known for line in v.splitlines() if line.strip()}
    data = sorted(pieces, key=len, reverse=True)
    as_written = re.compile(
        "|".join(f"(?<![A-Za-z]){re.escape(v)}(?![A-Za-z])" for v in data) or "(?!)"
    )
    found = []
    for where, raw in texts:
        text = as_written.sub(" ", shown(raw).replace("\\n", " "))
        text = ISO_TIME.sub(" ", MARKUP.sub(" ", text))
        words = [w for w in LATIN_WORD.findall(text) if w not in ALLOWED]
        words += [u for u in UNIT.findall(text) if u not in ALLOWED]
        found += [(where, raw, w) for w in words]
    return found


class Walk:
    """Collects what every visited screen showed, and checks it at the end."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.texts: list[tuple[str, str]] = []
        self.typed: set[str] = set()
        self.problems: list[str] = []

    def look(self, at: AppTest, screen: str) -> AppTest:
        assert not at.exception, (screen, [e.message for e in at.exception])
        self.texts += [(f"{screen}{where}", text) for where, text in element_texts(at)]
        self._placeholders(at, screen)
        return at

    def _placeholders(self, at: AppTest, screen: str) -> None:
        """Streamlit writes "Choose an option" (or "Choose or add an option") into an empty
        select box or multiselect without a placeholder."""
        for box in at.selectbox:
            if box.index is None and not box.proto.placeholder:
                self.problems.append(f"{screen}: select box {box.key} has no placeholder")
        for box in at.multiselect:
            if not box.proto.placeholder:
                self.problems.append(f"{screen}: multiselect {box.key} has no placeholder")
        for uploader in at.get("file_uploader"):
            overrides = " ".join(str(h.proto.body) for h in at.get("html"))
            if f".st-key-{uploader.key}" not in overrides:
                self.problems.append(f"{screen}: the uploader {uploader.key} shows its English")

    def type(self, *values: str) -> None:
        """Values a test typed: shown as typed, or with hidden characters as escapes."""
        self.typed.update(v for v in values if v)
        self.typed.update(repr(v)[1:-1] for v in values if v)

    def check(self) -> None:
        english = english_in(self.texts, stored_values(self.db) | self.typed | EXAMPLES)
        report = [f"{where}: {word!r} in {text!r}" for where, text, word in english]
        assert not (self.problems or report), "\n".join(self.problems + report)


@pytest.fixture
def walk(app_db: Database) -> Walk:  # noqa: F811
    """The pipeline of test_ui.py, with a company stuck beyond its sector's limit, one that
    exited, and notes."""
    services.admit(
        app_db, "JM-0010", name="荆门示范医药有限公司", stage="incubator", actor=OWNER,
        at=datetime(2019, 3, 1, tzinfo=UTC), site="钟祥", sector="biomedicine",
    )  # fmt: skip
    services.admit(
        app_db, "JM-0011", name="沙洋新材料有限公司", stage="seed", actor=OWNER,
        at=datetime(2023, 5, 2, tzinfo=UTC), site="钟祥", sector="new energy & new materials",
    )  # fmt: skip
    services.exit_company(app_db, "JM-0011", reason="relocated", actor=OWNER, note="迁往武汉")
    return Walk(app_db)


def zh(user: str, walk: Walk, **query: str) -> AppTest:
    at = sign_in(user, lang="zh", **query)
    return walk.look(at, f"{user}/sign-in")


ADMIT_FORM: dict[str, Any] = {
    "admit_key": "", "admit_name": "", "admit_uscc": "", "admit_note": "", "admit_site": None,
}  # fmt: skip


def fill(at: AppTest, walk: Walk, button: str, **values: Any) -> AppTest:
    for key, value in values.items():
        widget(at, key).set_value(value)
        if isinstance(value, str):
            walk.type(value)
    at.button(key=button).click().run()
    return at


def move(at: AppTest, walk: Walk, keys: list[str], action: str, **fields: Any) -> AppTest:
    """Pick companies on the board and an action, fill in what the action asks, apply
    (Apply is enabled once the move is complete: an exit needs its reason)."""
    widget(at, "board_selection").set_value(keys)
    at.radio(key="board_action").set_value(action)
    at.run()
    for key, value in fields.items():
        widget(at, key).set_value(value)
        if isinstance(value, str):
            walk.type(value)
    at.run()
    return fill(at, walk, "board_apply")


def refused(at: AppTest) -> list[str]:
    return [shown(str(e.value)) for e in [*at.error, *at.warning]]


def html_text(page: str) -> str:
    """The text a browser shows of an HTML page (the sign-in form): no styles, no tags."""
    body = re.sub(r"<(style|script|title)\b.*?</\1>", " ", page, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", "\n", body))


def test_the_sign_in_form_and_its_refusals_are_in_chinese(app_db: Database) -> None:  # noqa: F811
    walk = Walk(app_db)
    walk.look(open_app(None, lang="zh"), "signed out")
    try:
        form = Browser().get("/signin?lang=zh")
        walk.texts.append(("sign-in form", html_text(form.text)))
        wrong = Browser().sign_in("nobody", "wrong-password", next_url="/?lang=zh")
        assert "用户名或密码错误。" in wrong.text
        walk.texts.append(("sign-in refused", html_text(wrong.text)))
        services.disable_user(app_db, "li", actor=OWNER)
        disabled = Browser().sign_in("li", "li-password-1", next_url="/?lang=zh")
        walk.texts.append(("sign-in disabled", html_text(disabled.text)))
        browser = Browser()
        for _ in range(5):
            browser.sign_in("viewer", "wrong-password", next_url="/?lang=zh")
        locked = browser.sign_in("viewer", "viewer-password-1", next_url="/?lang=zh")
        assert locked.status == 429
        walk.texts.append(("sign-in locked", html_text(locked.text)))
    finally:
        web_auth.forget_databases()
    walk.type("nobody")
    walk.check()


def test_an_administrator_walks_every_page_and_every_refusal_in_chinese(walk: Walk) -> None:
    at = zh("admin", walk)
    for page in (
        "funnel", "dwell", "board", "reports", "company", "audit", "policy", "users", "sites", "account",
    ):  # fmt: skip
        walk.look(open_page(at, page), f"admin/{page}")

    # The limits editor: every rule is shown by its names, and saving says so.
    at = open_page(at, "dwell")
    at.number_input(key="limit_nursery").set_value(6.0)
    at.button(key="limits_save").click().run()
    walk.look(at, "admin/dwell saved")
    assert any("生物医药 · 孵化器 60 个月" in str(c.value) for c in at.caption)

    # The admit form, with each kind of bad input.
    at = open_page(at, "board")
    bad_admissions: list[dict[str, Any]] = [
        {"admit_key": "JM 0100", "admit_name": "空格编号公司"},
        {"admit_key": "", "admit_name": "无编号公司"},
        {"admit_key": "JM-0100", "admit_name": ""},
        {"admit_key": "JM-0100", "admit_name": "隐形\u200b字符公司"},
        {"admit_key": "JM-0100", "admit_name": "甲公司", "admit_uscc": "91420881MA4R0QMA43"},
        {"admit_key": "JM-0100", "admit_name": "乙公司", "admit_uscc": "914208"},
        {"admit_key": "JM-0100", "admit_name": "丙公司", "admit_uscc": "91420881MA4R0QMAIO"},
        {"admit_key": "JM-" + "0" * 70, "admit_name": "丁公司"},
        {"admit_key": "JM-0100", "admit_name": "戊公司", "admit_note": "响铃\x07"},
        {"admit_key": "JM-0001", "admit_name": "重复编号公司"},
    ]
    walk.type("IO")  # the characters a USCC may not hold, quoted back
    for values in bad_admissions:
        fill(at, walk, "admit_submit", **(ADMIT_FORM | values))
        walk.look(at, f"admin/admit {values}")
        assert any(r.startswith("未能入驻") for r in refused(at)), (values, refused(at))
    assert len(services.list_companies(walk.db)) == 6  # nothing was admitted

    # Moves the ladder or the log refuses: an exit without a reason, a date before the
    # previous event, and a company someone else moved meanwhile.
    widget(at, "board_selection").set_value(["JM-0001"])
    at.radio(key="board_action").set_value("exit")
    at.run()
    walk.look(at, "admin/exit without reason")
    assert at.button(key="board_apply").disabled  # until a reason is chosen, which it says
    assert "请选择退出原因后再执行退出。" in [str(c.value) for c in at.caption]
    move(at, walk, ["JM-0002"], "advance", board_effective=date(2024, 2, 1))
    walk.look(at, "admin/advance before previous")
    assert any("早于上一事件" in r for r in refused(at)), refused(at)
    services.advance(walk.db, "JM-0003", actor=cli_owner("someone.else"), seen="nursery")
    move(at, walk, ["JM-0003"], "advance", board_effective=None)
    walk.look(at, "admin/conflict")
    assert any("冲突" in r and "已不在苗圃" in r for r in refused(at)), refused(at)

    # An import rejected, line by line, for several kinds of bad lines; then bad files.
    at = open_page(at, "audit")
    bad = (
        "company_key,company_name,event,from_stage,to_stage,effective_at,reason,site\n"
        "JM-0500,Good Co,admit,,seed,2024-01-01,,沙洋\n"
        "JM-0501,Bad Stage Co,admit,,moon,2024-01-01,,\n"
        "JM-0502,,admit,,seed,2024-01-01,,\n"
        "JM-0503,Date Co,admit,,seed,yesterday,,\n"
        "JM-0504,Future Co,admit,,seed,2999-01-01,,\n"
        "JM-0505,Fields Co,admit,,seed\n"
        "JM-0506,Kind Co,promote,,seed,2024-01-01,,\n"
        "JM-0507,Reason Co,admit,,seed,2024-01-01,failed,\n"
        "JM-0001,Again Co,admit,,seed,2024-01-01,,\n"
        "JM-0500,,advance,,incubator,2024-02-01,,\n"
        "JM-0500,,exit,,,2024-03-01,,\n"
        "JM-0508,Early Co,admit,,seed,1970-01-01,,\n"
        "JM-0509,Hidden\u200bCo,admit,,seed,2024-01-01,,\n"
    )
    files = [
        ("bad-rows.csv", bad.encode()),
        ("bad-header.csv", b"company_key,colour,event,event\nJM-1,red,admit,admit\n"),
        ("latin1.csv", "company_key,event,to_stage,effective_at\nJM-1,admit,seed,2024\xe9\n".encode("latin-1")),
        ("quote.csv", b'company_key,event,to_stage,effective_at\nJM-1,admit,"seed,2024-01-01\n'),
        ("empty.csv", b""),
    ]  # fmt: skip
    for name, data in files:
        at.file_uploader(key="audit_import_file").upload(name, data, "text/csv")
        at.button(key="audit_import_button").click().run()
        walk.look(at, f"admin/import {name}")
        assert any("文件被拒绝" in r for r in refused(at)), (name, refused(at))
        walk.type(name)
    # The values of the bad lines, quoted back as written.
    walk.type("Good Co", "moon", "yesterday", "promote", "colour", "Hidden\u200bCo")
    walk.type("JM-1", *(f"JM-05{i:02d}" for i in range(10)))
    assert len(services.list_companies(walk.db)) == 6

    # A chain that no longer verifies: the company row was changed behind the tracker.
    with walk.db.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE company SET stage = 'accelerator' WHERE key = 'JM-0001'")
    at.button(key="audit_verify").click().run()
    walk.look(at, "admin/verify broken")
    assert any("哈希链异常" in r and "企业表记录其处于加速器" in r for r in refused(at)), refused(
        at
    )

    # A policy file with a negative amount, refused with its line.
    at = open_page(at, "policy")
    bad_policy = (
        '[[gates]]\nstage = "accelerator"\nmode = "any"\n\n'
        '[[gates.criteria]]\nid = "financing_over"\namount = -5\n'
    )
    at.file_uploader(key="policy_file").upload("policy.toml", bad_policy.encode(), "text/plain")
    at.button(key="policy_upload").click().run()
    walk.look(at, "admin/policy refused")
    assert any(
        r.startswith("未替换：policy.toml 不是有效的门槛规则：第 7 行（第 1 道门槛的第 1 项条件）")
        for r in refused(at)
    ), refused(at)
    walk.type("policy.toml", "amount")

    # The users form, with each kind of bad input.
    at = open_page(at, "users")
    for values in [
        {"user_name": "bad name!", "user_password": "long-enough-1"},
        {"user_name": "zhao", "user_password": "short"},
        {"user_name": "zhao", "user_password": "long-enough-1", "user_site": "月球"},
        {"user_name": "zhao", "user_password": "long-enough-1", "user_site": "站" * 121},
        {"user_name": "wang", "user_password": "long-enough-1"},
    ]:
        fill(at, walk, "user_submit", **values)
        walk.look(at, f"admin/users {values}")
        assert any(r.startswith("未能添加") for r in refused(at)), (values, refused(at))

    # Managing a user: a password too short, the last admin disabled.
    at.selectbox(key="users_pick").set_value("wang").run()
    fill(at, walk, "users_reset_submit", users_reset_pw="short")
    walk.look(at, "admin/users reset short")
    assert any("密码太短" in r for r in refused(at)), refused(at)
    at.selectbox(key="users_pick").set_value("admin").run()
    at.button(key="users_disable").click().run()
    walk.look(at, "admin/users disable the last admin")
    assert any("最后一位启用中的系统管理员" in r for r in refused(at)), refused(at)

    # The site registry: a duplicate site, a negative figure, nothing to change.
    at = open_page(at, "sites")
    fill(at, walk, "sites_add_submit", sites_add_name="钟祥")
    walk.look(at, "admin/sites duplicate")
    assert any(r.startswith("未能添加") for r in refused(at)), refused(at)
    at.selectbox(key="sites_pick").set_value("钟祥").run()
    fill(at, walk, "sites_fig_submit", sites_fig_staff=-3)
    walk.look(at, "admin/sites negative staff")
    assert any(r.startswith("未能保存") for r in refused(at)), refused(at)
    fill(at, walk, "sites_set_submit")
    walk.look(at, "admin/sites unchanged")
    assert any(r.startswith("未能保存") for r in refused(at)), refused(at)

    # My account: the current password wrong, the new one the user name.
    at = open_page(at, "account")
    for values in [
        {"account_current_pw": "wrong", "account_new_pw": "new-password-1", "account_new_pw2": "new-password-1"},
        {"account_current_pw": "admin-password-1", "account_new_pw": "admin", "account_new_pw2": "admin"},
    ]:  # fmt: skip
        fill(at, walk, "account_pw_submit", **values)
        walk.look(at, "admin/account refused")
        assert any(r.startswith("未能修改") for r in refused(at)), refused(at)

    walk.check()


def test_an_administrator_records_facts_and_reads_the_records_in_chinese(walk: Walk) -> None:
    """The facts panel and its forms, each with the refusals it can show; then the audit
    page's gate column, overrides filter and company records."""
    at = zh("admin", walk, company="JM-0010")
    at = open_page(at, "company")
    walk.look(at, "admin/facts empty")
    refusals: list[tuple[str, dict[str, Any]]] = [
        ("founded", {"facts_founded_on": None}),
        ("qualification", {"facts_qualification_kind": None}),
        ("qualification", {"facts_qualification_kind": "gazelle",
                           "facts_qualification_granted": date(2025, 3, 1),
                           "facts_qualification_expires": date(2025, 1, 1)}),
        ("financing", {"facts_financing_on": date(2024, 6, 1),
                       "facts_financing_amount": "六百万"}),
        ("financing", {"facts_financing_amount": "-5"}),
        ("figures", {"facts_figures_year": 2024}),
        ("figures", {"facts_figures_employees": "10", "facts_figures_employees_phd": "12"}),
        ("milestone", {"facts_milestone_kind": "listed"}),
    ]  # fmt: skip
    for form, values in refusals:
        fill(at, walk, f"facts_{form}_submit", **values)
        walk.look(at, f"admin/facts {form} {values}")
        assert any(r.startswith("未能记录") for r in refused(at)), (form, values, refused(at))
    assert [r.kind for r in services.records(walk.db, "JM-0010")] == ["profile"]

    # Each kind recorded, so that the panel shows every table, the chart and the revocation.
    fill(at, walk, "facts_founded_submit", facts_founded_on=date(2018, 11, 5),
         facts_founded_evidence="营业执照")  # fmt: skip
    fill(at, walk, "facts_qualification_submit", facts_qualification_kind="high_tech",
         facts_qualification_level="national", facts_qualification_number="GR202542000123",
         facts_qualification_granted=date(2024, 12, 1))  # fmt: skip
    fill(at, walk, "facts_financing_submit", facts_financing_on=date(2024, 6, 1),
         facts_financing_amount="6,000,000", facts_financing_round="A 轮",
         facts_financing_investor="湖北高投", facts_financing_note="首轮")  # fmt: skip
    fill(at, walk, "facts_milestone_submit", facts_milestone_kind="listed",
         facts_milestone_on=date(2025, 1, 10))  # fmt: skip
    # The figures form still holds the refused PhDs: corrected, the year is recorded.
    fill(at, walk, "facts_figures_submit", facts_figures_year=2023,
         facts_figures_employees_phd="2", facts_figures_revenue="8000000")  # fmt: skip
    fill(at, walk, "facts_figures_submit", facts_figures_year=2024,
         facts_figures_revenue="12,000,000", facts_figures_rd_spend="900000")  # fmt: skip
    walk.look(at, "admin/facts recorded")
    # A revocation dated before its grant, then one that is recorded.
    fill(at, walk, "facts_revocation_submit", facts_revocation_kind="high_tech",
         facts_revocation_on=date(2024, 1, 1), facts_revocation_reason="复核不合格")  # fmt: skip
    walk.look(at, "admin/facts revocation refused")
    assert any("早于该高新技术企业资质的认定日期" in r for r in refused(at)), refused(at)
    fill(at, walk, "facts_revocation_submit", facts_revocation_on=date(2025, 2, 1))
    at.toggle(key="facts_figures_all").set_value(True).run()
    walk.look(at, "admin/facts every figure")
    assert [r.kind for r in services.records(walk.db, "JM-0010")] == [
        "profile", "founded", "qualification", "financing", "milestone", "figures", "figures",
        "revocation",
    ]  # fmt: skip
    assert "合计：6,000,000 元，共 1 轮。" in [str(c.value) for c in at.caption]

    # The audit page: an overridden gate, the overrides filter, the company records.
    services.policy_set(walk.db, DEFAULT_POLICY.to_json(), actor=OWNER)
    services.advance(
        walk.db, "JM-0003", actor=OWNER, seen="nursery", override="园区领导批准，材料后补"
    )
    at = open_page(at, "audit")
    at.checkbox(key="audit_overrides").check().run()
    walk.look(at, "admin/audit overrides")
    at.segmented_control(key="audit_view").set_value("records").run()
    walk.look(at, "admin/audit records")
    at.selectbox(key="audit_record_kind").set_value("qualification").run()
    walk.look(at, "admin/audit qualification records")
    walk.check()


def test_a_manager_walks_every_page_and_moves_companies_in_chinese(walk: Walk) -> None:
    at = zh("wang", walk)
    for page in ("funnel", "dwell", "board", "reports", "company", "audit", "policy", "account"):
        walk.look(open_page(at, page), f"wang/{page}")
    assert "孵化经理 · 站点 钟祥" in [shown(str(c.value)) for c in at.sidebar.caption]

    at = open_page(at, "board")
    move(at, walk, ["JM-0001", "JM-0004"], "exit", board_reason="listed", board_note="上市")
    walk.look(at, "wang/exit")
    assert any("已流转 2 家" in str(t.value) for t in at.success)  # beside the form

    # The gates on: the badges, and a move whose gate fails, with its criteria.
    services.policy_set(walk.db, DEFAULT_POLICY.to_json(), actor=TESTER)  # as ungate() did
    services.record_financing(walk.db, "JM-0010", amount=1_200_000, on="2025-06-01", actor=OWNER)
    st.cache_data.clear()  # written behind the app: as when the cache's minute is over
    at = open_page(at, "board")
    widget(at, "board_selection").set_value(["JM-0010"])
    at.radio(key="board_action").set_value("advance")
    at.run()
    walk.look(at, "wang/gate fails")
    assert any("不满足进入加速器的门槛" in w for w in refused(at)), refused(at)
    assert any("融资 120万（须超过 500万）" in str(m.value) for m in at.markdown)

    # The company page: its profile, what it may do next, and its history with a reason.
    at.query_params["company"] = "JM-0002"
    at = open_page(at, "company")
    walk.look(at, "wang/company JM-0002")
    assert "可执行操作：晋级 → 产业园、退出" in [str(c.value) for c in at.caption]
    at.selectbox(key="company").set_value("JM-0011").run()
    walk.look(at, "wang/company JM-0011")
    (history,) = [d for d in at.dataframe if "原因" in d.value.columns]
    assert history.value["原因"].tolist() == ["", "迁出"]
    walk.check()


def test_a_company_user_walks_their_pages_and_submits_figures_in_chinese(walk: Walk) -> None:
    services.add_user(
        walk.db, "jade", role="company", company="JM-0002", password="jade-password-1",
        actor=OWNER,
    )  # fmt: skip
    at = walk.look(sign_in("jade", "jade-password-1", lang="zh"), "jade/my company")
    assert "我的企业" in str(at.title[0].value)
    assert "企业用户" in [shown(str(c.value)) for c in at.sidebar.caption]
    walk.look(open_page(at, "account"), "jade/account")
    at = open_page(at, "my_company")
    fill(at, walk, "facts_figures_submit", facts_figures_employees="3",
         facts_figures_employees_phd="5")  # fmt: skip
    walk.look(at, "jade/figures refused")
    assert any("博士（5）不能多于" in e for e in refused(at)), refused(at)
    fill(at, walk, "facts_figures_submit", facts_figures_employees_phd="1",
         facts_figures_revenue="800000")  # fmt: skip
    walk.look(at, "jade/figures recorded")
    assert not refused(at)
    assert [r.actor for r in services.records(walk.db, "JM-0002") if r.kind == "figures"] == [
        "jade"
    ]
    walk.check()


def test_a_page_in_english_would_fail_the_walk() -> None:
    """The check itself: English from the app is found; data, numbers and allowed tokens
    are not."""
    texts = [
        ("x", "JM-0073 未流转：cannot exit JM-0073 (in seed): an exit needs a reason"),
        ("y", "钟祥绿野 · JM-0001 · 种子 · 2,842d"),
        ("z", "biomedicine · 孵化器 60 个月"),
        ("ok", "JM-0001 · 钟祥绿野 · 2024-01-10T00:00:00+00:00 · UTF-8 CSV · `incubator init`"),
    ]
    found = english_in(texts, {"JM-0073", "JM-0001", "钟祥绿野"})
    assert {where for where, _, _ in found} == {"x", "y", "z"}
    assert ("y", texts[1][1], "d") in found
