"""The web app refuses what the command line refuses (DESIGN §10, §11): it calls the same
services, so bad dates, lookalike keys and unknown sites come back as messages, never as
"This app has encountered an error", and nothing is written."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from incubator import services
from incubator.store import Database
from tests.e2e.test_ui import (
    app_db,
    board_as,
    fill_admit_form,
    open_page,
    shown,
    sign_in,
    texts,
)

__all__ = ["app_db"]  # the fixture, shared with test_ui


def keys_of(db: Database) -> set[str]:
    return {c.key for c in services.list_companies(db)}


def test_an_import_with_out_of_range_dates_and_lookalike_keys_lists_each_line(
    app_db: Database,
) -> None:
    at = open_page(sign_in("admin"), "audit")
    bad = (
        "company_key,company_name,event,to_stage,effective_at\n"
        "JM-0500,Good Co,admit,seed,2024-01-01\n"
        "JM-0501,Year one,admit,seed,0001-01-01T00:00:00+05:00\n"
        "JM-0502,Far future,admit,seed,9999-12-31T23:59:59-05:00\n"
        "JM-0503,Too early,admit,seed,1979-06-01\n"
        "JM-0500\u200b,Lookalike,admit,seed,2024-01-01\n"
    )
    before = keys_of(app_db)
    at.file_uploader(key="audit_import_file").upload("bad.csv", bad.encode(), "text/csv")
    at.button(key="audit_import_button").click().run()
    assert not at.exception, [e.message for e in at.exception]
    assert any("nothing was imported: 4 bad rows" in e for e in texts(at.error))
    (problems,) = (table.value for table in at.table)  # the report, a plain table
    assert problems["Line"].tolist() == [3, 4, 5, 6]
    assert keys_of(app_db) == before


def test_an_import_with_an_unknown_column_names_it(app_db: Database) -> None:
    at = open_page(sign_in("admin"), "audit")
    bad = "company_key,company_name,event,to_stage,effective_at,sitee\nJM-0500,A,admit,seed,2024-01-01,钟祥\n"
    at.file_uploader(key="audit_import_file").upload("bad.csv", bad.encode(), "text/csv")
    at.button(key="audit_import_button").click().run()
    assert not at.exception
    (problems,) = (table.value for table in at.table)  # Markdown cells, escaped
    assert any("unknown column 'sitee'" in shown(str(p)) for p in problems.to_numpy().ravel())


def test_the_admit_form_refuses_a_lookalike_key(app_db: Database) -> None:
    before = keys_of(app_db)
    at = fill_admit_form(board_as("admin"), admit_key="JM-0001\u200b", admit_name="Lookalike")
    assert any("U+200B ZERO WIDTH SPACE" in e for e in texts(at.error))
    assert keys_of(app_db) == before


def add_user(at: AppTest, **values: str) -> AppTest:
    for key, value in values.items():
        widget = next(w for w in at.main if getattr(w, "key", None) == key)
        widget.set_value(value)
    at.button(key="user_submit").click().run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def test_the_user_form_refuses_an_unknown_site_and_lists_the_known_ones(
    app_db: Database,
) -> None:
    at = open_page(sign_in("admin"), "users")
    add_user(
        at, user_name="zhao", user_role="manager", user_site="钟翔",
        user_password="a-long-password",
    )  # fmt: skip
    assert any(
        "unknown site '钟翔'; known sites: 京山, 沙洋, 钟祥, 高新区" in e for e in texts(at.error)
    )
    assert "zhao" not in {u.name for u in services.list_users(app_db)}
