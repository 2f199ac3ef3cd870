"""The command line through Typer's CliRunner on a temporary SQLite database."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.main import get_command
from typer.testing import CliRunner

from incubator.cli import app
from incubator.store import SCHEMA_HEAD

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "fixtures" / "demo_events.csv"


@pytest.fixture
def cli(tmp_path: Path):  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    runner = CliRunner()

    def run(*args: str, ok: bool = True, input: str | None = None):  # type: ignore[no-untyped-def]
        result = runner.invoke(app, [*args, "--db", url], input=input, catch_exceptions=False)
        if ok:
            assert result.exit_code == 0, result.output + result.stderr
        return result

    assert run("init").stdout.strip().endswith(f"→ {SCHEMA_HEAD}")
    return run


def all_commands() -> list[tuple[str, Any]]:
    """(name, command) for every leaf command, e.g. ("company add", <command>)."""
    found: list[tuple[str, Any]] = []

    def walk(prefix: str, command: Any) -> None:
        if hasattr(command, "commands"):  # a group (Typer vendors its own click)
            for name, sub in command.commands.items():
                walk(f"{prefix} {name}".strip(), sub)
        else:
            found.append((prefix, command))

    walk("", get_command(app))
    return found


@pytest.mark.parametrize(("name", "command"), all_commands(), ids=lambda v: str(v))
def test_every_command_has_help_with_an_example(name: str, command: Any) -> None:
    assert command.help and "Example:" in command.help, name
    example = command.help.split("Example:", 1)[1]
    assert f"incubator {name}" in example, name
    result = CliRunner().invoke(app, [*name.split(), "--help"])
    assert result.exit_code == 0 and "Example" in result.stdout


def test_init_is_idempotent(cli) -> None:  # type: ignore[no-untyped-def]
    assert f"already at {SCHEMA_HEAD}" in cli("init").stdout


def test_commands_on_a_database_without_schema_say_to_run_init(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["company", "list", "--db", f"sqlite:///{tmp_path / 'x.db'}"])
    assert result.exit_code == 1
    assert "has no tracker schema" in result.stderr and "incubator init" in result.stderr


def test_admit_advance_exit_and_the_json_shapes(cli) -> None:  # type: ignore[no-untyped-def]
    cli("company", "add", "JM-0042", "--name", "荆门智造", "--stage", "seed", "--site", "钟祥",
        "--sector", "biomedicine", "--uscc", "91350100M000100Y43", "--by", "wang",
        "--at", "2024-01-01")  # fmt: skip
    cli(
        "advance",
        "JM-0042",
        "--by",
        "wang",
        "--from",
        "seed",
        "--at",
        "2024-03-01",
        "--note",
        "registered",
    )
    shown = json.loads(cli("company", "show", "JM-0042", "--json").stdout)
    assert {"key", "name", "stage", "sector", "site", "uscc", "entered_stage_at"} <= set(shown)
    assert shown["stage"] == "nursery" and shown["entered_stage_at"] == "2024-03-01T00:00:00+00:00"
    listed = json.loads(cli("company", "list", "--json").stdout)
    assert listed == [shown]
    cli("exit", "JM-0042", "--reason", "relocated", "--by", "li", "--at", "2024-04-01")
    history = json.loads(cli("history", "JM-0042", "--json").stdout)
    assert [set(e) for e in history] == [
        {"kind", "from_stage", "to_stage", "effective_at", "recorded_at", "actor", "note", "reason",
         "gate"}
    ] * 3  # fmt: skip
    assert [e["gate"] for e in history] == [None, None, None]  # seed, nursery, exit: ungated
    assert [(e["kind"], e["to_stage"], e["reason"]) for e in history] == [
        ("admit", "seed", None), ("advance", "nursery", None), ("exit", "exited", "relocated"),
    ]  # fmt: skip
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT[\d:.]+\+00:00", history[0]["recorded_at"])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["advance", "JM-0042", "--by", "w"], "JM-0042 is in industrial_park; allowed: exit"),
        (["advance", "JM-0001", "--by", "w"], "no company with key 'JM-0001'"),
        (["exit", "JM-0042", "--reason", "bored", "--by", "w"], "unknown exit reason 'bored'"),
        (
            ["company", "add", "JM-0042", "--name", "x", "--stage", "seed", "--by", "w"],
            "already taken",
        ),
        (
            ["company", "add", "JM-9", "--name", "x", "--stage", "moon", "--by", "w"],
            "unknown stage 'moon'",
        ),
        (
            ["exit", "JM-0042", "--reason", "listed", "--by", "w", "--at", "1999-01-01"],
            "cannot exit JM-0042 (in industrial_park): effective time 1999",
        ),
        (
            [
                "company",
                "add",
                "JM-9",
                "--name",
                "x",
                "--stage",
                "seed",
                "--by",
                "w",
                "--uscc",
                "123",
            ],
            "USCC",
        ),
    ],
)
def test_refusals_are_one_line_on_stderr_and_write_nothing(
    cli, args: list[str], message: str
) -> None:  # type: ignore[no-untyped-def]
    cli(
        "company",
        "add",
        "JM-0042",
        "--name",
        "Top",
        "--stage",
        "industrial_park",
        "--by",
        "w",
        "--at",
        "2024-01-01",
        "--override",
        "admitted at the top without figures",
    )
    before = cli("export", "-").stdout
    result = cli(*args, ok=False)
    assert result.exit_code == 1
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    assert cli("export", "-").stdout == before


def test_a_stale_from_is_a_conflict_with_its_own_exit_code(cli) -> None:  # type: ignore[no-untyped-def]
    cli(
        "company",
        "add",
        "JM-1",
        "--name",
        "A",
        "--stage",
        "seed",
        "--by",
        "w",
        "--at",
        "2024-01-01",
    )
    cli("advance", "JM-1", "--by", "w", "--from", "seed")
    result = cli("advance", "JM-1", "--by", "w", "--from", "seed", ok=False)
    assert result.exit_code == 3 and "conflict: JM-1 is no longer in seed" in result.stderr


def test_exit_without_a_reason_is_a_usage_error(cli) -> None:  # type: ignore[no-untyped-def]
    cli("company", "add", "JM-1", "--name", "A", "--stage", "seed", "--by", "w")
    result = cli("exit", "JM-1", "--by", "w", ok=False)
    assert result.exit_code == 2 and "--reason" in result.stderr


def test_export_import_export_round_trip(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    cli("import", str(DEMO))
    first = tmp_path / "first.csv"
    cli("export", str(first))
    second_db = f"sqlite:///{tmp_path / 'second.db'}"
    runner = CliRunner()
    assert runner.invoke(app, ["init", "--db", second_db]).exit_code == 0
    assert runner.invoke(app, ["import", str(first), "--db", second_db]).exit_code == 0
    second = tmp_path / "second.csv"
    assert runner.invoke(app, ["export", str(second), "--db", second_db]).exit_code == 0

    def business(path: Path) -> list[list[str]]:
        return [line.split(",")[:12] for line in path.read_text(encoding="utf-8").splitlines()]

    assert business(first) == business(second)
    assert first.read_text(encoding="utf-8") != second.read_text(encoding="utf-8")  # new hashes


def test_a_rejected_import_lists_every_bad_line(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "company_key,company_name,event,from_stage,to_stage,effective_at\n"
        "JM-1,,admit,,seed,2024-01-01\n"
        "JM-2,B,admit,,seed,not-a-date\n",
        encoding="utf-8",
    )
    result = cli("import", str(bad), ok=False)
    assert result.exit_code == 1
    assert "2 bad rows" in result.stderr
    assert "line 2: company_name is required" in result.stderr
    assert "line 3: cannot read 'not-a-date'" in result.stderr
    assert json.loads(cli("company", "list", "--json").stdout) == []


def test_an_import_that_raced_an_advance_is_a_one_line_conflict_with_exit_code_3(
    cli,  # type: ignore[no-untyped-def]
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from incubator import eventlog

    cli(
        "company",
        "add",
        "JM-1",
        "--name",
        "A",
        "--stage",
        "seed",
        "--by",
        "w",
        "--at",
        "2024-01-01",
    )
    more = tmp_path / "more.csv"
    more.write_text(
        "company_key,company_name,event,to_stage,effective_at\n"
        "JM-1,,advance,nursery,2024-03-01\n"
        "JM-2,B,admit,seed,2024-01-01\n",
        encoding="utf-8",
    )
    chain = eventlog._chain

    def chain_then_advance(*args: Any, **kwargs: Any) -> Any:
        plan = chain(*args, **kwargs)
        cli("advance", "JM-1", "--by", "someone else")  # between the check and the write
        return plan

    monkeypatch.setattr(eventlog, "_chain", chain_then_advance)
    result = cli("import", str(more), ok=False)
    assert result.exit_code == 3
    assert result.stderr.splitlines() == [
        f"error: conflict: JM-1 changed while {more} was being imported; nothing was imported; "
        "import the file again"
    ]
    assert [c["key"] for c in json.loads(cli("company", "list", "--json").stdout)] == ["JM-1"]


def test_a_file_that_is_not_utf8_is_refused(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "gbk.csv"
    bad.write_bytes(
        "company_key,company_name,event,to_stage,effective_at\nJM-1,荆门,admit,seed,2024-01-01\n".encode(
            "gbk"
        )
    )
    result = cli("import", str(bad), ok=False)
    assert result.exit_code == 1 and "not UTF-8" in result.stderr


def test_demo_loads_once_and_audit_verifies(cli) -> None:  # type: ignore[no-untyped-def]
    out = cli("demo").stdout
    assert re.search(r"loaded \d+ companies", out)
    assert cli("demo", ok=False).exit_code == 1
    verified = cli("audit", "verify").stdout
    assert re.fullmatch(
        r"OK: \d+ events in \d+ companies verified \(with \d+ company records, the company rows, "
        r"the spells and the evidence tables\)\n",
        verified,
    )


def test_company_set_records_a_profile_change(cli) -> None:  # type: ignore[no-untyped-def]
    cli("company", "add", "JM-0042", "--name", "荆门智造", "--stage", "seed", "--site", "钟祥",
        "--by", "wang")  # fmt: skip
    out = cli("company", "set", "JM-0042", "--site", "京山", "--sector", "organic food",
              "--uscc", "91350100M000100Y43", "--by", "wang", "--note", "moved").stdout  # fmt: skip
    assert out == (
        "changed JM-0042: 荆门智造, site 京山, sector organic food, USCC 91350100M000100Y43, "
        "founded —\n"
    )
    shown = json.loads(cli("company", "show", "JM-0042", "--json").stdout)
    assert (shown["site"], shown["sector"], shown["uscc"]) == (
        "京山", "organic food", "91350100M000100Y43"
    )  # fmt: skip
    assert json.loads(cli("company", "set", "JM-0042", "--name", "荆门", "--by", "wang",
                          "--json").stdout)["name"] == "荆门"  # fmt: skip
    same = cli("company", "set", "JM-0042", "--site", "京山", "--by", "wang", ok=False)
    assert same.exit_code == 1
    assert same.stderr == (
        "error: cannot change JM-0042: it has these values already; nothing to record\n"
    )
    assert cli("audit", "verify").stdout.startswith("OK: 1 events in 1 companies verified")


def test_audit_checkpoint_and_verify_against_it(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    cli("demo")
    checkpoint = tmp_path / "audit.json"
    out = cli("audit", "checkpoint", "--out", str(checkpoint)).stdout
    assert re.fullmatch(rf"wrote {re.escape(str(checkpoint))}: \d+ events of 300 companies\n", out)
    assert json.loads(checkpoint.read_text())["statement"]["companies"] == 300
    again = cli("audit", "checkpoint", "--out", str(checkpoint), ok=False)
    assert again.exit_code == 1 and "exists already; add --force" in again.stderr
    cli("audit", "checkpoint", "--out", str(checkpoint), "--force")
    onto_db = cli("audit", "checkpoint", "--out", str(tmp_path / "cli.db"), "--force", ok=False)
    assert onto_db.exit_code == 1 and "it is the database" in onto_db.stderr
    cli("advance", "JM-0001", "--by", "wang", "--override", "the demo data has no evidence")
    verified = cli("audit", "verify", "--checkpoint", str(checkpoint)).stdout
    assert "(300 companies) holds" in verified
    # someone with write access deletes a company outright
    import sqlite3

    database = tmp_path / "cli.db"
    raw = sqlite3.connect(database)
    with raw:
        for trigger in ("stage_event_no_delete", "company_fact_no_delete"):
            raw.execute(f"DROP TRIGGER {trigger}")
        for table in ("spell", "company_fact", "stage_event"):
            raw.execute(f"DELETE FROM {table} WHERE company_id = 7")
        raw.execute("DELETE FROM company WHERE id = 7")
    raw.close()
    assert cli("audit", "verify").exit_code == 0  # consistent without the anchor
    failed = cli("audit", "verify", "--checkpoint", str(checkpoint), ok=False)
    assert failed.exit_code == 1
    assert re.fullmatch(
        r"error: FAILED: JM-0007: is in the checkpoint of \S+ \(with \d+ events\) but missing "
        r"from the database \(deleted outside the tracker\)\n",
        failed.stderr,
    )
    no_file = cli("audit", "verify", "--checkpoint", str(tmp_path / "none.json"), ok=False)
    assert no_file.exit_code == 1 and no_file.stderr.startswith("error: cannot read")


def test_a_write_without_the_audit_key_is_refused_in_one_line(  # type: ignore[no-untyped-def]
    cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INCUBATOR_AUDIT_KEY", "kept-in-the-vault")
    cli("company", "add", "JM-0042", "--name", "x", "--stage", "seed", "--by", "wang")
    monkeypatch.delenv("INCUBATOR_AUDIT_KEY")
    refused = cli("advance", "JM-0042", "--by", "wang", ok=False)
    assert (refused.exit_code, refused.stderr) == (
        1,
        "error: this database's audit chain is keyed (INCUBATOR_AUDIT_KEY); set the same key "
        "to write\n",
    )
    unverified = cli("audit", "verify", ok=False)
    assert unverified.exit_code == 1
    assert unverified.stderr.startswith(
        "error: cannot verify: this database's audit chain is keyed"
    )


def test_users_from_the_command_line(cli) -> None:  # type: ignore[no-untyped-def]
    cli("company", "add", "JM-1", "--name", "A", "--stage", "seed", "--site", "钟祥", "--by", "w")
    out = cli("user", "add", "li.na", "--role", "manager", "--site", "钟祥", "--password-stdin",
              input="a-long-password\n").stdout  # fmt: skip
    assert "created manager li.na at 钟祥" in out
    short = cli(
        "user", "add", "wu", "--role", "viewer", "--password-stdin", input="short\n", ok=False
    )
    assert short.exit_code == 1 and "at least 10" in short.stderr
    users = json.loads(cli("user", "list", "--json").stdout)
    assert [(u["name"], u["role"], u["site"], u["status"]) for u in users] == [
        ("li.na", "manager", "钟祥", "active")
    ]


def test_help_starts_fast_without_heavy_imports() -> None:
    code = (
        "import sys, incubator.cli; "
        "heavy = [m for m in ('sqlalchemy', 'sqlmodel', 'alembic', 'streamlit', 'pandas', 'numpy') "
        "if m in sys.modules]; print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# --- the README's promises -----------------------------------------------------------------


def test_the_readme_opens_with_make_run_and_make_test_which_the_makefile_has() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    first_commands = re.findall(r"^\s*(make \w+)", readme, flags=re.M)[:2]
    assert first_commands == ["make run", "make test"]
    targets = re.findall(r"^([\w-]+):", (ROOT / "Makefile").read_text(), flags=re.M)
    assert {"run", "test"} <= set(targets)
    assert "make test" in (ROOT / ".ci" / "run").read_text()


def test_every_incubator_command_in_the_readme_exists() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    known = {name for name, _ in all_commands()}
    used = re.findall(r"^\s*(?:\$ )?incubator ((?:[a-z]+)(?: [a-z]+)?)", readme, flags=re.M)
    assert used
    for phrase in used:
        assert phrase in known or phrase.split()[0] in known, phrase


def test_demo_users_leave_existing_accounts_alone(cli) -> None:  # type: ignore[no-untyped-def]
    cli("user", "add", "admin", "--role", "admin", "--password-stdin", input="my-own-password\n")
    out = cli("demo", "--users").stdout
    assert "admin      (exists already; left as it is)" in out
    assert "manager-demo-2026" in out
    assert "jm0073     company-demo-2026  company user of JM-0073" in out
    listed = json.loads(cli("user", "list", "--json").stdout)
    assert [u["name"] for u in listed] == ["admin", "jm0073", "manager", "viewer"]
    assert [u["company"] for u in listed] == [None, "JM-0073", None, None]


def test_read_commands_do_not_create_a_database_file(tmp_path: Path) -> None:
    missing = tmp_path / "missing.db"
    result = CliRunner().invoke(app, ["company", "list", "--db", f"sqlite:///{missing}"])
    assert result.exit_code == 1 and "run `incubator init`" in result.stderr
    assert not missing.exists()
