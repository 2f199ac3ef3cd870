"""The web app through Streamlit's AppTest, on a temporary SQLite database.

Each test signs in as one of four accounts (an admin, a manager of 钟祥, a manager of 京山 and
a viewer) on a small pipeline, and drives the app through its widget keys.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.element_tree import Block

from incubator import services
from incubator.access import cli_owner
from incubator.stages import FOCUS_SECTORS
from incubator.store import Database
from tests.conftest import ungate
from ui.app_context import SESSION_TOKEN_KEY, get_database

APP = str(Path(__file__).resolve().parents[2] / "ui" / "streamlit_app.py")
PAGES = [
    "funnel", "dwell", "board", "reports", "company", "audit", "policy", "users", "sites", "account",
]  # fmt: skip
OWNER = cli_owner("setup")
PASSWORDS = {
    "admin": "admin-password-1",
    "wang": "wang-password-1",
    "li": "li-password-1",
    "viewer": "viewer-password-1",
}
T0 = datetime(2024, 1, 10, tzinfo=UTC)
T1 = datetime(2024, 6, 3, tzinfo=UTC)


@pytest.fixture
def app_db(
    make_database: Callable[[str], Database], monkeypatch: pytest.MonkeyPatch
) -> Iterator[Database]:
    """A small pipeline at two sites, four accounts, and the app pointed at it."""
    db = ungate(make_database("sqlite"))  # the UI before its gate dialogs: gates off
    monkeypatch.setenv("INCUBATOR_DATABASE_URL", db.url)
    for key, name, stage, site, sector in [
        ("JM-0001", "钟祥绿野生物医药有限公司", "seed", "钟祥", "biomedicine"),
        ("JM-0002", "Jade Hill Foods Ltd.", "incubator", "钟祥", "organic food"),
        ("JM-0003", "京山长风显示技术有限公司", "nursery", "京山", "flexible electronics"),
        ("JM-0004", "汉江恒通制药有限公司", "industrial_park", "钟祥", "biomedicine"),
    ]:
        services.admit(
            db, key, name=name, stage=stage, actor=OWNER, at=T0, site=site, sector=sector
        )
    services.advance(db, "JM-0002", actor=OWNER, seen="incubator", at=T1, note="first order")
    # Accounts after the companies: a manager's site must be a site some company uses.
    for name, role, site in [
        ("admin", "admin", None),
        ("wang", "manager", "钟祥"),
        ("li", "manager", "京山"),
        ("viewer", "viewer", None),
    ]:
        services.add_user(db, name, role=role, site=site, password=PASSWORDS[name], actor=OWNER)
    yield db
    st.cache_data.clear()
    get_database.clear()  # closes the app's connections (on_release)


def new_session(user: str, password: str | None = None) -> str:
    """A real session of `user`, made by the service as the sign-in form makes it."""
    db = Database(os.environ["INCUBATOR_DATABASE_URL"])
    try:
        return services.sign_in(db, user, PASSWORDS[user] if password is None else password).token
    finally:
        db.dispose()


def open_app(token: str | None = None, **query: str) -> AppTest:
    """The app as a browser with this session token opens it (AppTest cannot send the
    cookie, so the token goes where only server code can put it)."""
    at = AppTest.from_file(APP, default_timeout=30)
    at.query_params.update(query)
    if token is not None:
        at.session_state[SESSION_TOKEN_KEY] = token
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def sign_in(user: str, password: str | None = None, **query: str) -> AppTest:
    return open_app(new_session(user, password), **query)


def open_page(at: AppTest, page: str) -> AppTest:
    at.switch_page(f"app_pages/{page}.py").run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def widget(at: AppTest, key: str) -> Any:
    """The widget with this key in the page's main area (any widget type). The board's forms
    add their generation to their widgets' keys (`board_note_0`, `board_note_1` after a
    move: `ui.views.common.form_key`); `key` names the widget in any generation."""
    pattern = re.compile(rf"{re.escape(key)}(_\d+)?")
    return next(w for w in at.main if pattern.fullmatch(getattr(w, "key", None) or ""))


def shown(markdown: str) -> str:
    """The text a browser shows for Markdown the app escaped (`ui.markup.escape_markdown`):
    the plain `:color[…]` spans and the backslash escapes removed."""
    plain = re.sub(r":color\[(\\?.)\]", r"\1", markdown)
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", plain)


def texts(elements: Any) -> list[str]:
    """The elements' Markdown bodies as a browser shows them."""
    return [shown(str(e.value)) for e in elements]


def keys(elements: Any) -> set[str]:
    return {e.key for e in elements if e.key}


# --- signing in ----------------------------------------------------------------------------


def test_signing_in_with_the_right_password_opens_the_funnel(app_db: Database) -> None:
    at = sign_in("admin")
    assert "Funnel" in texts(at.title)[0]
    assert any("admin" in m for m in texts(at.sidebar.markdown))
    assert {"site", "sector", "cohort", "as_of", "sign_out"} <= keys(at.sidebar.selectbox) | keys(
        at.sidebar.date_input
    ) | keys(at.sidebar.button)


def test_without_a_session_the_app_links_to_the_sign_in_form_of_this_page(
    app_db: Database,
) -> None:
    at = open_app(site="钟祥")
    assert "actor" not in at.session_state
    assert texts(at.title) == [":material/spa: Incubation pipeline"]
    assert "Sign in to see this page." in texts(at.markdown)
    (link,) = [h.proto.body for h in at.get("html") if "signin" in h.proto.body]
    assert 'href="/signin?next=%2F%3Fsite%3D%25E9%2592%259F%25E7%25A5%25A5&amp;lang=en"' in link
    assert not at.sidebar.selectbox  # no filters, no pages


def test_a_made_up_token_is_not_a_session(app_db: Database) -> None:
    at = open_app("not-a-real-token")
    assert "actor" not in at.session_state
    assert any("You are signed out" in m for m in texts(at.markdown))


def test_signing_out_ends_the_session_on_the_server(app_db: Database) -> None:
    token = new_session("viewer")
    at = open_app(token)
    at.button(key="sign_out").click().run()
    assert "actor" not in at.session_state
    assert "You have signed out, in every tab of this browser." in texts(at.markdown)
    assert services.session_actor(app_db, token) is None
    assert "actor" not in open_app(token).session_state  # another tab with the same cookie


def test_a_tab_is_signed_out_on_its_next_run_when_the_session_ends_elsewhere(
    app_db: Database,
) -> None:
    token = new_session("wang")
    at = open_app(token)
    assert at.session_state["actor"].name == "wang"
    services.sign_out(app_db, token)  # e.g. signed out in another tab
    at.run()
    assert "actor" not in at.session_state
    assert any("You are signed out" in m for m in texts(at.markdown))


def test_a_role_change_applies_to_an_open_tab_on_its_next_run(app_db: Database) -> None:
    at = sign_in("wang")
    services.set_user(app_db, "wang", role="viewer", actor=OWNER)
    at.run()
    assert at.session_state["actor"].role == "viewer"


# --- every page ----------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_without_an_exception(app_db: Database, page: str, lang: str) -> None:
    at = sign_in("admin", lang=lang)
    open_page(at, page)
    assert at.title, page
    assert not at.error, texts(at.error)


def test_the_language_switch_translates_the_page(app_db: Database) -> None:
    at = sign_in("admin")
    at.radio(key="lang").set_value("zh").run()
    assert texts(at.title)[0].endswith("漏斗总览")
    assert "当前在孵企业" in texts(at.subheader)
    assert [m.label for m in at.metric][:5] == ["种子", "苗圃", "孵化器", "加速器", "产业园"]


def test_the_funnel_shows_current_counts_per_stage(app_db: Database) -> None:
    at = sign_in("viewer")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Seed"] == "1" and metrics["Accelerator"] == "1"
    assert metrics["In the pipeline"] == "4"


def _cards_at_province_scale() -> None:
    """The funnel's metric cards for a province's counts, in Chinese (an AppTest script)."""
    from ui.charts import funnel_frame
    from ui.views.funnel import current_panel

    counts = {"seed": 612_345, "nursery": 9_876, "incubator": 123_456, "accelerator": 0}
    stages = [{"stage": s, "entered": c, "current": c, "exited": 7} for s, c in counts.items()]
    current_panel(funnel_frame({"stages": stages}), "zh")


def test_a_provinces_counts_fit_the_metric_cards_and_stay_exact_on_hover() -> None:
    at = AppTest.from_function(_cards_at_province_scale).run()
    assert not at.exception
    cards = {m.label: (m.value, m.proto.help) for m in at.metric}
    assert cards["种子"] == ("61.2万", "612,345")
    assert cards["苗圃"] == ("9,876", "")  # exact already: no tooltip
    assert cards["孵化器"] == ("12.3万", "123,456")
    assert cards["在孵合计"] == ("74.6万", "745,677")
    assert cards["已退出"] == ("28", "")


# --- filters -------------------------------------------------------------------------------


def test_a_filter_change_narrows_the_funnel(app_db: Database) -> None:
    at = sign_in("viewer")
    at.selectbox(key="site").set_value("京山").run()
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["In the pipeline"] == "1" and metrics["Nursery"] == "1"
    assert "京山" in texts(at.caption)[0]


def test_filters_come_from_the_address_so_a_view_can_be_bookmarked(app_db: Database) -> None:
    at = sign_in("viewer", site="钟祥", cohort="2024", as_of="2024-03-01")
    assert at.selectbox(key="site").value == "钟祥"
    assert at.selectbox(key="cohort").value == 2024
    assert "As of 2024-03-01 · 钟祥 · cohort 2024" in texts(at.caption)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Incubator"] == "1" and metrics["Accelerator"] == "0"  # before the advance


def test_an_as_of_date_heads_the_current_counts_with_that_date(app_db: Database) -> None:
    at = sign_in("viewer", as_of="2024-03-01")
    assert "At 2024-03-01" in texts(at.subheader)
    assert "In the pipeline now" not in texts(at.subheader)
    at = sign_in("viewer")
    assert "In the pipeline now" in texts(at.subheader)
    at = sign_in("viewer", as_of="2024-03-01", lang="zh")
    assert "截至 2024-03-01 在孵企业" in texts(at.subheader)


FILTER_KEYS = ("site", "sector", "cohort", "as_of")


def sidebar_filters(at: AppTest) -> set[str]:
    return (keys(at.sidebar.selectbox) | keys(at.sidebar.date_input)) & set(FILTER_KEYS)


@pytest.mark.parametrize("page", ["reports", "company", "audit", "policy", "users", "sites"])
def test_pages_that_ignore_the_filters_do_not_show_them(app_db: Database, page: str) -> None:
    at = sign_in("admin", site="京山", cohort="2024")
    assert sidebar_filters(at) == set(FILTER_KEYS)
    open_page(at, page)
    assert not sidebar_filters(at), page
    assert "sign_out" in keys(at.sidebar.button)
    # Back on a page that reads them, the filters are as they were.
    open_page(at, "board")
    assert (at.selectbox(key="site").value, at.selectbox(key="cohort").value) == ("京山", 2024)
    assert cards(at) == ["JM-0003"]


def test_the_throughput_charts_start_by_quarter(app_db: Database) -> None:
    at = sign_in("viewer")
    assert at.session_state["throughput_by"] == "quarter"
    (control,) = [w for w in at.main if getattr(w, "key", None) == "throughput_by"]
    assert control.value == "quarter"


def test_clearing_the_filters_shows_everything_again(app_db: Database) -> None:
    at = sign_in("viewer", site="京山")
    at.button(key="reset_filters").click().run()
    assert at.selectbox(key="site").value is None
    assert {m.label: m.value for m in at.metric}["In the pipeline"] == "4"


# --- the board -----------------------------------------------------------------------------


def board_as(user: str, **query: str) -> AppTest:
    return open_page(sign_in(user, **query), "board")


def column_counts(at: AppTest) -> list[str]:
    """The head count under each board column's title, left to right."""
    return [c for c in texts(at.caption) if re.fullmatch(r"[\d,]+ (company|companies|家企业)", c)]


def cards(at: AppTest) -> list[str]:
    """The company keys shown as cards on the board, column by column."""
    return re.findall(r"(?:JM|ZZ)-\d{4}", "\n".join(texts(at.markdown)))


def add_companies(db: Database, n: int, *, stage: str = "seed", site: str = "沙洋") -> None:
    """`n` more companies ZZ-0000… in one stage, the lower the key the longer in the stage."""
    for i in range(n):
        services.admit(
            db, f"ZZ-{i:04d}", name=f"Zed {i}", stage=stage, actor=OWNER,
            at=T0 + timedelta(days=i), site=site, sector="new sector",
        )  # fmt: skip


def move(at: AppTest, keys: list[str], action: str = "advance", **fields: Any) -> AppTest:
    widget(at, "board_selection").set_value(keys)
    at.radio(key="board_action").set_value(action)
    at.run()
    for key, value in fields.items():
        widget(at, key).set_value(value)
    at.run()  # Apply is enabled once the move is complete (an exit needs its reason)
    at.button(key="board_apply").click().run()
    assert not at.exception, [e.message for e in at.exception]
    return at


#: Widgets whose value a browser keeps between runs.
VALUE_WIDGETS = ("text_area", "text_input", "date_input", "selectbox", "multiselect", "radio")


def run_as_a_browser(at: AppTest, click: str | None = None) -> AppTest:
    """Run the app the way a browser takes part in it: it keeps showing (and sends back
    with the next run) what the user entered in a widget for as long as the widget keeps
    its id, unless the server sets the widget's value (`set_value`). AppTest alone reads
    every value back from the server's session state, which hides a form that only seems
    to reset."""
    shown = {w.id: w.value for w in value_widgets(at)}
    if click is not None:
        at.button(key=click).click()
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    for w in value_widgets(at):
        if w.id in shown and not w.proto.set_value and w.value != shown[w.id]:
            w.set_value(shown[w.id])
    return at


def value_widgets(at: AppTest) -> list[Any]:
    return [w for w in at.main if getattr(w, "type", None) in VALUE_WIDGETS]


def panel_with(at: AppTest, key: str) -> Block:
    """The top-level block of the page (a bordered form, an expander) holding the widget
    with this key."""
    for child in at.main.children.values():
        if isinstance(child, Block) and any(getattr(n, "key", None) == key for n in child):
            return child
    raise KeyError(key)


def test_a_manager_advances_a_company_through_the_board(app_db: Database) -> None:
    at = board_as("wang")
    move(at, ["JM-0001"], board_note="signed the nursery agreement")
    assert any("JM-0001: Seed → Nursery" in s for s in texts(at.success))
    assert services.show(app_db, "JM-0001").stage == "nursery"
    last = services.history(app_db, "JM-0001")[-1]
    assert (last.kind, last.actor, last.note) == ("advance", "wang", "signed the nursery agreement")
    assert widget(at, "board_selection").value == []  # ready for the next move
    # The board was read again after the write: JM-0001 now sits in the nursery column.
    options = widget(at, "board_selection").options
    assert any("JM-0001 · Nursery" in o for o in options), options
    assert column_counts(at) == [  # wang's board starts at his site, 钟祥
        "0 companies",
        "1 company",
        "0 companies",
        "1 company",
        "1 company",
    ]


def test_two_moves_in_a_row_each_keep_only_their_own_note_and_date(app_db: Database) -> None:
    # Pick JM-0001, write a note and a date, Apply; pick JM-0002, leave the form alone, Apply.
    # The form used to reset on the server only: the browser still showed the note and the
    # date, and sent them with the second move.
    at = board_as("wang")
    widget(at, "board_selection").set_value(["JM-0001"])
    run_as_a_browser(at)
    widget(at, "board_note").set_value("NOTE-A for JM-0001 only")
    widget(at, "board_effective").set_value(date(2024, 7, 1))
    run_as_a_browser(at, click="board_apply")
    assert widget(at, "board_note").value == ""
    assert widget(at, "board_effective").value is None
    assert widget(at, "board_selection").value == []
    widget(at, "board_selection").set_value(["JM-0002"])
    run_as_a_browser(at)
    run_as_a_browser(at, click="board_apply")
    first = services.history(app_db, "JM-0001")[-1]
    assert (first.note, first.effective_at) == (
        "NOTE-A for JM-0001 only",
        datetime(2024, 7, 1, tzinfo=UTC),
    )
    second = services.history(app_db, "JM-0002")[-1]
    assert (second.kind, second.to_stage, second.note) == ("advance", "industrial_park", "")
    assert second.effective_at.date() == datetime.now(UTC).date()  # not the first move's date
    assert any("JM-0002: Accelerator → Industrial park" in s for s in texts(at.success))


def test_an_exit_resets_the_reason_too(app_db: Database) -> None:
    at = board_as("wang")
    widget(at, "board_selection").set_value(["JM-0001"])
    at.radio(key="board_action").set_value("exit")
    run_as_a_browser(at)
    widget(at, "board_reason").set_value("relocated")
    widget(at, "board_note").set_value("moved to Wuhan")
    run_as_a_browser(at)
    run_as_a_browser(at, click="board_apply")
    assert services.history(app_db, "JM-0001")[-1].reason == "relocated"
    assert at.radio(key="board_action").value == "exit"  # the action stays chosen …
    assert widget(at, "board_reason").value is None  # … the reason, note and companies do not
    assert widget(at, "board_note").value == ""
    assert widget(at, "board_selection").value == []


def test_a_partly_refused_move_keeps_only_the_refused_companies_selected(
    app_db: Database,
) -> None:
    at = board_as("admin")
    services.advance(app_db, "JM-0003", actor=cli_owner("someone.else"), seen="nursery")
    move(at, ["JM-0001", "JM-0003"], board_note="both, please")
    assert services.show(app_db, "JM-0001").stage == "nursery"
    assert widget(at, "board_selection").value == ["JM-0003"]  # to retry, with the note
    assert widget(at, "board_note").value == "both, please"
    assert any("JM-0003 was not moved" in w for w in texts(at.warning))


def test_several_companies_exit_at_once_with_a_reason(app_db: Database) -> None:
    at = board_as("wang")
    move(at, ["JM-0001", "JM-0004"], "exit", board_reason="relocated")
    assert services.show(app_db, "JM-0001").stage == "exited"
    assert services.history(app_db, "JM-0004")[-1].reason == "relocated"


def test_only_moves_the_ladder_allows_are_offered(app_db: Database) -> None:
    at = board_as("wang")
    widget(at, "board_selection").set_value(["JM-0004"]).run()  # industrial park
    assert at.radio(key="board_action").options == ["Exit the pipeline"]


def test_apply_stays_disabled_until_an_exit_has_a_reason(app_db: Database) -> None:
    at = board_as("wang")
    assert at.button(key="board_apply").disabled  # nothing chosen yet
    assert "Choose at least one company first." in texts(at.caption)
    widget(at, "board_selection").set_value(["JM-0001"])
    at.radio(key="board_action").set_value("exit")
    at.run()
    assert at.button(key="board_apply").disabled
    assert "Choose an exit reason to apply the exit." in texts(at.caption)
    widget(at, "board_reason").set_value("withdrew").run()
    assert not at.button(key="board_apply").disabled
    assert "Choose an exit reason to apply the exit." not in texts(at.caption)
    assert len(services.history(app_db, "JM-0001")) == 1  # nothing was written meanwhile


def test_move_results_and_refusals_are_shown_next_to_the_form(app_db: Database) -> None:
    at = board_as("admin")
    move(at, ["JM-0002"], board_effective=datetime(2024, 2, 1).date())  # before its advance
    form = panel_with(at, "board_apply")
    (error,) = texts(form.error)
    assert "cannot advance JM-0002 (in accelerator)" in error
    assert "before the previous event" in error
    assert texts(at.error) == [error]  # only there, not at the top of the page
    assert services.show(app_db, "JM-0002").stage == "accelerator"
    widget(at, "board_effective").set_value(None)
    at.button(key="board_apply").click().run()
    form = panel_with(at, "board_apply")
    assert texts(form.success) == ["1 moved: JM-0002: Accelerator → Industrial park"]
    assert not at.toast and not at.error


def test_a_manager_can_only_pick_companies_of_their_own_site(app_db: Database) -> None:
    at = board_as("li")  # manages 京山
    at.button(key="reset_filters").click().run()  # all sites: the board shows all four …
    assert any("JM-0001" in m for m in texts(at.markdown))  # … on the board, not selectable
    options = widget(at, "board_selection").options
    assert len(options) == 1
    assert options[0].startswith("京山长风显示技术有限公司 · JM-0003 · Nursery")


def test_a_site_manager_starts_at_their_own_site(app_db: Database) -> None:
    at = board_as("wang")  # manages 钟祥
    assert at.selectbox(key="site").value == "钟祥"
    assert sorted(cards(at)) == ["JM-0001", "JM-0002", "JM-0004"]
    open_page(at, "funnel")  # the filter is shared by the pages
    assert "As of now · 钟祥" in texts(at.caption)
    assert {m.label: m.value for m in at.metric}["In the pipeline"] == "3"
    # Cleared, it stays cleared: the default is given once per sign-in.
    at.button(key="reset_filters").click().run()
    open_page(at, "board")
    assert at.selectbox(key="site").value is None
    assert len(cards(at)) == 4


def test_a_site_in_the_address_wins_over_the_manager_s_own_site(app_db: Database) -> None:
    at = board_as("wang", site="京山")
    assert at.selectbox(key="site").value == "京山"
    assert cards(at) == ["JM-0003"]


def test_admins_viewers_and_managers_of_every_site_start_at_all_sites(app_db: Database) -> None:
    for user in ("admin", "viewer"):
        assert board_as(user).selectbox(key="site").value is None


def test_a_conflicting_move_is_refused_and_writes_nothing(app_db: Database) -> None:
    at = board_as("wang")  # wang sees JM-0001 in seed
    services.advance(app_db, "JM-0001", actor=cli_owner("someone.else"), seen="seed")
    move(at, ["JM-0001"])
    warnings = texts(at.warning)
    assert any("someone else moved it" in w and "conflict" in w for w in warnings), warnings
    events = services.history(app_db, "JM-0001")
    assert [e.actor for e in events] == ["setup", "someone.else"]  # wang's move was not written
    assert services.show(app_db, "JM-0001").stage == "nursery"


def test_a_viewer_sees_no_action_buttons(app_db: Database) -> None:
    at = board_as("viewer")
    assert not {"board_apply", "admit_submit"} & (keys(at.button) | keys(at.form_submit_button))
    assert not keys(at.multiselect)
    assert any("read-only" in i for i in texts(at.info))


def test_the_board_search_narrows_every_column(app_db: Database) -> None:
    at = board_as("admin")
    at.text_input(key="board_search").input("jade").run()
    options = widget(at, "board_selection").options
    assert len(options) == 1 and "JM-0002" in options[0]
    assert cards(at) == ["JM-0002"]
    assert column_counts(at) == ["0 companies"] * 3 + ["1 company", "0 companies"]
    at.text_input(key="board_search").input("  JM-000 ").run()  # by key, blanks ignored
    assert sorted(cards(at)) == ["JM-0001", "JM-0002", "JM-0003", "JM-0004"]
    at.text_input(key="board_search").input("%").run()  # plain text, not a wildcard
    assert cards(at) == [] and texts(at.caption).count("No companies") == 5


def test_each_column_counts_its_companies_in_english_and_chinese(app_db: Database) -> None:
    at = board_as("viewer")
    assert column_counts(at) == ["1 company"] * 2 + ["0 companies"] + ["1 company"] * 2
    at = board_as("viewer", lang="zh")
    assert column_counts(at) == ["1 家企业"] * 2 + ["0 家企业"] + ["1 家企业"] * 2


def test_the_board_follows_the_sidebar_filters(app_db: Database) -> None:
    at = board_as("admin", site="京山")
    assert cards(at) == ["JM-0003"]
    assert column_counts(at) == ["0 companies", "1 company"] + ["0 companies"] * 3
    at = board_as("admin", sector="biomedicine")
    assert sorted(cards(at)) == ["JM-0001", "JM-0004"]


def test_a_long_column_shows_the_longest_stays_and_how_many_more(app_db: Database) -> None:
    add_companies(app_db, 60)
    at = board_as("admin")
    seed = [k for k in cards(at) if k.startswith("ZZ") or k == "JM-0001"]
    # JM-0001 and ZZ-0000 entered the seed stage at T0 (key breaks the tie); 50 shown at most.
    assert seed[:3] == ["JM-0001", "ZZ-0000", "ZZ-0001"] and len(seed) == 50
    assert column_counts(at)[0] == "61 companies"
    assert "… and 11 more (search to narrow down)" in texts(at.caption)
    # The column shows its first eight and folds the other 42 it loaded under "+42 more".
    (folded,) = [e for e in at.expander if e.label.startswith("+")]
    assert folded.label == "+42 more"
    assert len(re.findall(r"ZZ-\d{4}", "\n".join(texts(folded.markdown)))) == 42
    at.text_input(key="board_search").input("zed 5").run()  # Zed 5 and Zed 50…59
    assert len(cards(at)) == 11 and column_counts(at)[0] == "11 companies"
    assert not any(c.startswith("… and") for c in texts(at.caption))


def test_the_admit_form_offers_every_known_site_and_sector(app_db: Database) -> None:
    at = board_as("admin", site="京山")  # the board is filtered; the form's pickers are not
    assert widget(at, "admit_site").options == ["京山", "钟祥"]
    sectors = widget(at, "admit_sector").options
    assert {"organic food", "flexible electronics", "biomedicine"} <= set(sectors)
    assert set(FOCUS_SECTORS) <= set(sectors) and sectors == sorted(sectors)
    add_companies(app_db, 1)  # at 沙洋, behind the app's back: the pickers are cached …
    at.run()
    assert widget(at, "admit_site").options == ["京山", "钟祥"]
    fill_admit_form(at, admit_key="JM-0100", admit_name="New Co", admit_site="钟祥")
    assert services.show(app_db, "JM-0100").site == "钟祥"
    assert widget(at, "admit_site").options == ["京山", "沙洋", "钟祥"]  # … until a write


# --- admitting -----------------------------------------------------------------------------


def fill_admit_form(at: AppTest, **values: Any) -> AppTest:
    for key, value in values.items():
        widget(at, key).set_value(value)
    at.button(key="admit_submit").click().run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def test_a_manager_admits_a_company_at_their_own_site(app_db: Database) -> None:
    at = board_as("wang")
    fill_admit_form(
        at,
        admit_key="JM-0100",
        admit_name="钟祥新材料科技有限公司",
        admit_stage="nursery",
        admit_uscc="91420881MA4R0QMA42",
    )
    company = services.show(app_db, "JM-0100")
    assert (company.stage, company.site, company.uscc) == ("nursery", "钟祥", "91420881MA4R0QMA42")
    form = panel_with(at, "admit_submit")  # the result is shown under the form
    assert texts(form.success) == ["JM-0100 admitted into Nursery."]


def test_an_admission_with_a_bad_uscc_is_refused_and_writes_nothing(app_db: Database) -> None:
    at = board_as("wang")
    fill_admit_form(at, admit_key="JM-0101", admit_name="X", admit_uscc="91420881MA4R0QMA43")
    assert any("GB 32100-2015" in e for e in texts(at.error))
    assert {c.key for c in services.list_companies(app_db)} == {
        "JM-0001",
        "JM-0002",
        "JM-0003",
        "JM-0004",
    }


def test_an_admission_resets_the_form_in_the_browser_too(app_db: Database) -> None:
    at = board_as("admin")
    for key, value in [("admit_key", "JM-0100"), ("admit_name", "First Co"),
                       ("admit_note", "first note"), ("admit_site", "钟祥")]:  # fmt: skip
        widget(at, key).set_value(value)
    run_as_a_browser(at, click="admit_submit")
    assert services.show(app_db, "JM-0100").name == "First Co"
    assert [widget(at, k).value for k in ("admit_key", "admit_name", "admit_note")] == [""] * 3
    # The next admission gets none of the first one's fields.
    widget(at, "admit_key").set_value("JM-0101")
    widget(at, "admit_name").set_value("Second Co")
    run_as_a_browser(at, click="admit_submit")
    second = services.show(app_db, "JM-0101")
    assert (second.name, second.site) == ("Second Co", "")
    assert services.history(app_db, "JM-0101")[0].note == ""


def test_a_refused_admission_keeps_the_form_filled_in_and_says_why_under_it(
    app_db: Database,
) -> None:
    at = board_as("admin")
    fill_admit_form(at, admit_key="JM-0001", admit_name="Again")
    form = panel_with(at, "admit_submit")
    (error,) = texts(form.error)
    assert error.startswith("Not admitted") and "already taken" in error
    assert widget(at, "admit_name").value == "Again"


def test_a_duplicate_key_is_refused(app_db: Database) -> None:
    at = board_as("admin")
    fill_admit_form(at, admit_key="JM-0001", admit_name="Again")
    assert any("already taken" in e for e in texts(at.error))


# --- time in stage -------------------------------------------------------------------------


def test_an_admin_changes_the_stage_limits(app_db: Database) -> None:
    at = open_page(sign_in("admin"), "dwell")
    at.number_input(key="limit_nursery").set_value(6.0)
    at.button(key="limits_save").click().run()
    assert not at.exception
    assert '"nursery": 6.0' in (services.get_setting(app_db, "stuck_limits") or "")
    assert any("Nursery 6 months" in c for c in texts(at.caption))


def test_only_admins_see_the_limits_editor(app_db: Database) -> None:
    at = open_page(sign_in("wang"), "dwell")
    assert "limits_save" not in keys(at.button)


# --- company page --------------------------------------------------------------------------


def test_the_company_page_shows_profile_and_history(app_db: Database) -> None:
    at = open_page(sign_in("viewer"), "company")
    at.text_input(key="company_find").input("jade").run()
    at.selectbox(key="company").set_value("JM-0002").run()
    assert not at.exception
    assert texts(at.header) == ["Jade Hill Foods Ltd."]
    assert {m.label: m.value for m in at.metric}["Stage"] == "Accelerator"
    (history,) = [d for d in at.dataframe if len(d.value) == 2]
    assert history.value["Event"].tolist() == ["Admit", "Advance"]


def test_the_address_names_the_chosen_company_by_its_key(app_db: Database) -> None:
    at = open_page(sign_in("viewer"), "company")
    at.selectbox(key="company").set_value("JM-0002").run()
    assert at.query_params["company"] == "JM-0002"  # not "JM-0002 · Jade Hill Foods Ltd."
    at.selectbox(key="company").set_value(None).run()
    assert "company" not in at.query_params


def test_a_link_to_another_company_opens_it(app_db: Database) -> None:
    at = open_page(sign_in("viewer"), "company")
    at.selectbox(key="company").set_value("JM-0002").run()
    open_page(at, "board")
    at.query_params["company"] = "JM-0003"  # e.g. the board's "Open JM-0003" link
    open_page(at, "company")
    assert texts(at.header) == ["京山长风显示技术有限公司"]
    assert at.query_params["company"] == "JM-0003"


def test_a_company_can_be_opened_from_its_address(app_db: Database) -> None:
    at = sign_in("viewer", company="JM-0003")
    open_page(at, "company")
    assert texts(at.header) == ["京山长风显示技术有限公司"]
    # A search that does not match it keeps the linked company selectable and shown.
    at.text_input(key="company_find").input("jade").run()
    assert at.selectbox(key="company").options == [
        "JM-0003 · 京山长风显示技术有限公司",
        "JM-0002 · Jade Hill Foods Ltd.",
    ]
    assert texts(at.header) == ["京山长风显示技术有限公司"]


def test_an_unknown_company_in_the_address_is_not_offered(app_db: Database) -> None:
    at = open_page(sign_in("viewer", company="JM-9999"), "company")
    assert "JM-9999" not in " ".join(at.selectbox(key="company").options)
    assert not at.exception and not at.header


def test_the_company_search_shows_the_first_matches_and_how_many_there_are(
    app_db: Database,
) -> None:
    add_companies(app_db, 60)
    at = open_page(sign_in("viewer"), "company")
    options = at.selectbox(key="company").options
    assert len(options) == 50 and options[0] == "JM-0001 · 钟祥绿野生物医药有限公司"  # by key
    assert "64 matches; showing the first 50." in texts(at.caption)
    at.text_input(key="company_find").input("zed 1").run()  # Zed 1 and Zed 10…19
    options = at.selectbox(key="company").options
    assert options == ["ZZ-0001 · Zed 1"] + [f"ZZ-{i:04d} · Zed {i}" for i in range(10, 20)]
    assert not any("matches" in c for c in texts(at.caption))
    at.text_input(key="company_find").input("nothing like it").run()
    assert "No company matches “nothing like it”." in texts(at.caption)
    assert at.selectbox(key="company").options == []


# --- audit log -----------------------------------------------------------------------------


def test_the_audit_log_filters_and_verifies_the_chain(app_db: Database) -> None:
    at = open_page(sign_in("viewer"), "audit")
    assert "Events shown: 5" in texts(at.caption)  # four admits and one advance
    at.selectbox(key="audit_kind").set_value("advance").run()
    assert "Events shown: 1" in texts(at.caption)
    (table,) = at.dataframe
    assert table.value["Key"].tolist() == ["JM-0002"]
    at.button(key="audit_verify").click().run()
    assert any("Chain intact: 5 event(s) in 4 companies" in s for s in texts(at.success))
    assert "audit_import_button" not in keys(at.button)  # import is for admins


def test_the_audit_log_from_today_hides_yesterday_and_shows_today(app_db: Database) -> None:
    today = datetime.now(UTC).date()
    yesterday = datetime.combine(today - timedelta(days=1), time(12, 0), tzinfo=UTC)
    services.admit(app_db, "JM-0009", name="Yesterday Co", stage="seed", actor=OWNER, at=yesterday)
    services.advance(app_db, "JM-0009", actor=OWNER, seen="seed")  # now, today
    at = open_page(sign_in("viewer"), "audit")
    at.date_input(key="audit_since").set_value(today).run()
    (table,) = at.dataframe
    assert table.value["Key"].tolist() == ["JM-0009"]
    assert table.value["Event"].tolist() == ["Advance"]  # yesterday's admit is hidden
    at.date_input(key="audit_since").set_value(today - timedelta(days=1)).run()
    (table,) = at.dataframe
    assert table.value["Event"].tolist() == ["Advance", "Admit"]


def test_a_rejected_import_lists_every_bad_line_and_writes_nothing(app_db: Database) -> None:
    at = open_page(sign_in("admin"), "audit")
    bad = (
        "company_key,company_name,event,from_stage,to_stage,effective_at\n"
        "JM-0500,Good Co,admit,,seed,2024-01-01\n"
        "JM-0501,Bad Co,admit,,moon,2024-01-01\n"
        "JM-0502,,admit,,seed,2024-01-01\n"
    )
    at.file_uploader(key="audit_import_file").upload("bad.csv", bad.encode(), "text/csv")
    at.button(key="audit_import_button").click().run()
    assert not at.exception
    assert any("nothing was imported: 2 bad rows" in e for e in texts(at.error))
    (problems,) = at.table  # a plain table, whose text wraps
    assert problems.value["Line"].tolist() == [3, 4]
    assert problems.value["Problem"].tolist()[0].startswith("unknown stage \\'moon\\'")
    assert len(services.list_companies(app_db)) == 4


def test_an_admin_imports_a_good_file(app_db: Database) -> None:
    at = open_page(sign_in("admin"), "audit")
    good = (
        "company_key,company_name,event,from_stage,to_stage,effective_at,site\n"
        "JM-0500,Good Co,admit,,seed,2024-01-01,沙洋\n"
    )
    at.file_uploader(key="audit_import_file").upload("good.csv", good.encode(), "text/csv")
    at.button(key="audit_import_button").click().run()
    assert any("Import done: 1 event(s); 1 new" in toast for toast in texts(at.toast))
    assert services.show(app_db, "JM-0500").site == "沙洋"


# --- no database ---------------------------------------------------------------------------


def test_a_database_without_schema_gets_a_message_not_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INCUBATOR_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    at = AppTest.from_file(APP, default_timeout=30).run()
    assert not at.exception
    assert any("The database is not available" in e for e in texts(at.error))
    assert any("incubator init" in i for i in texts(at.info))
    get_database.clear()


def test_an_empty_pipeline_shows_helpful_empty_states(
    make_database: Callable[[str], Database], monkeypatch: pytest.MonkeyPatch
) -> None:
    db = ungate(make_database("sqlite"))  # the UI before its gate dialogs: gates off
    monkeypatch.setenv("INCUBATOR_DATABASE_URL", db.url)
    services.add_user(db, "admin", role="admin", password=PASSWORDS["admin"], actor=OWNER)
    try:
        at = sign_in("admin")
        assert "No data for these filters yet." in texts(at.info)
        for page, message in [
            ("dwell", "No company is over its stage's limit. 🎉"),
            ("board", None),
            ("company", None),
            ("audit", "No events match these filters."),
        ]:
            open_page(at, page)
            assert not at.error, (page, texts(at.error))
            if message:
                assert message in texts(at.info) + texts(at.success), page
        open_page(at, "board")
        assert texts(at.caption).count("No companies") == 5
    finally:
        st.cache_data.clear()
        get_database.clear()


def test_the_move_form_says_when_the_move_takes_effect(app_db: Database) -> None:
    """A date typed outside the allowed range is dropped by the date field without a word;
    the form says which moment the move will carry, so "now" is never a surprise."""
    at = board_as("wang")
    widget(at, "board_selection").set_value(["JM-0001"])
    at.run()
    assert any(c.startswith("Takes effect now.") for c in texts(at.caption)), texts(at.caption)
    widget(at, "board_effective").set_value(date(2024, 6, 1))
    at.run()
    assert "Takes effect on 2024-06-01, 00:00 UTC (backdated)." in texts(at.caption)
    at.button(key="board_apply").click().run()
    assert services.history(app_db, "JM-0001")[-1].effective_at == datetime(2024, 6, 1, tzinfo=UTC)


def test_the_company_picker_offers_no_select_all(app_db: Database) -> None:
    at = board_as("wang")
    assert widget(at, "board_selection").proto.select_all == 0  # shown for 0 or fewer options
