"""Accounts in the web app (DESIGN §11): the administrators' Users page, and every user's own
password, through Streamlit's AppTest signed in with real sessions."""

from __future__ import annotations

from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from incubator import services
from incubator.store import Database
from tests.e2e.test_ui import (  # noqa: F401  (app_db is a fixture)
    PASSWORDS,
    app_db,
    keys,
    new_session,
    open_app,
    open_page,
    sign_in,
    texts,
)


def users_page(user: str = "admin", **query: str) -> Any:
    return open_page(sign_in(user, **query), "users")


def pick(at: Any, name: str) -> Any:
    at.selectbox(key="users_pick").set_value(name).run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def toasts(at: Any) -> list[str]:
    return texts(at.toast)


def status(db: Database, name: str) -> str:
    return services.get_user(db, name).status


# --- the Users page ------------------------------------------------------------------------


def test_the_users_page_lists_status_and_last_sign_in(app_db: Database) -> None:  # noqa: F811
    services.disable_user(app_db, "li", actor=services.Actor("setup"))
    at = users_page()
    (table,) = at.dataframe
    frame = table.value
    assert list(frame.columns) == ["User name", "Role", "Site", "Company key (company users)",
                                   "Status", "Last sign-in (UTC)", "Created (UTC)"]  # fmt: skip
    rows = {r["User name"]: r for r in frame.to_dict("records")}
    assert rows["li"]["Status"] == "Disabled" and rows["li"]["Last sign-in (UTC)"] == "—"
    assert rows["admin"]["Status"] == "Active" and rows["admin"]["Last sign-in (UTC)"] != "—"
    assert rows["admin"]["Site"] == "All sites"


def test_an_admin_resets_a_password_and_the_users_sessions_end(app_db: Database) -> None:  # noqa: F811
    wang = new_session("wang")
    at = pick(users_page(), "wang")
    at.text_input(key="users_reset_pw").input("given-by-the-admin")
    at.button(key="users_reset_submit").click().run()
    assert "New password set for wang; 1 of their sessions ended." in toasts(at)
    assert services.session_actor(app_db, wang) is None
    assert services.sign_in(app_db, "wang", "given-by-the-admin").token
    assert at.text_input(key="users_reset_pw").value == ""  # not kept in the form


def test_a_reset_to_a_weak_password_is_refused_with_the_rule(app_db: Database) -> None:  # noqa: F811
    at = pick(users_page(), "wang")
    at.text_input(key="users_reset_pw").input(" " * 12)
    at.button(key="users_reset_submit").click().run()
    assert any("Not done: the password is only blanks" in e for e in texts(at.error))
    assert services.sign_in(app_db, "wang", PASSWORDS["wang"]).token


def test_an_admin_disables_and_enables_a_user(app_db: Database) -> None:  # noqa: F811
    viewer = new_session("viewer")
    at = pick(users_page(), "viewer")
    at.button(key="users_disable").click().run()
    assert "viewer is disabled; their sessions have ended." in toasts(at)
    assert status(app_db, "viewer") == "disabled"
    assert services.session_actor(app_db, viewer) is None
    assert "actor" not in open_app(viewer).session_state
    at.button(key="users_enable").click().run()
    assert "viewer is enabled again." in toasts(at)
    assert status(app_db, "viewer") == "active"


def test_an_admin_changes_a_role_and_a_site(app_db: Database) -> None:  # noqa: F811
    at = pick(users_page(), "wang")
    assert at.selectbox(key="users_set_role").value == "manager"
    assert at.selectbox(key="users_set_site").value == "钟祥"
    assert at.selectbox(key="users_set_site").options == ["All sites", "京山", "钟祥"]
    at.selectbox(key="users_set_site").set_value("京山")
    at.button(key="users_set_submit").click().run()
    assert "Saved the role and site of wang." in toasts(at)
    assert services.get_user(app_db, "wang").site == "京山"
    at.selectbox(key="users_set_role").set_value("viewer")
    at.selectbox(key="users_set_site").set_value("")
    at.button(key="users_set_submit").click().run()
    user = services.get_user(app_db, "wang")
    assert (user.role, user.site) == ("viewer", None)


def test_the_last_admin_cannot_disable_or_demote_themselves(app_db: Database) -> None:  # noqa: F811
    at = pick(users_page(), "admin")
    at.button(key="users_disable").click().run()
    assert any("admin is the last enabled admin" in e for e in texts(at.error))
    at.selectbox(key="users_set_role").set_value("viewer")
    at.button(key="users_set_submit").click().run()
    assert any("last enabled admin" in e for e in texts(at.error))
    assert at.selectbox(key="users_set_role").value == "admin"  # the stored role again
    assert services.get_user(app_db, "admin").role == "admin"
    assert at.session_state["actor"].is_admin


def test_an_admin_lifts_a_sign_in_lock(app_db: Database) -> None:  # noqa: F811
    for _ in range(5):
        with pytest.raises(services.AuthenticationFailed):
            services.sign_in(app_db, "li", "a wrong guess")
    at = pick(users_page(), "li")
    assert "Locked until" in at.selectbox(key="users_pick").format_func("li")
    at.button(key="users_unlock").click().run()
    assert "li can sign in again." in toasts(at)
    assert services.sign_in(app_db, "li", PASSWORDS["li"]).token


def test_managers_and_viewers_cannot_reach_the_users_page(app_db: Database) -> None:  # noqa: F811
    for user in ("wang", "viewer"):
        at = sign_in(user)
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            at.switch_page("app_pages/users.py")  # not in their navigation at all


def _users_view_as_a_manager() -> None:
    from incubator.access import Actor, Role
    from ui.app_context import PageContext, Scope, database_url
    from ui.views import users

    actor = Actor("wang", Role.MANAGER, "钟祥")
    users.render(PageContext(url=database_url(), actor=actor, lang="en", scope=Scope()))


def test_the_users_view_itself_shows_a_non_admin_nothing_to_act_on(
    app_db: Database,  # noqa: F811
) -> None:
    at = AppTest.from_function(_users_view_as_a_manager, default_timeout=30).run()
    assert texts(at.warning) == [
        "Only administrators manage users. To change your own password, open My account."
    ]
    assert not at.dataframe and not at.selectbox and not at.button and not at.text_input


def test_managers_are_called_incubation_managers_in_chinese(app_db: Database) -> None:  # noqa: F811
    at = users_page(lang="zh")
    frame = at.dataframe[0].value
    assert "孵化经理" in list(frame["角色"])
    assert "管理员" not in list(frame["角色"])
    assert "系统管理员" in list(frame["角色"])


# --- my account ----------------------------------------------------------------------------


def change_my_password(at: Any, current: str, new: str, repeat: str | None = None) -> Any:
    at.text_input(key="account_current_pw").input(current)
    at.text_input(key="account_new_pw").input(new)
    at.text_input(key="account_new_pw2").input(new if repeat is None else repeat)
    at.button(key="account_pw_submit").click().run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def test_every_user_changes_their_own_password_and_their_other_sessions_end(
    app_db: Database,  # noqa: F811
) -> None:
    elsewhere = new_session("viewer")
    here = new_session("viewer")
    at = open_page(open_app(here), "account")
    assert "viewer" in [str(m.value) for m in at.metric]
    change_my_password(at, PASSWORDS["viewer"], "my-new-secret-1")
    assert "Password changed; 1 other session(s) ended." in toasts(at)
    assert services.session_actor(app_db, elsewhere) is None
    assert services.session_actor(app_db, here) is not None
    assert at.session_state["actor"].name == "viewer"  # still signed in here
    assert services.sign_in(app_db, "viewer", "my-new-secret-1").token
    assert all(at.text_input(key=k).value == "" for k in ("account_current_pw", "account_new_pw"))


@pytest.mark.parametrize(
    ("current", "new", "repeat", "message"),
    [
        ("not-my-password", "my-new-secret-1", None, "the current password is wrong"),
        (PASSWORDS["wang"], "my-new-secret-1", "my-new-secret-2", "The two new passwords differ"),
        (PASSWORDS["wang"], "wang", None, "too short"),
        (PASSWORDS["wang"], " " * 10, None, "only blanks"),
    ],
)
def test_a_refused_password_change_says_why_and_changes_nothing(
    app_db: Database,  # noqa: F811
    current: str,
    new: str,
    repeat: str | None,
    message: str,
) -> None:
    at = change_my_password(open_page(sign_in("wang"), "account"), current, new, repeat)
    assert any(message in e for e in texts(at.error)), texts(at.error)
    assert services.sign_in(app_db, "wang", PASSWORDS["wang"]).token


def test_the_account_page_is_in_everyones_navigation(app_db: Database) -> None:  # noqa: F811
    for user in ("viewer", "wang", "admin"):
        at = open_page(sign_in(user), "account")
        assert texts(at.title) == [":material/account_circle: My account"]
        assert "account_pw_submit" in keys(at.main.button)


# --- forms empty themselves in the browser too ---------------------------------------------


def test_no_password_stays_in_a_form_in_the_browser(app_db: Database) -> None:  # noqa: F811
    """A browser keeps showing (and sends back) what was typed into a field whose value the
    server merely forgot; the forms set their fields to empty instead. AppTest alone reads
    every value from the server, so the browser's part is played by `run_as_a_browser`."""
    from tests.e2e.test_ui import run_as_a_browser

    at = pick(users_page(), "viewer")
    at.text_input(key="users_reset_pw").input("a-new-password-9")
    run_as_a_browser(at, click="users_reset_submit")
    assert at.text_input(key="users_reset_pw").value == ""
    at.text_input(key="user_name").input("zhou")
    at.text_input(key="user_password").input("zhou-password-1")
    run_as_a_browser(at, click="user_submit")
    assert services.get_user(app_db, "zhou").status == "active"
    assert (at.text_input(key="user_name").value, at.text_input(key="user_password").value) == (
        "",
        "",
    )
    mine = open_page(open_app(new_session("viewer", "a-new-password-9")), "account")
    mine.text_input(key="account_current_pw").input("a-new-password-9")
    mine.text_input(key="account_new_pw").input("my-new-secret-1")
    mine.text_input(key="account_new_pw2").input("my-new-secret-1")
    run_as_a_browser(mine, click="account_pw_submit")
    assert "Password changed; 0 other session(s) ended." in toasts(mine)
    assert all(
        mine.text_input(key=k).value == ""
        for k in ("account_current_pw", "account_new_pw", "account_new_pw2")
    )
