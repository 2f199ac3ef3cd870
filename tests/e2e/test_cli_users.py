"""`incubator user …`: accounts from the command line (DESIGN §11), each refusal one line."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from incubator import services
from incubator.access import cli_owner
from incubator.store import Database
from tests.e2e.test_cli import cli  # noqa: F401  (fixture)

Cli = Callable[..., Any]


@pytest.fixture
def users(cli: Cli, tmp_path: Path) -> Iterator[Database]:  # noqa: F811
    """Two companies' sites, an admin and a manager of 钟祥; the database for checking."""
    for key, site in (("JM-0001", "钟祥"), ("JM-0002", "京山")):
        cli("company", "add", key, "--name", f"示范企业 {key}", "--stage", "seed",
            "--site", site, "--by", "setup")  # fmt: skip
    cli("user", "add", "root", "--role", "admin", "--password-stdin", input="root-password\n")
    cli("user", "add", "li.na", "--role", "manager", "--site", "钟祥", "--password-stdin",
        input="li.na-password\n")  # fmt: skip
    db = Database(f"sqlite:///{tmp_path / 'cli.db'}")
    yield db
    db.dispose()


def refused(result: Any, *fragments: str) -> None:
    """Exit 1 and one line on stderr naming what was wrong; nothing on stdout."""
    assert result.exit_code == 1, result.stdout
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    assert "Traceback" not in result.stderr


def test_passwd_gives_a_new_password_and_ends_the_users_sessions(
    cli: Cli,  # noqa: F811
    users: Database,
) -> None:
    session = services.sign_in(users, "li.na", "li.na-password").token
    out = cli("user", "passwd", "li.na", "--password-stdin", input="a-new-long-secret\n").stdout
    assert out == "changed the password of li.na; 1 session ended\n"
    assert services.session_actor(users, session) is None
    assert services.sign_in(users, "li.na", "a-new-long-secret").actor.name == "li.na"
    with pytest.raises(services.AuthenticationFailed):
        services.sign_in(users, "li.na", "li.na-password")


def test_passwd_prompts_twice_without_password_stdin(cli: Cli, users: Database) -> None:  # noqa: F811
    out = cli("user", "passwd", "li.na", input="typed-secret-1\ntyped-secret-1\n").stdout
    assert "changed the password of li.na; no session was open" in out
    assert services.sign_in(users, "li.na", "typed-secret-1").token


@pytest.mark.parametrize(
    ("password", "fragment"),
    [
        ("tiny-pw", "at least 10 are required"),
        (" " * 12, "the password is only blanks"),
        ("Li.Na.Li.Na", None),  # allowed: not the user name itself
    ],
)
def test_passwd_refuses_a_weak_password_and_changes_nothing(
    cli: Cli,  # noqa: F811
    users: Database,
    password: str,
    fragment: str | None,
) -> None:
    result = cli("user", "passwd", "li.na", "--password-stdin", input=f"{password}\n", ok=False)
    if fragment is None:
        assert result.exit_code == 0
        return
    refused(result, fragment)
    assert password.strip() == "" or password not in result.stderr
    assert services.sign_in(users, "li.na", "li.na-password").token


def test_a_password_that_is_the_user_name_is_refused(cli: Cli, users: Database) -> None:  # noqa: F811
    cli("user", "add", "wang.xiao.ming", "--role", "viewer", "--password-stdin",
        input="long-enough-pw\n")  # fmt: skip
    result = cli(
        "user", "passwd", "wang.xiao.ming", "--password-stdin", input="Wang.Xiao.Ming\n", ok=False
    )
    refused(result, "the password is the user name")
    result = cli("user", "add", "zhang.san.feng", "--role", "viewer", "--password-stdin",
                 input="zhang.san.feng\n", ok=False)  # fmt: skip
    refused(result, "the password is the user name")


def test_set_changes_role_and_site_and_refuses_an_unknown_site(
    cli: Cli,  # noqa: F811
    users: Database,
) -> None:
    assert cli("user", "set", "li.na", "--site", "京山").stdout == "li.na: manager, site 京山\n"
    assert cli("user", "set", "li.na", "--role", "viewer").stdout == "li.na: viewer, site 京山\n"
    assert cli("user", "set", "li.na", "--all-sites").stdout == "li.na: viewer, all sites\n"
    refused(cli("user", "set", "li.na", "--site", "钟翔", ok=False), "unknown site '钟翔'",
            "known sites: 京山, 沙洋, 钟祥, 高新区")  # fmt: skip
    refused(cli("user", "set", "li.na", ok=False), "nothing to change")
    refused(cli("user", "set", "li.na", "--site", "京山", "--all-sites", ok=False), "either")
    refused(cli("user", "set", "li.na", "--role", "boss", ok=False), "unknown role 'boss'")
    refused(cli("user", "set", "nobody", "--role", "viewer", ok=False), "no user named 'nobody'")
    assert services.get_user(users, "li.na").site is None


def test_the_last_enabled_admin_is_neither_disabled_nor_demoted(
    cli: Cli,  # noqa: F811
    users: Database,
) -> None:
    refused(cli("user", "disable", "root", ok=False), "root is the last enabled admin")
    refused(cli("user", "set", "root", "--role", "viewer", ok=False), "last enabled admin")
    cli("user", "set", "li.na", "--role", "admin")
    assert cli("user", "set", "root", "--role", "viewer").exit_code == 0
    refused(cli("user", "disable", "li.na", ok=False), "li.na is the last enabled admin")


def test_disable_ends_the_sessions_and_enable_lets_the_user_back_in(
    cli: Cli,  # noqa: F811
    users: Database,
) -> None:
    session = services.sign_in(users, "li.na", "li.na-password").token
    assert cli("user", "disable", "li.na").stdout == "disabled li.na; 1 session ended\n"
    assert services.session_actor(users, session) is None
    with pytest.raises(services.AccountDisabled):
        services.sign_in(users, "li.na", "li.na-password")
    refused(cli("user", "disable", "li.na", ok=False), "disabled already; allowed: enable")
    assert cli("user", "enable", "li.na").stdout == "enabled li.na\n"
    refused(cli("user", "enable", "li.na", ok=False), "enabled already; allowed: disable")
    refused(cli("user", "enable", "nobody", ok=False), "no user named 'nobody'")
    assert services.sign_in(users, "li.na", "li.na-password").token


def test_unlock_lifts_the_lock_after_five_failed_sign_ins(cli: Cli, users: Database) -> None:  # noqa: F811
    for _ in range(5):
        with pytest.raises(services.AuthenticationFailed):
            services.sign_in(users, "li.na", "a wrong guess")
    with pytest.raises(services.SignInLocked):
        services.sign_in(users, "li.na", "li.na-password")
    listed = {u["name"]: u for u in json.loads(cli("user", "list", "--json").stdout)}
    assert listed["li.na"]["status"] == "locked" and listed["li.na"]["locked_until"]
    assert "locked until" in cli("user", "list").stdout
    assert cli("user", "unlock", "li.na").stdout == "unlocked li.na\n"
    assert cli("user", "unlock", "li.na").stdout == "li.na was not locked\n"
    assert services.sign_in(users, "li.na", "li.na-password").token


def test_list_shows_status_and_last_sign_in(cli: Cli, users: Database) -> None:  # noqa: F811
    services.sign_in(users, "root", "root-password")
    services.disable_user(users, "li.na", actor=cli_owner("test"))
    listed = json.loads(cli("user", "list", "--json").stdout)
    assert [(u["name"], u["role"], u["site"], u["status"]) for u in listed] == [
        ("li.na", "manager", "钟祥", "disabled"),
        ("root", "admin", None, "active"),
    ]
    assert listed[0]["last_sign_in_at"] is None and listed[1]["last_sign_in_at"]
    assert set(listed[0]) >= {"created_at", "password_changed_at", "disabled_at", "sessions"}
    table = cli("user", "list").stdout
    assert "last sign-in" in table and "never" in table and "disabled" in table


def test_an_unknown_user_is_refused_before_the_password_is_asked(
    cli: Cli,  # noqa: F811
    users: Database,
) -> None:
    result = cli("user", "passwd", "nobody", ok=False)  # no input: a prompt would fail
    refused(result, "no user named 'nobody'")
    refused(cli("user", "disable", "nobody", ok=False), "no user named 'nobody'")


def test_a_company_user_is_added_and_set_with_company_in_any_case(
    cli: Cli,  # noqa: F811
    users: Database,
) -> None:
    out = cli("user", "add", "jm1", "--role", "company", "--company", "jm-0001",
              "--password-stdin", input="company-password\n").stdout  # fmt: skip
    assert out == "created company user jm1 of JM-0001\n"
    actor = services.sign_in(users, "jm1", "company-password").actor
    assert (actor.role.value, actor.company, actor.site) == ("company", "JM-0001", None)
    assert cli("user", "set", "jm1", "--company", "JM-0002").stdout == (
        "jm1: company user of JM-0002\n"
    )
    listed = {u["name"]: u for u in json.loads(cli("user", "list", "--json").stdout)}
    assert (listed["jm1"]["role"], listed["jm1"]["company"]) == ("company", "JM-0002")
    assert listed["li.na"]["company"] is None
    assert "company JM-0002" in cli("user", "list").stdout
    # another role unbinds the company
    assert cli("user", "set", "jm1", "--role", "viewer").stdout == "jm1: viewer, all sites\n"
    assert services.get_user(users, "jm1").company is None
    for command in ("add", "set"):
        help_text = cli("user", command, "--help").stdout
        assert "--company" in help_text and "--role company --company" in help_text


def test_company_is_refused_when_unknown_missing_or_given_to_another_role(
    cli: Cli,  # noqa: F811
    users: Database,
) -> None:
    def add(*args: str) -> Any:
        return cli("user", "add", "jm1", *args, "--password-stdin", ok=False,
                   input="company-password\n")  # fmt: skip

    refused(add("--role", "company", "--company", "JM-9999"), "no company with key 'JM-9999'")
    refused(add("--role", "company"), "a company user needs the key of their company")
    refused(add("--role", "viewer", "--company", "JM-0001"),
            "only a company user is bound to a company")  # fmt: skip
    refused(add("--role", "company", "--company", "JM-0001", "--site", "钟祥"),
            "a company user has no site")  # fmt: skip
    assert "jm1" not in {u.name for u in services.list_users(users)}
    refused(cli("user", "set", "li.na", "--company", "JM-0001", ok=False),
            "only a company user is bound to a company")  # fmt: skip
    refused(cli("user", "set", "li.na", "--role", "company", ok=False),
            "needs the key of their company")  # fmt: skip
    refused(cli("user", "set", "li.na", "--role", "company", "--company", "JM-0404", ok=False),
            "no company with key 'JM-0404'")  # fmt: skip
    assert services.get_user(users, "li.na").role == "manager"
