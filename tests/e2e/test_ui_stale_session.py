"""A page drawn while the user was signed in must not write once the session has ended.

Streamlit runs a button's callback before the script that checks the session, with the
actor the page was drawn for; `ui.app_context.signed_in` asks the server again first. Each
test ends (or changes) the session behind the page's back — as signing out in another tab,
an expiry or an admin's action would — then clicks, and checks that nothing was written.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path
from typing import Any

from incubator import services
from incubator.store import Database
from tests.e2e.test_ui import (  # noqa: F401  (app_db is a fixture)
    OWNER,
    PASSWORDS,
    app_db,
    board_as,
    fill_admit_form,
    new_session,
    open_app,
    open_page,
    texts,
    widget,
)

ENDED = "Your session had ended, so nothing was saved. Sign in again and repeat the change."
VIEWS = Path(__file__).resolve().parents[2] / "ui" / "views"
#: Callbacks that write nothing (they read, or only change what this browser shows).
READ_ONLY_CALLBACKS = {"verify_chain", "reset_filters", "sign_out", "next_generation"}


def signed_out_page(at: Any) -> bool:
    """The sign-in page, saying that the change was not saved."""
    return "actor" not in at.session_state and ENDED in texts(at.markdown)


def fill_move(at: Any, keys: list[str], **fields: Any) -> Any:
    """Fill in the board's move form (while signed in); Apply is left to the test."""
    widget(at, "board_selection").set_value(keys)
    at.run()
    for key, value in fields.items():
        widget(at, key).set_value(value)
    at.run()
    assert not at.button(key="board_apply").disabled
    return at


def apply(at: Any) -> Any:
    at.button(key="board_apply").click().run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def test_a_move_from_a_page_drawn_before_sign_out_writes_nothing(app_db: Database) -> None:  # noqa: F811
    token = new_session("wang")
    at = open_page(open_app(token), "board")
    before = len(services.history(app_db, "JM-0001"))
    fill_move(at, ["JM-0001"], board_note="moved after sign-out")
    services.sign_out(app_db, token)  # e.g. in another tab
    apply(at)
    assert services.show(app_db, "JM-0001").stage == "seed"
    assert len(services.history(app_db, "JM-0001")) == before
    assert signed_out_page(at)


def test_a_move_acts_with_the_role_the_user_has_now(app_db: Database) -> None:  # noqa: F811
    at = fill_move(board_as("wang"), ["JM-0001"])
    services.set_user(app_db, "wang", role="viewer", site=None, actor=OWNER)  # demoted meanwhile
    apply(at)
    assert services.show(app_db, "JM-0001").stage == "seed"
    assert not any("Seed → Nursery" in s for s in texts(at.success))
    assert "board_apply" not in {b.key for b in at.button}  # a viewer's board has no moves


def test_an_admission_after_the_session_ended_writes_nothing(app_db: Database) -> None:  # noqa: F811
    token = new_session("wang")
    at = open_page(open_app(token), "board")
    services.sign_out(app_db, token)
    fill_admit_form(at, admit_key="JM-0100", admit_name="钟祥新材料科技有限公司")
    assert [c.key for c in services.list_companies(app_db)].count("JM-0100") == 0
    assert signed_out_page(at)


def test_disabling_a_user_after_the_admins_session_ended_writes_nothing(app_db: Database) -> None:  # noqa: F811
    token = new_session("admin")
    at = open_page(open_app(token), "users")
    at.selectbox(key="users_pick").set_value("viewer").run()
    services.sign_out(app_db, token)
    at.button(key="users_disable").click().run()
    assert services.get_user(app_db, "viewer").status == "active"
    assert signed_out_page(at)


def test_a_password_change_after_the_session_ended_changes_nothing(app_db: Database) -> None:  # noqa: F811
    token = new_session("viewer")
    at = open_page(open_app(token), "account")
    services.sign_out(app_db, token)
    at.text_input(key="account_current_pw").input(PASSWORDS["viewer"])
    at.text_input(key="account_new_pw").input("my-new-secret-1")
    at.text_input(key="account_new_pw2").input("my-new-secret-1")
    at.button(key="account_pw_submit").click().run()
    assert services.sign_in(app_db, "viewer", PASSWORDS["viewer"]).token  # the old one works
    assert signed_out_page(at)


def test_a_page_drawn_for_one_user_does_not_write_as_the_next(
    app_db: Database,  # noqa: F811
) -> None:
    """The browser's session now belongs to someone else (signed in again as another user in
    another tab): the page drawn for the first user must not write as either."""
    at = fill_move(open_page(open_app(new_session("wang")), "board"), ["JM-0001"])
    at.session_state["session_token"] = new_session("li")
    apply(at)
    assert services.show(app_db, "JM-0001").stage == "seed"
    assert services.history(app_db, "JM-0001")[-1].actor == "setup"


def _callbacks() -> set[tuple[str, str]]:
    """(module, function) of every `on_click=`/`on_change=` callback named in ui/views."""
    found = set()
    for path in VIEWS.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.keyword)
                and node.arg in ("on_click", "on_change")
                and isinstance(node.value, ast.Name)
            ):
                found.add((f"ui.views.{path.stem}", node.value.id))
    return found


def test_every_writing_callback_checks_the_session_again() -> None:
    callbacks = _callbacks()
    assert ("ui.views.board", "apply_moves") in callbacks  # the scan finds them
    unchecked = sorted(
        f"{module}.{name}"
        for module, name in callbacks
        if name not in READ_ONLY_CALLBACKS
        and not hasattr(getattr(importlib.import_module(module), name), "__wrapped__")
    )
    assert unchecked == [], f"wrap these in ui.app_context.signed_in: {unchecked}"
