"""The command line against inputs meant to break it (DESIGN §10, §11): out-of-range dates,
stray bytes, lookalike keys, terminal escapes, unknown sites, odd CSV headers, a read-only
database, a full disk. Each is one line on stderr, exit 1, and nothing written."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event
from typer.testing import CliRunner

from incubator import store
from incubator.cli import app

Run = Callable[..., Any]


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'cli.db'}"


@pytest.fixture
def cli(url: str) -> Run:
    runner = CliRunner()

    def run(*args: str, ok: bool = True, input: str | None = None, db: str = url) -> Any:
        result = runner.invoke(app, [*args, "--db", db], input=input, catch_exceptions=False)
        if ok:
            assert result.exit_code == 0, result.output + result.stderr
        return result

    run("init")
    run("company", "add", "JM-0042", "--name", "荆门智造", "--stage", "seed", "--site", "钟祥",
        "--sector", "biomedicine", "--by", "wang", "--at", "2024-01-01")  # fmt: skip
    return run


def everything(cli: Run) -> tuple[str, str]:
    """The event log and the accounts: what a refused action must leave as it was."""
    return cli("export", "-").stdout, cli("user", "list", "--json").stdout


def refused(cli: Run, *args: str, message: str, input: str | None = None) -> str:
    """Run a command that must be refused: exit 1, one line `error: ...` on stderr naming
    `message`, no traceback, and nothing written."""
    before = everything(cli)
    result = cli(*args, ok=False, input=input)
    assert result.exit_code == 1, result.output + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert message in lines[0], lines[0]
    assert "Traceback" not in result.output + result.stderr
    assert everything(cli) == before
    return lines[0]


# --- dates ---------------------------------------------------------------------------------

OVERFLOW = ["0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00"]
ADD = ["company", "add", "Y1", "--name", "Year one", "--stage", "seed", "--by", "w"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([*ADD, "--at", "0001-01-01"], "effective time 0001-01-01T00:00:00+00:00 is before 1980-01-01"),
        ([*ADD, "--at", "1979-12-31T23:59:59Z"], "is before 1980-01-01; allowed: from 1980-01-01 up to now"),
        (["advance", "JM-0042", "--by", "w", "--at", "0001-01-01"], "is before 1980-01-01"),
        *(([*ADD, "--at", at], "lies outside the calendar in UTC") for at in OVERFLOW),
        *((["advance", "JM-0042", "--by", "w", "--at", at], "outside the calendar") for at in OVERFLOW),
        *((["exit", "JM-0042", "--reason", "failed", "--by", "w", "--at", at], "outside the calendar") for at in OVERFLOW),
        *(([metric, "--as-of", at], "outside the calendar") for metric in ("funnel", "dwell", "throughput") for at in OVERFLOW),
        *(([metric, "--as-of", "0001-01-01"], "the as-of time 0001-01-01T00:00:00+00:00 is before 1980-01-01") for metric in ("funnel", "dwell", "throughput")),
        *(([metric, "--cohort", year], f"cohort {year} is not a calendar year") for metric in ("funnel", "dwell", "throughput") for year in ("99999999999", "-1")),
    ],
    ids=lambda v: " ".join(v) if isinstance(v, list) else None,
)  # fmt: skip
def test_out_of_range_dates_are_one_line_refusals(cli: Run, args: list[str], message: str) -> None:
    refused(cli, *args, message=message)


def test_out_of_range_dates_in_a_csv_are_named_by_line(cli: Run, tmp_path: Path) -> None:
    bad = tmp_path / "dates.csv"
    bad.write_text(
        "company_key,company_name,event,to_stage,effective_at\n"
        "Y1,One,admit,seed,0001-01-01\n"
        + "".join(f"Y{i},Two,admit,seed,{at}\n" for i, at in enumerate(OVERFLOW, start=2)),
        encoding="utf-8",
    )
    before = everything(cli)
    result = cli("import", str(bad), ok=False)
    assert result.exit_code == 1 and "Traceback" not in result.stderr
    assert result.stderr.splitlines()[1:] == [
        "  line 2: effective_at 0001-01-01T00:00:00+00:00 is before 1980-01-01; allowed: from "
        "1980-01-01 up to now",
        f"  line 3: {OVERFLOW[0]!r} lies outside the calendar in UTC (years 1 to 9999); use a "
        "date such as 2024-07-01",
        f"  line 4: {OVERFLOW[1]!r} lies outside the calendar in UTC (years 1 to 9999); use a "
        "date such as 2024-07-01",
    ]
    assert everything(cli) == before


# --- stray bytes, lookalike keys and terminal escapes --------------------------------------

STRAY = "\udcff"  # how Python hands a non-UTF-8 byte of the command line to the program


@pytest.mark.parametrize(
    "args",
    [
        ["company", "add", f"JM-{STRAY}", "--name", "x", "--stage", "seed", "--by", "w"],
        ["company", "add", "JM-1", "--name", f"x{STRAY}", "--stage", "seed", "--by", "w"],
        ["company", "add", "JM-1", "--name", "x", "--stage", "seed", "--by", f"w{STRAY}"],
        ["company", "add", "JM-1", "--name", "x", "--stage", "seed", "--by", "w", "--site", STRAY],
        ["company", "show", f"JM-{STRAY}"],
        ["history", f"JM-{STRAY}"],
        ["advance", f"JM-{STRAY}", "--by", "w"],
        ["advance", "JM-0042", "--by", "w", "--note", f"n{STRAY}"],
        ["company", "list", "--site", STRAY],
        ["funnel", "--sector", STRAY],
    ],
    ids=lambda v: " ".join(v[:2]),
)
def test_a_stray_byte_from_the_terminal_is_a_one_line_refusal(cli: Run, args: list[str]) -> None:
    refused(cli, *args, message="not valid UTF-8 text")


@pytest.mark.parametrize("command", [["init"], ["company", "list"]])
def test_a_stray_byte_in_the_database_url_is_a_one_line_refusal(
    tmp_path: Path, command: list[str]
) -> None:
    result = CliRunner().invoke(app, [*command, "--db", f"sqlite:///{tmp_path}/{STRAY}.db"])
    assert result.exit_code == 1
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("error: the database URL ") and "not valid UTF-8 text" in line
    assert list(tmp_path.iterdir()) == []


def test_a_stray_byte_in_the_importing_actor_is_a_one_line_refusal(
    cli: Run, tmp_path: Path
) -> None:
    path = tmp_path / "one.csv"
    path.write_text(
        "company_key,company_name,event,to_stage,effective_at\nJM-1,A,admit,seed,2024-01-01\n"
    )
    refused(cli, "import", str(path), "--by", f"w{STRAY}", message="not valid UTF-8 text")


@pytest.mark.parametrize(
    ("key", "named"),
    [
        ("RT-1\u200b", "U+200B ZERO WIDTH SPACE, an invisible character"),
        ("RT\u202e1-TR", "U+202E RIGHT-TO-LEFT OVERRIDE, a bidirectional control"),
        ("\ufeffRT-1", "U+FEFF ZERO WIDTH NO-BREAK SPACE, an invisible character"),
        ("RT\x851", "U+0085 NEXT LINE, a line break"),
        ("RT\x9b1", "U+009B CONTROL SEQUENCE INTRODUCER, a control character"),
        ("RT\u20281", "U+2028 LINE SEPARATOR, a line break"),
        ("RT 1", "U+0020 SPACE, a space"),
    ],
)
def test_lookalike_keys_are_refused(cli: Run, key: str, named: str) -> None:
    line = refused(
        cli, "company", "add", key, "--name", "x", "--stage", "seed", "--by", "w",
        message=f"contains {named}; a key is made of letters, digits, -, _, . and /",
    )  # fmt: skip
    if not key.isprintable():
        assert key not in line  # shown escaped, never raw


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--name", "\x1b]0;pwned\x07", "the name '\\x1b]0;pwned\\x07' contains U+001B ESCAPE"),
        ("--name", "ACME\u202egnp.exe", "contains U+202E RIGHT-TO-LEFT OVERRIDE"),
        ("--by", "\x1b[31mwang", "the actor's name '\\x1b[31mwang' contains U+001B ESCAPE"),
        ("--site", "钟祥\n京山", "the site '钟祥\\n京山' contains U+000A LINE FEED, a line break"),
        ("--sector", "bio\u200bmed", "the sector 'bio\\u200bmed' contains U+200B"),
        ("--note", "\x1b[2Jcleared", "the note contains U+001B ESCAPE, a control character"),
    ],
)
def test_names_actors_sites_sectors_and_notes_with_escapes_are_refused(
    cli: Run, option: str, value: str, message: str
) -> None:
    args = {"--name": "x", "--by": "w", "--site": "", "--sector": "", "--note": ""}
    args[option] = value
    flat = [part for pair in args.items() for part in pair]
    line = refused(cli, "company", "add", "JM-1", "--stage", "seed", *flat, message=message)
    assert "\x1b" not in line


def test_stored_escape_sequences_never_reach_the_terminal(
    cli: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Text stored before the rules (here: with the checks switched off) is shown stripped of
    terminal escapes and with hidden characters made visible, in tables, lines and refusals."""
    for name in ("clean_key", "clean_name", "clean_label", "clean_note"):
        monkeypatch.setattr(f"incubator.services.{name}", lambda value, *_, **__: value)
    for name in ("clean_label", "_require_known_site"):  # the checks of `user add`
        monkeypatch.setattr(f"incubator.accounts.{name}", lambda value, *_, **__: value)
    monkeypatch.setattr("incubator.chains.clean_label", lambda value, *_, **__: value)  # actors
    monkeypatch.setattr("incubator.services.require_registered", lambda *_: None)  # the site
    key = "K\x1b[31m-1\u200b"
    cli("company", "add", key, "--name", "\x1b]0;pwned\x07Evil [link=http://x.example]Co[/link]",
        "--stage", "seed", "--site", "钟\u202e祥", "--sector", "[/x]", "--by", "w\x1b[2J",
        "--note", "\x9b31mred\x1b]8;;http://x.example\x1b\\link\x1b]8;;\x1b\\\nsecond line")  # fmt: skip
    cli("user", "add", "li", "--role", "manager", "--site", "钟\u202e祥", "--password-stdin",
        input="a-long-password\n")  # fmt: skip
    cli("exit", key, "--reason", "failed", "--by", "w")
    monkeypatch.undo()
    shown = [
        cli("company", "list", "--all").stdout,
        cli("company", "show", key).stdout,
        cli("history", key).stdout,
        cli("user", "list").stdout,
        cli("advance", key, "--by", "w", ok=False).stderr,  # a refusal quoting the stored key
        cli("company", "list", "--all", "--json").stdout,
        cli("history", key, "--json").stdout,
        cli("company", "list", "--all", "--wide").stdout,
        cli("history", key, "--wide").stdout,
        cli("user", "list", "--wide").stdout,
    ]
    for output in shown:
        for hidden in ("\x1b", "\x07", "\x9b", "\u202e", "\u200b"):
            assert hidden not in output, (hidden, output)
    assert "name: Evil [link=http://x.example]Co[/link]" in shown[1]  # markup shown as typed
    assert "site: 钟\\u202e祥" in shown[1]
    assert "[/x]" in shown[0] and "\\u202e" in shown[0] and "\\u202e" in shown[3]
    assert "K-1\\u200b is in exited" in shown[4]
    sites = {c["key"]: c["site"] for c in json.loads(shown[5])}
    assert sites[key] == "钟\u202e祥"  # JSON escapes it; the data is unchanged
    assert json.loads(shown[6])[0]["note"].startswith("\x9b31mred")


def test_rich_markup_in_a_name_is_shown_as_typed(cli: Run) -> None:
    cli("company", "add", "JM-1", "--name", "[/x][b]荆门", "--stage", "seed", "--by", "w")
    assert "[/x][b]荆门" in cli("company", "list").stdout
    assert "[/x][b]荆门" in cli("company", "show", "JM-1").stdout
    out = cli("funnel", "--site", "[/site]").stdout
    assert "site [/site]" in out


# --- users ---------------------------------------------------------------------------------


def test_a_two_line_site_is_refused_for_a_user(cli: Run) -> None:
    refused(
        cli, "user", "add", "li", "--role", "manager", "--site", "x\ny", "--password-stdin",
        input="a-long-password\n", message="the site 'x\\ny' contains U+000A LINE FEED",
    )  # fmt: skip


def test_a_users_site_must_be_known_and_the_refusal_lists_the_known_sites(cli: Run) -> None:
    cli("company", "add", "JM-2", "--name", "B", "--stage", "seed", "--site", "京山", "--by", "w")
    refused(
        cli, "user", "add", "li", "--role", "manager", "--site", "钟翔", "--password-stdin",
        input="a-long-password\n", message="unknown site '钟翔'; known sites: 京山, 沙洋, 钟祥, 高新区",
    )  # fmt: skip
    cli("user", "add", "li", "--role", "manager", "--site", "钟祥", "--password-stdin",
        input="a-long-password\n")  # fmt: skip


# --- CSV headers ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("company_key,company_name,event,to_stage,effective_at,sitee", "unknown column 'sitee'"),
        ("company_key,company_name,event,to_stage,effective_at,Company_Key", "duplicate column 'company_key'"),
        ("company_key,company_name,event,to_stage,effective_at,to_stage", "duplicate column 'to_stage'"),
    ],
)  # fmt: skip
def test_an_unknown_or_duplicate_csv_column_is_refused_by_name(
    cli: Run, tmp_path: Path, header: str, message: str
) -> None:
    path = tmp_path / "header.csv"
    path.write_text(f"{header}\nJM-9,Nine,admit,seed,2024-01-01,x\n", encoding="utf-8")
    before = everything(cli)
    result = cli("import", str(path), ok=False)
    assert result.exit_code == 1 and "Traceback" not in result.stderr
    assert message in result.stderr.splitlines()[1]
    assert everything(cli) == before


# --- the database refuses --------------------------------------------------------------------


def test_a_read_only_database_refuses_writes_in_one_line(
    cli: Run, url: str, tmp_path: Path
) -> None:
    read_only = f"sqlite:///file:{url.removeprefix('sqlite:///')}?mode=ro&uri=true"
    good = tmp_path / "good.csv"
    good.write_text(
        "company_key,company_name,event,to_stage,effective_at\nJM-7,Seven,admit,seed,2024-01-01\n",
        encoding="utf-8",
    )
    before = everything(cli)
    for args in (
        ["advance", "JM-0042", "--by", "w"],
        ["exit", "JM-0042", "--reason", "failed", "--by", "w"],
        ["company", "add", "JM-1", "--name", "x", "--stage", "seed", "--by", "w"],
        ["import", str(good)],
        ["user", "add", "li", "--role", "viewer", "--password-stdin"],
    ):
        result = cli(*args, ok=False, db=read_only, input="a-long-password\n")
        assert result.exit_code == 1, args
        assert result.stderr.strip().splitlines() == [
            f"error: cannot write to {read_only}: attempt to write a readonly database; "
            "nothing was written"
        ], args
    assert "JM-0042" in cli("company", "list", db=read_only).stdout  # reading still works
    assert everything(cli) == before


def test_a_full_disk_during_import_writes_nothing(
    cli: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    big = tmp_path / "big.csv"
    big.write_text(
        "company_key,company_name,event,to_stage,effective_at,note\n"
        + "".join(f"B-{i},Company {i},admit,seed,2024-01-01,{'长' * 200}\n" for i in range(2000)),
        encoding="utf-8",
    )
    before = everything(cli)
    real = store.make_engine

    def nearly_full(url: str | None = None) -> Any:
        engine = real(url)

        @event.listens_for(engine, "connect")
        def _cap(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            pages = cur.execute("PRAGMA page_count").fetchone()[0]
            cur.execute(f"PRAGMA max_page_count = {pages + 5}")  # "database or disk is full"
            cur.close()

        return engine

    monkeypatch.setattr(store, "make_engine", nearly_full)
    result = cli("import", str(big), ok=False)
    monkeypatch.undo()
    assert result.exit_code == 1 and "Traceback" not in result.stderr
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("error: cannot write to sqlite:///")
    assert line.endswith(": database or disk is full; nothing was written")
    assert everything(cli) == before


def test_init_in_a_directory_that_does_not_exist_is_one_line(tmp_path: Path) -> None:
    target = tmp_path / "no" / "such" / "dir" / "x.db"
    result = CliRunner().invoke(app, ["init", "--db", f"sqlite:///{target}"])
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        f"error: cannot create sqlite:///{target}: the directory {target.parent} does not exist"
    ]
    assert not (tmp_path / "no").exists()
