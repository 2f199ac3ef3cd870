"""Finding a company in the web app by part of its key or name, in any case: the audit
page's company filter, the company page's search, and a key in the address."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from streamlit.testing.v1 import AppTest

from incubator import services
from incubator.store import Database
from tests.e2e.test_ui import OWNER, app_db, open_page, sign_in, texts  # noqa: F401

T0 = datetime(2024, 2, 1, tzinfo=UTC)


@pytest.fixture
def searchable(app_db: Database) -> Database:  # noqa: F811
    """The pipeline of test_ui.py and JM-0184, a company whose key a manager half remembers."""
    services.admit(
        app_db, "JM-0184", name="汉江新材料科技有限公司", stage="seed", actor=OWNER, at=T0,
        site="钟祥", sector="green chemicals",
    )  # fmt: skip
    return app_db


def audit_keys(at: AppTest) -> list[str]:
    (table,) = at.dataframe
    return sorted(set(table.value["Key"].tolist()))


@pytest.mark.parametrize("typed", ["0184", "jm-0184", "JM-0184", "新材料", " 汉江新材料 "])
def test_the_audit_log_finds_a_company_by_part_of_its_key_or_name(
    searchable: Database, typed: str
) -> None:
    at = open_page(sign_in("viewer"), "audit")
    at.text_input(key="audit_company").input(typed).run()
    assert audit_keys(at) == ["JM-0184"]


def test_the_audit_log_filter_is_plain_text_in_any_case(searchable: Database) -> None:
    at = open_page(sign_in("viewer"), "audit")
    at.text_input(key="audit_company").input("jm-000").run()
    assert audit_keys(at) == ["JM-0001", "JM-0002", "JM-0003", "JM-0004"]
    at.text_input(key="audit_company").input("jade").run()
    assert audit_keys(at) == ["JM-0002"]
    at.text_input(key="audit_company").input("_").run()  # not a wildcard
    assert "No events match these filters." in texts(at.info)


@pytest.mark.parametrize("typed", ["0184", "jm-0184", "新材料"])
def test_the_company_search_finds_and_opens_the_one_company_it_matches(
    searchable: Database, typed: str
) -> None:
    at = open_page(sign_in("viewer"), "company")
    at.text_input(key="company_find").input(typed).run()
    assert at.selectbox(key="company").options == ["JM-0184 · 汉江新材料科技有限公司"]
    assert texts(at.header) == ["汉江新材料科技有限公司"]  # one match: opened at once


def test_a_search_with_several_matches_lists_them_and_opens_none(searchable: Database) -> None:
    at = open_page(sign_in("viewer"), "company")
    at.text_input(key="company_find").input("有限公司").run()
    assert len(at.selectbox(key="company").options) == 4 and not at.header


def test_a_key_in_the_address_opens_its_company_in_any_case(searchable: Database) -> None:
    at = open_page(sign_in("viewer", company="jm-0184"), "company")
    assert texts(at.header) == ["汉江新材料科技有限公司"]
    assert at.selectbox(key="company").value == "JM-0184"
