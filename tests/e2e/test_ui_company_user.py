"""A company user in the web app (issue 9 item 5), through Streamlit's AppTest signed in with
a real session: only My company and My account; their company's profile, facts and
timeline; the form for last year's annual figures, recorded with them as the actor; no other
page reachable. And the administrators' Users page for company users."""

from __future__ import annotations

from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from incubator import services
from incubator.store import Database
from tests.e2e.test_ui import (  # noqa: F401  (app_db is a fixture)
    OWNER,
    PAGES,
    app_db,
    keys,
    open_page,
    sign_in,
    texts,
    widget,
)
from ui import frames

PASSWORD = "jade-hill-password"


@pytest.fixture
def company_db(app_db: Database) -> Database:  # noqa: F811
    """test_ui.py's pipeline and `jade`, the company user of JM-0002 (Jade Hill Foods, in
    the accelerator at 钟祥)."""
    services.add_user(
        app_db, "jade", role="company", company="jm-0002", password=PASSWORD, actor=OWNER
    )
    return app_db


def as_jade(**query: str) -> AppTest:
    return sign_in("jade", PASSWORD, **query)


def submit(at: AppTest, **values: str) -> AppTest:
    for field, value in values.items():
        widget(at, f"facts_figures_{field}").set_value(value)
    at.button(key="facts_figures_submit").click().run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def last_year() -> int:
    return frames.utc_today().year - 1


def test_a_company_user_sees_only_their_company_and_their_account(company_db: Database) -> None:
    at = as_jade()
    assert "My company" in texts(at.title)[0]
    assert "Jade Hill Foods Ltd." in texts(at.header)
    body = " ".join(texts(at.markdown))
    assert "JM-0002" in body and "钟祥" in body
    assert not [c for c in texts(at.caption) if c.startswith("Allowed next")]  # no moves
    # the sidebar: no filters, no other page
    assert not keys(at.sidebar.selectbox) & {"site", "sector", "cohort"}
    assert "company" not in keys(at.selectbox)  # no company picker
    assert any(f"Annual figures for {last_year()}" in s for s in texts(at.subheader))
    assert "Event history" in texts(at.subheader)
    (history,) = [d.value for d in at.dataframe if "Event" in d.value.columns]
    assert len(history) == 2  # admitted, then advanced to the accelerator
    # every other page is not registered at all for them
    for page in PAGES:
        if page == "account":
            continue
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            as_jade().switch_page(f"app_pages/{page}.py")
    open_page(as_jade(), "account")


def test_an_address_of_another_page_or_company_opens_only_their_company(
    company_db: Database,
) -> None:
    at = as_jade(company="JM-0001")
    assert "My company" in texts(at.title)[0]
    assert "Jade Hill Foods Ltd." in texts(at.header)
    assert "钟祥绿野生物医药有限公司" not in " ".join(texts(at.header) + texts(at.markdown))


def test_the_figures_form_records_last_year_with_the_company_user_as_actor(
    company_db: Database,
) -> None:
    at = as_jade()
    assert "facts_figures_year" not in {getattr(w, "key", "") for w in at.main}  # fixed year
    submit(at, revenue="3,000,000", employees="10", employees_phd="2")
    assert not at.error
    assert "Annual figures recorded for JM-0002 (record #2)." in texts(at.toast)
    (record,) = [r for r in services.records(company_db, "JM-0002") if r.kind == "figures"]
    assert record.actor == "jade"
    figures = services.facts(company_db, "JM-0002").facts.figures_of(last_year())
    assert figures is not None
    assert dict(figures.values) == {"revenue": 3_000_000, "employees": 10, "employees_phd": 2}
    assert widget(at, "facts_figures_revenue").value == ""  # the form starts afresh


def test_phds_above_employees_are_refused_and_nothing_is_written(company_db: Database) -> None:
    at = submit(as_jade(), employees="3", employees_phd="5")
    (error,) = texts(at.error)
    assert "Not recorded" in error and "cannot exceed employees (3)" in error
    assert services.facts(company_db, "JM-0002").facts.figures == ()
    assert widget(at, "facts_figures_employees").value == "3"  # kept to correct


def test_a_refusal_and_the_page_in_chinese(company_db: Database) -> None:
    at = as_jade(lang="zh")
    assert "我的企业" in texts(at.title)[0]
    assert any(f"{last_year()} 年度经营数据" in s for s in texts(at.subheader))
    submit(at, employees="3", employees_phd="5")
    (error,) = texts(at.error)
    assert "未能记录" in error and "博士（5）不能多于同一记录中的从业人员（3）" in error, error
    assert services.facts(company_db, "JM-0002").facts.figures == ()


def test_a_rebound_company_user_sees_the_new_company_on_the_next_click(
    company_db: Database,
) -> None:
    at = as_jade()
    services.set_user(company_db, "jade", company="JM-0001", actor=OWNER)
    at.run()
    assert "钟祥绿野生物医药有限公司" in texts(at.header)


# --- the Users page ------------------------------------------------------------------------


def users_page() -> Any:
    return open_page(sign_in("admin"), "users")


def test_an_admin_adds_a_company_user_with_the_company_key(company_db: Database) -> None:
    at = users_page()
    rows = {r["User name"]: r for r in at.dataframe[0].value.to_dict("records")}
    assert rows["jade"]["Role"] == "Company user"
    assert rows["jade"]["Company key (company users)"] == "JM-0002"
    at.text_input(key="user_name").input("jm1")
    at.selectbox(key="user_role").set_value("company")
    at.text_input(key="user_company").input("JM-9999")
    at.text_input(key="user_password").input("company-password-1")
    at.button(key="user_submit").click().run()
    assert any("no company with key 'JM-9999'" in e for e in texts(at.error))
    assert "jm1" not in {u.name for u in services.list_users(company_db)}
    at.text_input(key="user_name").input("jm1")
    at.selectbox(key="user_role").set_value("company")
    at.text_input(key="user_company").input("jm-0001")
    at.text_input(key="user_password").input("company-password-1")
    at.button(key="user_submit").click().run()
    user = services.get_user(company_db, "jm1")
    assert (user.role, user.company) == ("company", "JM-0001")


def test_an_admin_rebinds_a_company_user_and_another_role_unbinds(company_db: Database) -> None:
    at = users_page()
    at.selectbox(key="users_pick").set_value("jade").run()
    assert at.text_input(key="users_set_company").value == "JM-0002"
    at.text_input(key="users_set_company").input("JM-0001")
    at.button(key="users_set_submit").click().run()
    assert services.get_user(company_db, "jade").company == "JM-0001"
    at.selectbox(key="users_set_role").set_value("viewer")
    at.button(key="users_set_submit").click().run()
    user = services.get_user(company_db, "jade")
    assert (user.role, user.company) == ("viewer", None)
