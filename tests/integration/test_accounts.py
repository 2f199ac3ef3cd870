"""Accounts and sessions (DESIGN §11) on SQLite and PostgreSQL: sessions and their expiry,
password changes, disabled users, sign-in throttling, password rules, the last admin.

Time is moved with the `now=` argument of the account functions, never by sleeping."""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert

from incubator import services, store
from incubator.access import Actor, Role, cli_owner
from incubator.stages import InvalidInput, PermissionDenied
from incubator.store import Database

OWNER = cli_owner("tester")
T = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
PASSWORD = "correct horse battery"
MINUTE = timedelta(minutes=1)


def add(db: Database, name: str, role: str = "viewer", site: str | None = None) -> None:
    services.add_user(db, name, role=role, site=site, password=f"{name}-{PASSWORD}", actor=OWNER)


def sign_in(db: Database, name: str, at: datetime = T) -> str:
    return services.sign_in(db, name, f"{name}-{PASSWORD}", now=at).token


def fail(db: Database, name: str, at: datetime) -> None:
    with pytest.raises(services.AuthenticationFailed, match="^wrong user name or password$"):
        services.sign_in(db, name, "not the password", now=at)


def alive(db: Database, token: str, at: datetime) -> bool:
    return services.session_actor(db, token, now=at) is not None


# --- sessions ------------------------------------------------------------------------------


def test_a_session_is_its_user_until_they_sign_out(db: Database) -> None:
    add(db, "li.na", "manager")
    signed = services.sign_in(db, "li.na", f"li.na-{PASSWORD}", now=T)
    assert signed.actor == Actor("li.na", Role.MANAGER, None)
    assert signed.expires_at == T + timedelta(days=7)
    assert services.session_actor(db, signed.token, now=T + MINUTE) == signed.actor
    assert services.sign_out(db, signed.token, now=T + 2 * MINUTE) is True
    assert not alive(db, signed.token, T + 3 * MINUTE)
    assert services.sign_out(db, signed.token, now=T + 4 * MINUTE) is False


def test_a_made_up_or_missing_token_is_no_session(db: Database) -> None:
    add(db, "li.na")
    sign_in(db, "li.na")
    for token in (None, "", "x" * 43, "y" * 5000):
        assert services.session_actor(db, token, now=T) is None


def test_a_session_ends_after_8_idle_hours_and_each_use_keeps_it_alive(db: Database) -> None:
    add(db, "li.na")
    kept, idle = sign_in(db, "li.na"), sign_in(db, "li.na")
    at = T
    for _ in range(4):  # used every 7 hours: still alive after 28 hours
        at += timedelta(hours=7)
        assert alive(db, kept, at)
    assert not alive(db, idle, T + timedelta(hours=8))


def test_a_session_ends_7_days_after_sign_in_however_much_it_is_used(db: Database) -> None:
    add(db, "li.na")
    token = sign_in(db, "li.na")
    at = T
    while at + timedelta(hours=6) < T + timedelta(days=7):
        at += timedelta(hours=6)
        assert alive(db, token, at)
    assert not alive(db, token, T + timedelta(days=7))
    view = services.check_session(db, sign_in(db, "li.na"), now=T + MINUTE)
    assert view.expires_at == T + timedelta(days=7)
    assert view.idle_until == T + MINUTE + timedelta(hours=8)


def test_only_a_hash_of_the_token_is_stored(db: Database) -> None:
    add(db, "li.na")
    token = sign_in(db, "li.na")
    with db.engine.connect() as conn:
        stored = conn.exec_driver_sql("SELECT token_hash FROM user_session").scalars().all()
    assert len(token) >= 40 and len(stored) == 1
    assert token not in stored[0] and len(stored[0]) == 64


# --- passwords -----------------------------------------------------------------------------


def test_changing_a_password_ends_the_users_other_sessions_only(db: Database) -> None:
    add(db, "li.na")
    add(db, "wang")
    here, elsewhere, other_user = sign_in(db, "li.na"), sign_in(db, "li.na"), sign_in(db, "wang")
    actor = services.session_actor(db, here, now=T)
    assert actor is not None
    ended = services.change_password(
        db, actor, f"li.na-{PASSWORD}", "a brand new secret", keep_token=here, now=T + MINUTE
    )
    assert ended == 1
    assert alive(db, here, T + 2 * MINUTE) and alive(db, other_user, T + 2 * MINUTE)
    assert not alive(db, elsewhere, T + 2 * MINUTE)
    with pytest.raises(services.AuthenticationFailed):
        services.sign_in(db, "li.na", f"li.na-{PASSWORD}", now=T + 3 * MINUTE)
    assert services.sign_in(db, "li.na", "a brand new secret", now=T + 4 * MINUTE).token


def test_changing_a_password_needs_the_current_one(db: Database) -> None:
    add(db, "li.na")
    actor = Actor("li.na", Role.VIEWER)
    token = sign_in(db, "li.na")
    with pytest.raises(InvalidInput, match="the current password is wrong"):
        services.change_password(db, actor, "a wrong guess!", "a brand new secret")
    with pytest.raises(InvalidInput, match="the new password is the current one"):
        services.change_password(db, actor, f"li.na-{PASSWORD}", f"li.na-{PASSWORD}")
    assert alive(db, token, T + MINUTE)
    assert sign_in(db, "li.na", at=T + 2 * MINUTE)  # the password did not change


def test_resetting_a_password_ends_every_session_of_the_user(db: Database) -> None:
    add(db, "li.na")
    add(db, "root", "admin")
    one, two, admin = sign_in(db, "li.na"), sign_in(db, "li.na"), sign_in(db, "root")
    ended = services.reset_password(db, "li.na", "given by the admin", actor=OWNER, now=T)
    assert ended == 2
    assert not alive(db, one, T + MINUTE) and not alive(db, two, T + MINUTE)
    assert alive(db, admin, T + MINUTE)
    assert services.sign_in(db, "li.na", "given by the admin", now=T + MINUTE).token
    user = services.get_user(db, "li.na", now=T + MINUTE)
    assert user.password_changed_at == T


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short pass", None),  # ten characters: allowed
        ("nine char", r"too short \(9 characters\); at least 10"),
        (" " * 10, "only blanks"),
        ("\t \u3000" * 4, "only blanks"),
        ("Li.Na.Wang", "is the user name"),
        (" li.na.wang ", "is the user name"),
        ("x" * 1025, "too long"),
        ("ab\x00cdefghijk", "NUL"),
    ],
)
def test_password_rules_hold_for_new_reset_and_changed_passwords(
    db: Database, password: str, message: str | None
) -> None:
    actor = Actor("li.na.wang", Role.VIEWER)
    if message is None:
        services.add_user(db, "li.na.wang", role="viewer", password=password, actor=OWNER)
        services.reset_password(db, "li.na.wang", password + "!", actor=OWNER)
        services.change_password(db, actor, password + "!", password + "?")
        return
    with pytest.raises(InvalidInput, match=message) as refused:
        services.add_user(db, "li.na.wang", role="viewer", password=password, actor=OWNER)
    assert password.strip() not in str(refused.value) or not password.strip()
    assert services.list_users(db) == []
    services.add_user(db, "li.na.wang", role="viewer", password=PASSWORD, actor=OWNER)
    with pytest.raises(InvalidInput, match=message):
        services.reset_password(db, "li.na.wang", password, actor=OWNER)
    with pytest.raises(InvalidInput, match=message):
        services.change_password(db, actor, PASSWORD, password)
    assert services.sign_in(db, "li.na.wang", PASSWORD).token


# --- disabled users ------------------------------------------------------------------------


def test_a_disabled_user_cannot_sign_in_and_their_sessions_end(db: Database) -> None:
    add(db, "li.na")
    token = sign_in(db, "li.na")
    assert services.disable_user(db, "li.na", actor=OWNER, now=T + MINUTE) == 1
    assert not alive(db, token, T + 2 * MINUTE)
    with pytest.raises(services.AccountDisabled, match="'li.na' is disabled"):
        services.sign_in(db, "li.na", f"li.na-{PASSWORD}", now=T + 2 * MINUTE)
    fail(db, "li.na", T + 3 * MINUTE)  # a wrong password still says only that
    assert services.get_user(db, "li.na").status == "disabled"
    with pytest.raises(InvalidInput, match="disabled already; allowed: enable"):
        services.disable_user(db, "li.na", actor=OWNER)
    services.enable_user(db, "li.na", actor=OWNER)
    assert not alive(db, token, T + 4 * MINUTE)  # enabling does not revive old sessions
    assert alive(db, sign_in(db, "li.na", at=T + 4 * MINUTE), T + 5 * MINUTE)
    with pytest.raises(InvalidInput, match="enabled already; allowed: disable"):
        services.enable_user(db, "li.na", actor=OWNER)


def test_role_and_site_changes_apply_to_open_sessions_at_once(
    db: Database, make_company: Callable[..., object]
) -> None:
    make_company(site="钟祥")
    make_company(site="京山")
    add(db, "li.na", "manager", "钟祥")
    token = sign_in(db, "li.na")
    services.set_user(db, "li.na", site="京山", actor=OWNER)
    assert services.session_actor(db, token, now=T) == Actor("li.na", Role.MANAGER, "京山")
    services.set_user(db, "li.na", role="viewer", site="", actor=OWNER)
    assert services.session_actor(db, token, now=T) == Actor("li.na", Role.VIEWER, None)


def test_a_users_site_must_be_a_known_site(
    db: Database, make_company: Callable[..., object]
) -> None:
    make_company(site="钟祥")
    add(db, "li.na", "manager", "钟祥")
    with pytest.raises(
        InvalidInput,
        match="unknown site '钟翔'; known sites: 京山, 沙洋, 钟祥, 高新区; an admin adds",
    ):
        services.set_user(db, "li.na", site="钟翔", actor=OWNER)
    with pytest.raises(InvalidInput, match="nothing to change"):
        services.set_user(db, "li.na", actor=OWNER)
    with pytest.raises(InvalidInput, match="unknown role 'boss'"):
        services.set_user(db, "li.na", role="boss", actor=OWNER)
    with pytest.raises(services.UnknownUser, match="no user named 'nobody'"):
        services.set_user(db, "nobody", role="viewer", actor=OWNER)
    assert services.get_user(db, "li.na").site == "钟祥"


def test_only_admins_manage_accounts(db: Database) -> None:
    add(db, "li.na", "manager")
    manager = Actor("li.na", Role.MANAGER)
    for attempt in (
        lambda: services.set_user(db, "li.na", role="admin", actor=manager),
        lambda: services.disable_user(db, "li.na", actor=manager),
        lambda: services.enable_user(db, "li.na", actor=manager),
        lambda: services.reset_password(db, "li.na", "a-new-password", actor=manager),
        lambda: services.unlock_user(db, "li.na", actor=manager),
    ):
        with pytest.raises(PermissionDenied, match="only admins"):
            attempt()
    assert services.get_user(db, "li.na").role == "manager"


# --- the last admin ------------------------------------------------------------------------


def test_the_last_enabled_admin_can_be_neither_disabled_nor_demoted(db: Database) -> None:
    add(db, "root", "admin")
    with pytest.raises(InvalidInput, match="root is the last enabled admin"):
        services.disable_user(db, "root", actor=OWNER)
    with pytest.raises(InvalidInput, match="cannot make root a manager: root is the last"):
        services.set_user(db, "root", role="manager", actor=OWNER)
    add(db, "second", "admin")
    services.disable_user(db, "second", actor=OWNER)  # a disabled admin does not count
    with pytest.raises(InvalidInput, match="last enabled admin"):
        services.disable_user(db, "root", actor=OWNER)
    services.enable_user(db, "second", actor=OWNER)
    services.set_user(db, "root", role="viewer", actor=OWNER)
    with pytest.raises(InvalidInput, match="second is the last enabled admin"):
        services.disable_user(db, "second", actor=OWNER)
    assert [(u.name, u.role, u.status) for u in services.list_users(db)] == [
        ("root", "viewer", "active"),
        ("second", "admin", "active"),
    ]


def test_two_admins_disabling_each_other_at_once_leave_one_enabled(db: Database) -> None:
    add(db, "ann", "admin")
    add(db, "bob", "admin")
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def disable(name: str, by: str) -> None:
        barrier.wait()
        try:
            services.disable_user(db, name, actor=Actor(by, Role.ADMIN))
            outcomes.append("disabled")
        except InvalidInput:
            outcomes.append("refused")

    threads = [
        threading.Thread(target=disable, args=pair) for pair in [("ann", "bob"), ("bob", "ann")]
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["disabled", "refused"]
    assert [u.status for u in services.list_users(db)].count("active") == 1


# --- throttling ----------------------------------------------------------------------------


def test_five_failures_within_15_minutes_lock_the_name_for_15_minutes(db: Database) -> None:
    add(db, "li.na")
    for minute in range(5):  # 5 failures in 4 minutes
        fail(db, "li.na", T + minute * MINUTE)
    last = T + 4 * MINUTE
    with pytest.raises(services.SignInLocked) as locked:  # even with the right password
        services.sign_in(db, "li.na", f"li.na-{PASSWORD}", now=last + MINUTE)
    assert locked.value.until == last + timedelta(minutes=15)
    assert "locked until 2026-03-02T09:19:00+00:00" in str(locked.value)
    assert services.get_user(db, "li.na", now=last + MINUTE).status == "locked"
    with pytest.raises(services.SignInLocked):
        services.sign_in(db, "li.na", f"li.na-{PASSWORD}", now=last + timedelta(minutes=14))
    assert sign_in(db, "li.na", at=last + timedelta(minutes=15))
    assert services.get_user(db, "li.na", now=last + timedelta(minutes=15)).status == "active"


def test_failures_spread_over_more_than_15_minutes_do_not_lock(db: Database) -> None:
    add(db, "li.na")
    for minute in (0, 4, 8, 12, 16, 20):  # never 5 within 15 minutes
        fail(db, "li.na", T + minute * MINUTE)
    assert sign_in(db, "li.na", at=T + 21 * MINUTE)


def test_a_successful_sign_in_forgets_the_failures_before_it(db: Database) -> None:
    add(db, "li.na")
    for minute in range(4):
        fail(db, "li.na", T + minute * MINUTE)
    assert sign_in(db, "li.na", at=T + 4 * MINUTE)
    for minute in range(4):  # 4 more: 8 failures in 10 minutes, but only 4 since success
        fail(db, "li.na", T + (5 + minute) * MINUTE)
    assert sign_in(db, "li.na", at=T + 10 * MINUTE)


def test_an_unknown_name_is_locked_like_a_known_one(db: Database) -> None:
    for minute in range(5):
        fail(db, "nobody", T + minute * MINUTE)
    with pytest.raises(services.SignInLocked, match="too many failed sign-ins for 'nobody'"):
        services.sign_in(db, "nobody", "whatever it is", now=T + 5 * MINUTE)


def test_unlock_lifts_a_lock_at_once(db: Database) -> None:
    add(db, "li.na")
    for minute in range(5):
        fail(db, "li.na", T + minute * MINUTE)
    assert services.unlock_user(db, "li.na", actor=OWNER, now=T + 5 * MINUTE) is True
    assert sign_in(db, "li.na", at=T + 5 * MINUTE)
    assert services.unlock_user(db, "li.na", actor=OWNER, now=T + 6 * MINUTE) is False


def test_parallel_wrong_passwords_cannot_get_past_the_limit(db: Database) -> None:
    add(db, "li.na")
    barrier = threading.Barrier(8)
    outcomes: list[str] = []

    def attempt() -> None:
        barrier.wait()
        try:
            services.sign_in(db, "li.na", "not the password", now=T)
        except services.SignInLocked:
            outcomes.append("locked")
        except services.AuthenticationFailed:
            outcomes.append("checked")

    threads = [threading.Thread(target=attempt) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["checked"] * 5 + ["locked"] * 3


@pytest.mark.real_password_hashing
def test_a_failed_sign_in_takes_as_long_for_an_unknown_name_as_for_a_known_one(
    db: Database,
) -> None:
    """Equal cost, not speed: the medians of 5 failed attempts differ by less than 2x. The
    attempts alternate, so that the machine's load weighs on both names alike."""
    add(db, "li.na")
    spent: dict[str, list[float]] = {"li.na": [], "nobody": []}
    for _ in range(5):
        for name, times in spent.items():
            started = time.perf_counter()
            with pytest.raises(services.AuthenticationFailed, match="^wrong user name"):
                services.sign_in(db, name, "not the password")
            times.append(time.perf_counter() - started)
    known, unknown = (statistics.median(times) for times in spent.values())
    assert max(known, unknown) < 2 * min(known, unknown), spent


def test_user_list_shows_status_last_sign_in_and_open_sessions(db: Database) -> None:
    add(db, "ann", "admin")
    add(db, "bob")
    add(db, "cy")
    sign_in(db, "ann")
    services.disable_user(db, "bob", actor=OWNER)
    for minute in range(5):
        fail(db, "cy", T + minute * MINUTE)
    listed = {u.name: u for u in services.list_users(db, now=T + 5 * MINUTE)}
    assert {n: u.status for n, u in listed.items()} == {
        "ann": "active",
        "bob": "disabled",
        "cy": "locked",
    }
    assert listed["ann"].last_sign_in_at == T and listed["ann"].sessions == 1
    assert listed["bob"].last_sign_in_at is None
    doc = listed["cy"].to_json()
    assert doc["locked_until"] == "2026-03-02T09:19:00+00:00" and "password_hash" not in doc


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_accounts_made_before_the_accounts_schema_sign_in_after_the_upgrade(
    make_database: Callable[..., Database], backend: str
) -> None:
    from argon2 import PasswordHasher

    db = make_database(backend, "0002")  # the schema before accounts and sessions
    with db.engine.begin() as conn:
        conn.execute(  # only the columns schema 0002 has
            insert(store.USER).values(
                name="root",
                role="admin",
                password_hash=PasswordHasher().hash(PASSWORD),
                created_at=datetime(2025, 1, 1, tzinfo=UTC),
            )
        )
    assert db.upgrade() == ("0002", store.SCHEMA_HEAD)
    assert services.sign_in(db, "root", PASSWORD, now=T).actor == Actor("root", Role.ADMIN)
    (root,) = services.list_users(db, now=T)
    assert (root.status, root.last_sign_in_at, root.password_changed_at) == ("active", T, None)
