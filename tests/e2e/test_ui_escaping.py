"""Hostile stored text in the web app (DESIGN §10): Markdown, HTML and LaTeX in names, keys,
sites, sectors, notes and actors reach no Markdown-rendering element unescaped.

Every page is rendered through AppTest, signed in as an admin and as a manager, and every
element that Streamlit renders as Markdown (bodies, labels, help texts, radio options,
expander and page-link labels, toasts) is checked: it holds the escaped form, which a browser
shows as typed (`shown`), and never a raw payload. tests/e2e/test_browser_escaping.py checks
the same pipeline in Chromium.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import date

import pytest
import streamlit as st
from google.protobuf.message import Message
from streamlit.testing.v1 import AppTest

from incubator import services
from incubator.access import cli_owner
from incubator.store import Database
from tests.conftest import ungate
from tests.e2e.hostile import PASSWORDS, Company, payloads, populate
from tests.e2e.test_ui import open_page, shown, sign_in, texts, widget
from ui.app_context import get_database
from ui.markup import escape_markdown

PORT = 9  # nothing listens here; the browser test runs its own listener
PAYLOADS = payloads(PORT)
#: Fields of element protos that Streamlit renders as Markdown (`content`: the options of
#: a segmented control).
MARKDOWN_FIELDS = {"body", "label", "help", "content"}
#: Elements whose `body` is shown as plain text (or is not Markdown at all).
PLAIN_ELEMENTS = {"Text", "Code", "Json", "Exception"}
#: What must never reach a Markdown element unescaped: a link or image target `](…`, an
#: HTML tag `<…`, a `$` (LaTeX).
UNSAFE = re.compile(r"(?<!\\)\]\(|(?<!\\)<[a-zA-Z/!?]|(?<!\\)\$")


@pytest.fixture
def hostile_db(
    make_database: Callable[[str], Database], monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Database, list[Company]]]:
    db = ungate(make_database("sqlite"))  # the UI before its gate dialogs: gates off
    monkeypatch.setenv("INCUBATOR_DATABASE_URL", db.url)
    made = populate(db, PORT)
    yield db, made
    st.cache_data.clear()
    get_database.clear()


def _proto_texts(message: Message) -> Iterator[str]:
    for field, value in message.ListFields():
        if field.message_type is not None:
            for item in [value] if isinstance(value, Message) else value:
                yield from _proto_texts(item)
        elif field.name in MARKDOWN_FIELDS and isinstance(value, str):
            yield value


def markdown_texts(at: AppTest) -> list[str]:
    """Every text of the current run that Streamlit renders as Markdown."""
    found: list[str] = []
    for node in at:
        if type(node).__name__ in PLAIN_ELEMENTS or getattr(node, "type", None) == "html":
            continue  # the app's own CSS overrides are HTML, checked by `assert_escaped`
        proto = getattr(node, "proto", None)
        if isinstance(proto, Message):
            found.extend(_proto_texts(proto))
        if getattr(node, "type", None) == "radio":  # radio options are Markdown too
            found.extend(str(o) for o in node.proto.options)
    return found


def assert_escaped(at: AppTest, where: str) -> list[str]:
    """No payload and nothing unsafe in any Markdown text; returns them as a browser shows
    them."""
    assert not at.exception, [e.message for e in at.exception]
    for html in at.get("html"):  # only the app's fixed CSS: no stored value at all
        assert not any(payload in str(html.proto.body) for payload in PAYLOADS), where
    found = markdown_texts(at)
    assert found, where
    for text in found:
        assert not UNSAFE.search(text), (where, text)
        for payload in PAYLOADS:  # a payload may follow only an escaping backslash
            assert not re.search(r"(?<!\\)" + re.escape(payload), text), (where, payload, text)
    return [shown(text) for text in found]


def shows(at: AppTest, where: str, value: str) -> None:
    """Some Markdown text holds `value` escaped, so the page shows it as typed."""
    found = markdown_texts(at)
    assert any(escape_markdown(value) in text for text in found), (where, value, found)
    assert any(value in text for text in assert_escaped(at, where)), (where, value)


@pytest.mark.parametrize("user", ["admin", "ma"])
def test_hostile_text_shows_as_typed_on_every_page(
    hostile_db: tuple[Database, list[Company]], user: str
) -> None:
    _, made = hostile_db
    at = sign_in(user, PASSWORDS[user])
    assert_escaped(at, "funnel")
    if user == "ma":  # the sidebar names the manager's (hostile) site
        shows(at, "account", made[0].site)
    for page in ["funnel", "dwell", "board", "reports", "company", "audit"] + (
        ["users"] if user == "admin" else []
    ):
        open_page(at, page)
        assert_escaped(at, page)
        if page == "dwell":  # the stuck-list caption lists a sector rule
            shows(at, "dwell", made[1].sector)
        if page == "board":
            if user == "ma":  # a site manager's board starts at their site: show every site
                at.button(key="reset_filters").click().run()
                assert_escaped(at, page)
            for company in made:
                shows(at, "board card", company.name)
                shows(at, "board card", company.site)
    if user == "ma":  # the admit form's site is fixed, and its help names it
        open_page(at, "board")
        shows(at, "admit help", made[0].site)


@pytest.mark.parametrize("user", ["admin", "ma"])
def test_the_filter_caption_shows_a_hostile_site_and_sector_as_typed(
    hostile_db: tuple[Database, list[Company]], user: str
) -> None:
    _, made = hostile_db
    at = sign_in(user, PASSWORDS[user], site=made[2].site, sector=made[2].sector)
    assert at.selectbox(key="site").value == made[2].site
    for page in ["funnel", "dwell"]:
        open_page(at, page)
        shows(at, page, made[2].site)
        shows(at, page, made[2].sector)


@pytest.mark.parametrize("user", ["admin", "ma"])
def test_every_hostile_company_page_shows_its_text_as_typed(
    hostile_db: tuple[Database, list[Company]], user: str
) -> None:
    _, made = hostile_db
    at = open_page(sign_in(user, PASSWORDS[user]), "company")
    for company in made:
        at.selectbox(key="company").set_value(company.key).run()
        assert texts(at.header) == [company.name]
        (header,) = at.header
        assert header.value == escape_markdown(company.name)
        shows(at, company.key, company.site)
        shows(at, company.key, company.sector)
        # The history table is plain text: notes and actors as stored.
        (history,) = [d for d in at.dataframe if "Note" in d.value.columns]
        assert company.note in history.value["Note"].tolist()
        assert company.actor in history.value["By"].tolist()
    # A search that matches nothing quotes the query.
    query = f"{PAYLOADS[0]} nothing"
    at.text_input(key="company_find").input(query).run()
    shows(at, "no match", query)


def test_the_board_selection_shows_hostile_names_and_keys_as_typed(
    hostile_db: tuple[Database, list[Company]],
) -> None:
    _, made = hostile_db
    at = open_page(sign_in("admin", PASSWORDS["admin"]), "board")
    options = widget(at, "board_selection").options
    # Option labels are plain text: the names exactly as stored.
    assert {o.split(" · ")[1] for o in options} == {c.key for c in made}
    assert any(o.startswith(made[0].name + " · ") for o in options)
    widget(at, "board_selection").set_value([c.key for c in made]).run()
    links = at.get("page_link")
    assert [shown(link.proto.label) for link in links] == [f"Open {c.key}" for c in made]
    # The first company is at the top of the ladder: the caption names it.
    shows(at, "top of the ladder", made[0].name)


def test_refusals_that_quote_hostile_text_show_it_as_typed(
    hostile_db: tuple[Database, list[Company]],
) -> None:
    _, made = hostile_db
    at = open_page(sign_in("admin", PASSWORDS["admin"]), "users")
    name = f"{PAYLOADS[0]} {PAYLOADS[4]} {PAYLOADS[2]}"  # quoted with repr(): no backslash
    for key, value in [("user_name", name), ("user_password", "long-enough-password")]:
        at.text_input(key=key).set_value(value)
    at.button(key="user_submit").click().run()
    (error,) = texts(at.error)
    assert "Not added" in error and name in error
    shows(at, "user refused", name)

    at = open_page(sign_in("ma", PASSWORDS["ma"]), "board")
    bad_key = f"{PAYLOADS[1]}\tJM"  # a tab is never allowed in a key
    for key, value in [("admit_key", bad_key), ("admit_name", made[1].name)]:
        widget(at, key).set_value(value)
    at.button(key="admit_submit").click().run()
    (error,) = texts(at.error)
    assert error.startswith("Not admitted") and PAYLOADS[1] in error
    assert_escaped(at, "admit refused")


def test_hostile_facts_show_as_typed_in_the_facts_panel_its_refusals_and_the_records(
    hostile_db: tuple[Database, list[Company]],
) -> None:
    db, made = hostile_db
    company = made[0]  # at the site "ma" manages: the forms are shown
    by = cli_owner(company.actor)
    investor = f"{PAYLOADS[0]} {PAYLOADS[2]}"
    services.record_financing(
        db, company.key, amount=1_000, on="2024-06-01", round_name=PAYLOADS[4],
        investor=investor, evidence=PAYLOADS[3], note=PAYLOADS[6], actor=by,
    )  # fmt: skip
    services.record_qualification(
        db, company.key, "gazelle", granted_on="2024-01-01", number=PAYLOADS[1], actor=by
    )
    services.revoke_qualification(
        db, company.key, "gazelle", revoked_on="2024-02-01", reason=PAYLOADS[5], actor=by
    )
    at = open_page(sign_in("ma", PASSWORDS["ma"], company=company.key), "company")
    assert_escaped(at, "facts panel")
    # The tables are plain text: the stored values exactly.
    (rounds,) = [d for d in at.dataframe if "Investor" in d.value.columns]
    assert rounds.value["Investor"].tolist() == [investor]
    assert rounds.value["Round"].tolist() == [PAYLOADS[4]]
    (grants,) = [d for d in at.dataframe if "Certificate No." in d.value.columns]
    assert grants.value["Certificate No."].tolist() == [PAYLOADS[1]]
    assert grants.value["Revocation reason"].tolist() == [PAYLOADS[5]]
    # A refusal that quotes what was typed shows it as typed, under the form.
    widget(at, "facts_financing_on").set_value(date(2024, 6, 2))
    widget(at, "facts_financing_amount").set_value(PAYLOADS[0])
    at.button(key="facts_financing_submit").click().run()
    (error,) = texts(at.error)
    assert error.startswith("Not recorded") and PAYLOADS[0] in error
    shows(at, "facts refused", PAYLOADS[0])
    # A record's toast names the company (its key) and the record.
    widget(at, "facts_financing_amount").set_value("2,000")
    at.button(key="facts_financing_submit").click().run()
    assert texts(at.toast) == [f"Financing round recorded for {company.key} (record #5)."]
    assert_escaped(at, "facts recorded")
    # The company records on the audit page: plain-text cells, escaped filters and captions.
    at = open_page(at, "audit")
    at.segmented_control(key="audit_view").set_value("records").run()
    assert_escaped(at, "company records")
    (records,) = at.dataframe
    details = records.value["Details"].tolist()
    assert any(investor in d and PAYLOADS[3] in d for d in details), details
    assert PAYLOADS[6] in records.value["Note"].tolist()
    assert company.actor in records.value["By"].tolist()


def test_the_reports_page_shows_hostile_names_and_sites_as_typed(
    hostile_db: tuple[Database, list[Company]],
) -> None:
    """The checks link each company by its (hostile) name; the Torch table shows the
    (hostile) sites as plain cells."""
    db, made = hostile_db
    at = open_page(sign_in("admin", PASSWORDS["admin"]), "reports")
    at.selectbox(key="report_year").set_value(2024).run()
    assert_escaped(at, "reports 2024")
    checked = {c.key for c in services.torch_report(db, 2024).checks}
    assert checked, "some hostile company is checked in 2024"
    for company in made:
        if company.key in checked:
            shows(at, "reports check", company.name)
    (table,) = at.dataframe
    assert {c.site for c in made} <= set(table.value.iloc[:, 0])
